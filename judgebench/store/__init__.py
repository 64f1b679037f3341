"""The store: every completed judge call and generation, committed as it arrives (SQLite in sqlite.py, PostgreSQL in postgres.py)."""
