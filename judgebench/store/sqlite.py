"""The store on one SQLite file (the default): WAL mode, one writer thread, leases in a table."""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import time
from pathlib import Path

from judgebench.errors import StoreError
from judgebench.store.base import (
    SCHEMA,
    SCHEMA_VERSION,
    Store,
    _alive,
    _check_version,
    refuse_foreign_layout,
)


class SQLiteStore(Store, schemes=("",)):
    """One SQLite file in WAL mode; synchronous=NORMAL is durable across process crashes (kill -9)."""

    def __init__(self, path: str | Path, lease_seconds: float = 600.0):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"{self.path}: cannot create its folder ({err.strerror or err}) -> check the path "
                "and its permissions"
            ) from None
        refuse_foreign_sqlite(self.path)  # before anything writes to it (WAL mode, tables)
        super().__init__(self.path, lease_seconds)  # the writer thread creates the schema
        try:
            self.db = self._connect()
        except Exception as err:
            self._writer.stop()
            raise self._store_error(err) from None
        self.reap_dead_leases()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        return db

    def _writer_connection(self) -> sqlite3.Connection:
        db = self._connect()
        try:
            self._set_wal(db)
            db.executescript(SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            found = db.execute("SELECT version FROM schema_version").fetchall()
            if _check_version(found, str(self.path)):
                db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _set_wal(db: sqlite3.Connection, tries: int = 8) -> None:
        """WAL mode, retried: two processes opening a new store at once may both hold a shared lock while
        asking to switch, and SQLite answers one of them "locked" at once instead of waiting."""
        for attempt in range(tries):
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                if attempt == tries - 1 or not ("locked" in str(err) or "busy" in str(err)):
                    raise
                time.sleep(0.02 * 2**attempt + random.random() * 0.02)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if hasattr(self, "db"):
                self.db.close()

    def _transaction(self, conn, fns):
        conn.execute("BEGIN IMMEDIATE")
        try:
            results = [fn(conn) for fn in fns]
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return results

    def _store_error(self, err):
        if isinstance(err, StoreError) or not isinstance(err, sqlite3.Error | OSError):
            return err
        text = str(err)
        if "not a database" in text or "malformed" in text:
            why = "not a SQLite database (or a damaged one) -> give a new file name, or the right file"
        elif "readonly" in text or "read-only" in text or "unable to open" in text:
            why = f"cannot write here ({text}) -> use a writable folder, or fix the permissions"
        elif "disk is full" in text or "No space" in text or "full" in text:
            why = "the disk is full -> free space and rerun (judgments already stored are kept)"
        elif "locked" in text or "busy" in text:
            why = (
                f"the database stayed locked ({text}) -> is another program holding it open in a transaction?"
            )
        else:
            why = text
        return StoreError(f"{self.path}: {why}")

    def _fails_every_job(self, err):
        text = str(err)
        return isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text)

    def _p(self, n: int) -> str:
        return ",".join("?" * n)

    def _select(self, sql, params=()):
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as err:
            raise self._store_error(err) from None

    def _select_in(self, sql, keys, *params):
        """Rows of `sql ... key IN (...)` for many keys, in chunks SQLite accepts."""
        rows = []
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            rows += self._select(f"{sql} IN ({','.join('?' * len(chunk))})", [*params, *chunk])
        return rows

    def _iter_select(self, sql, batch):
        cur = self.db.execute(sql)
        while rows := cur.fetchmany(batch):
            yield rows

    def _put_job(self, sql, rows):
        def job(conn):
            conn.executemany(sql, rows)

        return job

    def _lease_job(self, keys, now):
        owner, expires = self.owner, now + self.lease_seconds

        def job(conn):
            done = {
                r[0]
                for i in range(0, len(keys), 500)
                for r in conn.execute(
                    f"SELECT key FROM judgments WHERE status = 'ok' AND key IN ({','.join('?' * len(keys[i : i + 500]))})",
                    keys[i : i + 500],
                )
            }
            taken = []
            for key in keys:
                if key in done:
                    continue
                cur = conn.execute(
                    "INSERT INTO leases VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET owner=excluded.owner, "
                    "expires=excluded.expires WHERE leases.expires < ? OR leases.owner = excluded.owner",
                    (key, owner, expires, now),
                )
                if cur.rowcount:
                    taken.append(key)
            return taken

        return job

    def _dead_owners(self, owners):
        """Owners on this host whose process is gone (an owner is host:pid:nanoseconds)."""
        host, dead = socket.gethostname(), []
        for owner in owners:
            h, _, rest = owner.partition(":")
            pid = rest.split(":")[0]
            if h == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                dead.append(owner)
        return dead


def refuse_foreign_sqlite(path: Path) -> None:
    """Another program's SQLite file given as --store is refused before anything touches it: judgebench
    would otherwise add its tables to it (or fail half-way on a table of the same name)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return
        with open(path, "rb") as f:
            header = f.read(16)
    except OSError as err:
        raise StoreError(
            f"{path}: cannot be read ({err.strerror or err}) -> check the --store path"
        ) from None
    if header != b"SQLite format 3\x00":
        raise StoreError(
            f"{path}: not a SQLite database -> give --store a new file name or a judgebench store"
        )
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if not r[0].startswith("sqlite_")  # SQLite's own (statistics, sequences)
            ]
            columns = {
                t: {r[0] for r in db.execute("SELECT name FROM pragma_table_info(?)", (t,))} for t in tables
            }
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise StoreError(
            f"{path}: is not a readable SQLite database ({err}) -> give --store another file"
        ) from None
    refuse_foreign_layout(columns, str(path), "SQLite database", "give --store a new file name")
