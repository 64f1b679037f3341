"""Runs: the jobs that chain the layers (evaluate one checkpoint, a suite of many) and the files they leave."""
