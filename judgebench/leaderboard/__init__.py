"""The leaderboard: AlpacaEval's columns (columns.py) computed from annotations (board.py)."""
