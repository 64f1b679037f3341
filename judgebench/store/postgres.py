"""The store on PostgreSQL, for a team: `--store postgresql://USER@HOST:PORT/DB` (psycopg 3 and its pool).

The same contract as the SQLite store (judgebench.store.sqlite): same tables, same upserts, same leases. What
PostgreSQL adds:
- The schema is created on first use, under an advisory lock so that processes starting together do
  not race, and versioned in `schema_version`.
- Leases: one `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired ... RETURNING` in key order (row locks
  taken in one order: no deadlock between processes), then a second statement drops the keys someone
  has judged meanwhile: it sees every result committed before the previous holder let go of the lease.
- A holder's death is seen at once, on any machine: each store holds a session advisory lock named by
  its owner id for as long as it lives, so a lease whose owner's lock can be taken belongs to a dead
  process (its connection, and with it the lock, went when it died).
Needs `pip install 'judgebench[postgres]'`.
"""

from __future__ import annotations

import hashlib

from judgebench.errors import StoreError
from judgebench.files.redact import redact
from judgebench.store.base import SCHEMA_VERSION, Store, _check_version, refuse_foreign_layout

PG_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS judgments (
        key TEXT PRIMARY KEY, judge TEXT NOT NULL, judge_hash TEXT NOT NULL, model TEXT NOT NULL,
        instruction TEXT NOT NULL, slot TEXT NOT NULL, status TEXT NOT NULL, verdict DOUBLE PRECISION,
        reason TEXT, raw TEXT NOT NULL, attempts INTEGER NOT NULL, prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL, cost DOUBLE PRECISION NOT NULL, created DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS judgments_by_judge ON judgments (judge_hash)",
    """CREATE TABLE IF NOT EXISTS generations (
        key TEXT PRIMARY KEY, model TEXT NOT NULL, instruction TEXT NOT NULL, turn INTEGER NOT NULL,
        status TEXT NOT NULL, output TEXT, finish_reason TEXT, reason TEXT, prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL, created DOUBLE PRECISION NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS leases_by_owner ON leases (owner)",
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
]
SCHEMA_LOCK = 0x6A62_7363_6865_6D61  # "jbschema": serialises first-use schema creation


def _lock_id(owner: str) -> int:
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:8], "big", signed=True)


class PostgresStore(Store, schemes=("postgresql", "postgres")):
    def __init__(self, url: str, lease_seconds: float = 600.0):
        try:
            import psycopg
            import psycopg_pool
        except ImportError as err:
            raise StoreError(
                f"a postgresql:// store needs psycopg ({err.name} is not installed) -> "
                "pip install 'judgebench[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.url = url
        self._alive = self._pool = None
        super().__init__(redact(url), lease_seconds)  # the writer thread connects and creates the schema
        try:
            # the owner's liveness lock, held by this connection until the store closes or the process dies
            self._alive = psycopg.connect(
                url, autocommit=True, connect_timeout=10, application_name="judgebench"
            )
            self._alive.execute("SELECT pg_advisory_lock(%s)", (_lock_id(self.owner),))
            self._pool = psycopg_pool.ConnectionPool(
                url,
                min_size=1,
                max_size=4,
                open=True,
                timeout=30,
                kwargs={"autocommit": True, "connect_timeout": 10, "application_name": "judgebench"},
            )
        except Exception as err:
            self.close()
            raise self._store_error(err) from None
        self.reap_dead_leases()

    def _connect(self):
        return self._psycopg.connect(self.url, connect_timeout=10, application_name="judgebench")

    def _writer_connection(self):
        conn = self._connect()
        try:
            # a store made before: no DDL (it would take locks every team member waits on)
            with conn.transaction():
                columns = self._tables(conn)
                refuse_foreign_layout(
                    columns,
                    self.location,
                    "PostgreSQL schema",
                    "give --store a database of its own (createdb NAME)",
                )
                exists = "schema_version" in columns
                found = conn.execute("SELECT version FROM schema_version").fetchall() if exists else []
            if found and not _check_version(found, self.location) and found[0][0] == SCHEMA_VERSION:
                return conn
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in PG_SCHEMA:
                    conn.execute(statement)
                found = conn.execute("SELECT version FROM schema_version").fetchall()
                if _check_version(found, self.location):
                    conn.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _tables(conn) -> dict[str, set[str]]:
        """The tables (and views) of the schema a store would be made in, with their columns: read before
        anything is created, so that another application's schema is refused untouched."""
        columns: dict[str, set[str]] = {}
        for table, column in conn.execute(
            "SELECT t.table_name, c.column_name FROM information_schema.tables t LEFT JOIN "
            "information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name "
            "WHERE t.table_schema = current_schema()"
        ).fetchall():
            columns.setdefault(table, set()).update([column] if column else [])
        return columns

    def close(self) -> None:
        try:
            if self._pool is not None or self._alive is not None:
                super().close()
            else:
                self._writer.stop()
        finally:
            for c in (self._pool, self._alive):
                if c is not None:
                    c.close()
            self._pool = self._alive = None

    def _transaction(self, conn, fns):
        if conn.broken or conn.closed:
            raise StoreError(f"{self.location}: lost the connection to PostgreSQL")
        with conn.transaction():
            return [fn(conn) for fn in fns]

    def _store_error(self, err):
        psycopg = self._psycopg
        if isinstance(err, StoreError) or not isinstance(err, psycopg.Error | OSError):
            return err
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if isinstance(err, psycopg.OperationalError):
            why = (
                f"cannot use PostgreSQL ({first}) -> is the server running, and the URL (user, host, port, "
                "database) right?"
            )
        elif isinstance(err, psycopg.errors.DiskFull):
            why = "the database server's disk is full -> free space and rerun (stored judgments are kept)"
        elif isinstance(err, psycopg.errors.InsufficientPrivilege | psycopg.errors.ReadOnlySqlTransaction):
            why = f"cannot write ({first}) -> grant this user CREATE and write rights on the database"
        else:
            why = first
        return StoreError(f"{self.location}: {redact(why, extra=self._password())}")

    def _password(self) -> tuple[str, ...]:
        """The URL's password, to keep out of messages even where it appears without the URL around it."""
        from urllib.parse import urlsplit

        try:
            return (urlsplit(self.url).password or "",)
        except ValueError:
            return ()

    def _p(self, n: int) -> str:
        return ",".join(["%s"] * n)

    def _select(self, sql, params=()):
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except self._psycopg.Error as err:
            raise self._store_error(err) from None

    def _select_in(self, sql, keys, *params):
        return self._select(f"{sql} = ANY(%s)", [*params, list(keys)]) if keys else []

    def _iter_select(self, sql, batch):
        with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(name="judgebench_copy")
            cur.execute(sql)
            while rows := cur.fetchmany(batch):
                yield rows

    def _put_job(self, sql, rows):
        def job(conn):
            with conn.cursor() as cur:
                cur.executemany(sql, rows)

        return job

    def _lease_job(self, keys, now):
        owner, expires, wanted = self.owner, now + self.lease_seconds, list(dict.fromkeys(keys))
        keys = sorted(wanted)

        def job(conn):
            taken = [
                r[0]
                for r in conn.execute(
                    "INSERT INTO leases (key, owner, expires) SELECT k, %s, %s FROM unnest(%s::text[]) AS k ORDER BY k "
                    "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires = excluded.expires "
                    "WHERE leases.expires < %s OR leases.owner = excluded.owner RETURNING key",
                    (owner, expires, keys, now),
                ).fetchall()
            ]
            # a new statement, a new snapshot: results committed before the lease was let go are seen
            done = {
                r[0]
                for r in conn.execute(
                    "SELECT key FROM judgments WHERE status = 'ok' AND key = ANY(%s)", (taken,)
                ).fetchall()
            }
            if done:
                conn.execute("DELETE FROM leases WHERE owner = %s AND key = ANY(%s)", (owner, list(done)))
            mine = set(taken) - done
            return [k for k in wanted if k in mine]

        return job

    def _dead_owners(self, owners):
        dead = []
        with self._pool.connection() as conn:
            for owner in owners:
                lock = _lock_id(owner)
                if conn.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()[0]:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
                    dead.append(owner)
        return dead
