"""Benchmarks: eval sets and what each benchmark declares."""
