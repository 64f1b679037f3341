"""The store's contract: every completed judge call, committed the moment it arrives.

Implementations: SQLite (judgebench.store.sqlite, the default) and PostgreSQL (judgebench.store.postgres).

    Store("judge.sqlite")                               # a file: SQLite, WAL
    Store("postgresql://me@db.lab:5432/judgebench")     # a team's shared store (judgebench.store.postgres)

A call is keyed by a hash of everything that determines it: the judge (spec, template, parser),
the model, the decoding settings and the rendered messages, which hold the instruction and both
outputs in the order shown. So a rerun, or a second process, pays only for what is missing.

Several processes on one store: before calling, a process takes a lease on the key (a row in
`leases`); others skip leased keys and wait for their results, and a lease whose holder died is
taken over (at once when the store can tell the holder is gone, else when the lease expires).

Writes go through one writer thread per store with its own connection: whatever is queued when it
wakes is committed in one transaction (a group commit), and each caller waits only until its own
row is committed. So an event loop never blocks on the database, many results cost one commit,
and a result is durable before its caller counts it done: `kill -9` loses only calls in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from judgebench.errors import StoreError

SCHEMA_VERSION = 1
REAP_SECONDS = 3.0  # how often a process waiting on others' leases looks for holders that died

JUDGMENT_COLUMNS = (
    "key",
    "judge",
    "judge_hash",
    "model",
    "instruction",
    "slot",
    "status",
    "verdict",
    "reason",
    "raw",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "created",
)
GENERATION_COLUMNS = (
    "key",
    "model",
    "instruction",
    "turn",
    "status",
    "output",
    "finish_reason",
    "reason",
    "prompt_tokens",
    "completion_tokens",
    "created",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY,
    judge TEXT NOT NULL,
    judge_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    instruction TEXT NOT NULL,
    slot TEXT NOT NULL,            -- which call of the protocol: order shown, turn
    status TEXT NOT NULL,          -- 'ok' or 'failed'
    verdict REAL,                  -- parsed, in the frame of the order shown; NULL when failed
    reason TEXT,                   -- why it failed, or parser notes
    raw TEXT NOT NULL,             -- JSON: the responses of every attempt, for --reparse
    attempts INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS judgments_by_judge ON judgments (judge_hash);
CREATE TABLE IF NOT EXISTS generations (
    key TEXT PRIMARY KEY,          -- hash of model, sampling settings and the messages sent
    model TEXT NOT NULL,
    instruction TEXT NOT NULL,
    turn INTEGER NOT NULL,
    status TEXT NOT NULL,          -- 'ok' or 'failed'
    output TEXT,
    finish_reason TEXT,
    reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
"""

# Upserts shared by both databases (SQLite >= 3.24 and PostgreSQL speak the same ON CONFLICT): a failed
# result never replaces a successful one; a retried call adds its attempts, tokens and cost.
PUT_JUDGMENT = (
    "INSERT INTO judgments VALUES ({p}) ON CONFLICT(key) DO UPDATE SET "
    "status=excluded.status, verdict=excluded.verdict, reason=excluded.reason, raw=excluded.raw, "
    "attempts=judgments.attempts + excluded.attempts, prompt_tokens=judgments.prompt_tokens + "
    "excluded.prompt_tokens, completion_tokens=judgments.completion_tokens + excluded.completion_tokens, "
    "cost=judgments.cost + excluded.cost, created=excluded.created WHERE judgments.status != 'ok'"
)
PUT_GENERATION = (
    "INSERT INTO generations VALUES ({p}) ON CONFLICT(key) DO UPDATE SET "
    "status=excluded.status, output=excluded.output, finish_reason=excluded.finish_reason, "
    "reason=excluded.reason, prompt_tokens=excluded.prompt_tokens, "
    "completion_tokens=excluded.completion_tokens, created=excluded.created WHERE generations.status != 'ok'"
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def call_key(judge_hash: str, model: str, decoding: dict, messages: list[dict]) -> str:
    blob = json.dumps([judge_hash, model, decoding, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def is_postgres_url(location) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


@dataclass
class Judgment:
    key: str
    judge: str
    judge_hash: str
    model: str
    instruction: str
    slot: str
    status: str
    verdict: float | None
    reason: str | None
    raw: list[dict]
    attempts: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def row(self, created: float | None = None) -> tuple:
        return (
            self.key,
            self.judge,
            self.judge_hash,
            self.model,
            self.instruction,
            self.slot,
            self.status,
            self.verdict,
            self.reason,
            json.dumps(self.raw, ensure_ascii=False),
            self.attempts,
            self.prompt_tokens,
            self.completion_tokens,
            self.cost,
            time.time() if created is None else created,
        )

    @classmethod
    def from_row(cls, r) -> Judgment:
        return cls(*r[:9], json.loads(r[9]), *r[10:14])  # type: ignore[call-arg]  # a table row


def generation_row(g: dict) -> tuple:
    return (
        g["key"],
        g["model"],
        g["instruction"],
        g["turn"],
        g["status"],
        g.get("output"),
        g.get("finish_reason"),
        g.get("reason"),
        g.get("prompt_tokens", 0),
        g.get("completion_tokens", 0),
        g.get("created") or time.time(),
    )


class _Writer(threading.Thread):
    """The store's one writing thread and connection. `submit(fn)` queues fn(connection) and returns a
    future; whatever is queued when the thread wakes runs in one transaction and one commit. When a group's
    transaction fails, each of its jobs is tried again alone, so one bad job fails only its own caller; a
    job that fails alone is not run again, nor is a group that failed for the whole database (a locked
    store: each try waits the full lock timeout)."""

    def __init__(self, store: Store):
        super().__init__(name=f"judgebench-store-writer-{id(store):x}", daemon=True)
        self.store = store
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.opened: concurrent.futures.Future = concurrent.futures.Future()

    def submit(self, fn: Callable) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if not self.is_alive():
            fut.set_exception(StoreError(f"{self.store.location}: the store is closed"))
            return fut
        self.jobs.put((fn, fut))
        return fut

    def stop(self) -> None:
        if self.is_alive():
            self.jobs.put(None)
            self.join()

    def run(self) -> None:
        try:
            conn = self.store._writer_connection()
        except BaseException as err:  # noqa: BLE001 - handed to the opener, who raises it
            self.opened.set_exception(err)
            return
        self.opened.set_result(True)
        try:
            while True:
                first = self.jobs.get()
                batch, stopping = [first], first is None
                while not stopping:
                    try:
                        job = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    batch.append(job)
                    stopping = job is None
                # A caller that gave up (cancelled) still has its job run: a paid result is committed anyway.
                jobs = [
                    (fn, fut if fut.set_running_or_notify_cancel() else None)
                    for fn, fut in filter(None, batch)
                ]
                if jobs:
                    self._run_group(conn, jobs)
                if stopping:
                    return
        finally:
            conn.close()

    def _run_group(self, conn, jobs) -> None:
        try:
            results = self.store._transaction(conn, [fn for fn, _ in jobs])
        except Exception as err:  # noqa: BLE001 - handed to the caller whose job it was
            # whose job failed? each alone finds out, unless the database itself failed them all
            if len(jobs) > 1 and not self.store._fails_every_job(err):
                for job in jobs:
                    self._run_group(conn, [job])
                return
            for _, fut in jobs:
                if fut is not None:
                    fut.set_exception(self.store._store_error(err))
            return
        for (_, fut), result in zip(jobs, results, strict=True):
            if fut is not None:
                fut.set_result(result)


class Store:
    """The store contract. `Store(location)` opens a SQLite file, or PostgreSQL for a postgresql:// URL."""

    location: str

    # The kinds of store, by URL scheme ("" = a file path): each subclass registers itself with
    # `class SQLiteStore(Store, schemes=("",))`, so this contract never imports its implementations
    # (the package, judgebench.store, imports them all).
    _kinds: dict[str, type[Store]] = {}

    def __init_subclass__(cls, schemes: tuple[str, ...] = (), **kwargs):
        super().__init_subclass__(**kwargs)
        for scheme in schemes:
            Store._kinds[scheme] = cls

    def __new__(cls, location=None, *args, **kwargs):
        if cls is Store:
            scheme = str(location).split("://")[0] if "://" in str(location) else ""
            if (
                scheme not in Store._kinds
            ):  # not a file name someone meant: say so rather than make "mysql:/x"
                raise StoreError(
                    f"{scheme}://...: not a store this judgebench knows -> "
                    "give a SQLite file path or a postgresql://USER@HOST:PORT/DB URL"
                )
            cls = Store._kinds[scheme]
        return super().__new__(cls)

    def __init__(self, location, lease_seconds: float = 600.0):
        self.location = str(location)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self.lease_seconds = lease_seconds
        # the upserts in this database's placeholders, made once
        self._put_judgment_sql = PUT_JUDGMENT.format(p=self._p(len(JUDGMENT_COLUMNS)))
        self._put_generation_sql = PUT_GENERATION.format(p=self._p(len(GENERATION_COLUMNS)))
        self._reaped_at = -math.inf  # when reap_dead_leases last ran (time.monotonic())
        self._writer = _Writer(self)
        self._writer.start()
        try:
            self._writer.opened.result()
        except Exception as err:
            raise self._store_error(err) from None

    # --- what a database implements -------------------------------------------------------------
    def _writer_connection(self):
        raise NotImplementedError

    def _transaction(self, conn, fns: list[Callable]) -> list:
        """Run fns(conn) in one transaction and commit; roll back and raise on any error."""
        raise NotImplementedError

    def _store_error(self, err: Exception) -> Exception:
        """The database's error as a StoreError with a one-line reason (other errors unchanged)."""
        return err

    def _fails_every_job(self, err: Exception) -> bool:
        """Whether this error is the database's, not one job's (trying each job alone would only wait again)."""
        return False

    def _select(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        raise NotImplementedError

    def _select_in(self, sql: str, keys: list[str], *params) -> list[tuple]:
        raise NotImplementedError

    def _lease_job(self, keys: list[str], now: float) -> Callable:
        raise NotImplementedError

    def _put_job(self, sql: str, rows: list[tuple]) -> Callable:
        raise NotImplementedError

    def _p(self, n: int) -> str:
        raise NotImplementedError

    def _dead_owners(self, owners: list[str]) -> list[str]:
        raise NotImplementedError

    def _iter_select(self, sql: str, batch: int) -> Iterator[list[tuple]]:
        raise NotImplementedError

    # --- the contract ---------------------------------------------------------------------------
    def _write(self, fn: Callable):
        try:
            return self._writer.submit(fn).result()
        except StoreError:
            raise
        except Exception as err:
            raise self._store_error(err) from None

    async def _awrite(self, fn: Callable):
        try:
            return await asyncio.wrap_future(self._writer.submit(fn))
        except StoreError:
            raise
        except Exception as err:
            raise self._store_error(err) from None

    def close(self) -> None:
        try:
            self.release_all()
        except StoreError:
            pass  # a store that cannot be written holds no lease of ours, or its leases expire
        finally:
            self._writer.stop()

    def put(self, j: Judgment) -> None:
        """Commit one judgment now. A failed judgment never replaces a successful one."""
        self.put_judgment_rows([j.row()])
        # The lease row stays until release_all(): a waiting process checks results first.

    async def aput(self, j: Judgment) -> None:
        """put() from an event loop: returns once the row is committed, without blocking the loop."""
        await self._awrite(self._put_job(self._put_judgment_sql, [j.row()]))

    def put_many(self, js: list[Judgment]) -> None:
        """Many judgments in one commit (imports)."""
        self.put_judgment_rows([j.row() for j in js])

    def put_judgment_rows(self, rows: list[tuple]) -> None:
        """Rows of all JUDGMENT_COLUMNS (as iter_judgment_rows gives them) in one commit: for copies."""
        if rows:
            self._write(self._put_job(self._put_judgment_sql, rows))

    def get_many(self, keys: list[str]) -> dict[str, Judgment]:
        rows = self._select_in(f"SELECT {', '.join(JUDGMENT_COLUMNS[:-1])} FROM judgments WHERE key", keys)
        return {r[0]: Judgment.from_row(r) for r in rows}

    def get_generations(self, keys: list[str]) -> dict[str, dict]:
        cols = GENERATION_COLUMNS[:-1]
        rows = self._select_in(f"SELECT {', '.join(cols)} FROM generations WHERE key", keys)
        return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}

    def put_generation(self, g: dict) -> None:
        """Commit one generation now; a failure never replaces an output."""
        self.put_generation_rows([generation_row(g)])

    async def aput_generation(self, g: dict) -> None:
        """put_generation() from an event loop: returns once committed, without blocking the loop."""
        await self._awrite(self._put_job(self._put_generation_sql, [generation_row(g)]))

    def put_generation_rows(self, rows: list[tuple]) -> None:
        """Rows of all GENERATION_COLUMNS in one commit (a dict as put_generation takes it: generation_row)."""
        if rows:
            self._write(self._put_job(self._put_generation_sql, rows))

    def update_verdicts(self, rows: list[tuple[str, str, float | None, str | None]]) -> None:
        """(key, status, verdict, reason) re-parsed from the stored raw outputs, in one commit: no new
        call, so counts and cost stay."""
        if rows:
            self._write(
                self._put_job(
                    f"UPDATE judgments SET status={self._p(1)}, verdict={self._p(1)}, "
                    f"reason={self._p(1)} WHERE key={self._p(1)}",
                    [(status, verdict, reason, key) for key, status, verdict, reason in rows],
                )
            )

    def try_lease(self, keys: list[str]) -> list[str]:
        """Take leases on the keys nobody else holds (or whose holder's lease expired) and nobody has
        judged since this process looked (another process may have finished them and let go)."""
        return self._write(self._lease_job(list(keys), time.time())) if keys else []

    async def alease(self, keys: list[str]) -> list[str]:
        """try_lease() from an event loop, in the writer thread."""
        return await self._awrite(self._lease_job(list(keys), time.time())) if keys else []

    def release_all(self) -> None:
        """Give up this process's leases (calls it started but did not finish)."""
        self._write(self._put_job(f"DELETE FROM leases WHERE owner = {self._p(1)}", [(self.owner,)]))

    def reap_dead_leases(self) -> int:
        """Drop the leases of holders that no longer exist (killed mid-run): their calls are up for
        grabs at once instead of after the lease expires."""
        owners = [
            r[0]
            for r in self._select(
                f"SELECT DISTINCT owner FROM leases WHERE owner != {self._p(1)}", (self.owner,)
            )
        ]
        dead = self._dead_owners(owners)
        self._reaped_at = time.monotonic()
        if dead:
            self._write(self._put_job(f"DELETE FROM leases WHERE owner = {self._p(1)}", [(o,) for o in dead]))
        return len(dead)

    def leased_by_others(self, keys: list[str]) -> set[str]:
        """The keys another live process holds a lease on. Dead holders are looked for at most every
        REAP_SECONDS: a waiter polls this often, and each look asks about every holder."""
        if time.monotonic() - self._reaped_at >= REAP_SECONDS:
            self.reap_dead_leases()
        rows = self._select_in(
            f"SELECT key FROM leases WHERE owner != {self._p(1)} AND expires >= {self._p(1)} AND key",
            keys,
            self.owner,
            time.time(),
        )
        return {r[0] for r in rows}

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self._select("SELECT COUNT(*) FROM judgments")[0][0]
        return self._select(f"SELECT COUNT(*) FROM judgments WHERE status = {self._p(1)}", (status,))[0][0]

    def iter_judgment_rows(self, batch: int = 2000) -> Iterator[list[tuple]]:
        """Every judgment as raw rows (all columns), in batches: for `store copy`."""
        yield from self._iter_select(
            f"SELECT {', '.join(JUDGMENT_COLUMNS)} FROM judgments ORDER BY key", batch
        )

    def iter_generation_rows(self, batch: int = 2000) -> Iterator[list[tuple]]:
        yield from self._iter_select(
            f"SELECT {', '.join(GENERATION_COLUMNS)} FROM generations ORDER BY key", batch
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_version(found: list[tuple], location: str) -> bool:
    """True when the schema_version table still needs its row; raise for a store newer than this code."""
    if found and found[0][0] > SCHEMA_VERSION:
        raise StoreError(
            f"{location}: store schema version {found[0][0]} is newer than this judgebench's "
            f"({SCHEMA_VERSION}) -> upgrade judgebench"
        )
    return not found


# Each table of a store and the columns judgebench reads and writes (both databases).
STORE_COLUMNS = {
    "judgments": set(JUDGMENT_COLUMNS),
    "generations": set(GENERATION_COLUMNS),
    "leases": {"key", "owner", "expires"},
    "schema_version": {"version"},
}


def refuse_foreign_layout(columns: dict[str, set[str]], location: str, what: str, fix: str) -> None:
    """Raise when a database's tables (name -> columns) are another program's: tables judgebench does not
    make, one of its names with other columns, or its tables without a schema_version. An empty database
    passes (it becomes a store); nothing is written either way, so a refused database is left untouched."""
    if not columns:
        return
    others = sorted(set(columns) - set(STORE_COLUMNS))
    wrong = sorted(t for t, cols in columns.items() if t in STORE_COLUMNS and not STORE_COLUMNS[t] <= cols)
    if not (others or wrong or "schema_version" not in columns):
        return
    found = (
        f"tables {others[:3]}"
        if others
        else f"a table {wrong[0]!r} of another layout"
        if wrong
        else "no schema_version table"
    )
    raise StoreError(
        f"{location}: is another program's {what} ({found}), not a judgebench store; it was not modified "
        f"-> {fix}"
    )
