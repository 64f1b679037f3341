"""The store: every completed judge call and generation, committed as it arrives.

    Store("judge.sqlite")                               # a file: SQLite (store/sqlite.py)
    Store("postgresql://me@db.lab:5432/judgebench")     # a team's shared store (store/postgres.py)

The contract is store/base.py; importing this package registers both kinds with it.
"""

from judgebench.store import postgres, sqlite  # noqa: F401  (each registers its URL schemes with Store)
from judgebench.store.base import Judgment, Store, call_key, generation_row, is_postgres_url
from judgebench.store.copy import copy_store

__all__ = ["Judgment", "Store", "call_key", "copy_store", "generation_row", "is_postgres_url"]
