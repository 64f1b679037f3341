"""`judgebench store copy`: one store's rows into another, of either kind."""

from __future__ import annotations

from pathlib import Path

from judgebench.errors import StoreError
from judgebench.store.base import Store, is_postgres_url


def copy_store(src: str | Path, dst: str | Path) -> dict:
    """Every judgment and generation of src into dst (either SQLite or PostgreSQL), merged with what dst
    holds by the store's rule: an ok row is never replaced, a failed one is. Leases are not copied."""
    counts = {"judgments": 0, "generations": 0}
    if str(src) == str(dst):
        raise StoreError(f"store copy: source and destination are the same store ({src})")
    if not is_postgres_url(src) and not Path(src).is_file():
        raise StoreError(f"{src}: no such store file -> check the path")
    with Store(src) as a, Store(dst) as b:
        for rows in a.iter_judgment_rows():
            b.put_judgment_rows(rows)
            counts["judgments"] += len(rows)
        for rows in a.iter_generation_rows():
            b.put_generation_rows(rows)
            counts["generations"] += len(rows)
    return counts
