"""Judges as data: specs (YAML + Jinja template), protocols that turn a pair into calls, parsers of replies."""

from judgebench.judges.loader import load_judge

__all__ = ["load_judge"]
