"""Annotation: pairwise judge calls turned into preferences, paid once (cached in the store), with their cost known first."""
