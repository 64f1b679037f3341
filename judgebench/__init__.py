"""judgebench: pairwise LLM-judge evaluation with AlpacaEval-compatible statistics."""

__version__ = "0.1.0"
