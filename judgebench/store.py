"""The store: every completed judge call, committed the moment it arrives (SQLite, WAL).

A call is keyed by a hash of everything that determines it: the judge (spec, template, parser),
the model, the decoding settings and the rendered messages, which hold the instruction and both
outputs in the order shown. So a rerun, or a second process, pays only for what is missing.

Two processes on one store: before calling, a process takes a lease on the key (a row in
`leases`); others skip leased keys and wait for their results, and a lease whose holder died
(its expiry passed) is taken over. `kill -9` loses at most the calls in flight.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

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
"""


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


class Store:
    def __init__(self, path: str | Path, lease_seconds: float = 600.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        self.db.executescript(SCHEMA)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
        self.lease_seconds = lease_seconds
        self.reap_dead_leases()

    def reap_dead_leases(self) -> int:
        """Drop leases of processes on this host that no longer exist (killed mid-run): their calls
        are up for grabs at once instead of after the lease expires."""
        host = socket.gethostname()
        dead = []
        for (owner,) in self.db.execute("SELECT DISTINCT owner FROM leases").fetchall():
            h, _, rest = owner.partition(":")
            pid = int(rest.split(":")[0]) if rest.split(":")[0].isdigit() else None
            if h == host and pid is not None and pid != os.getpid() and not _alive(pid):
                dead.append(owner)
        with self.db:
            self.db.executemany("DELETE FROM leases WHERE owner = ?", [(o,) for o in dead])
        return len(dead)

    def close(self) -> None:
        self.db.execute("DELETE FROM leases WHERE owner = ?", (self.owner,))
        self.db.close()

    def _select_in(self, sql: str, keys: list[str], *params) -> list[tuple]:
        """Rows of `sql ... key IN (...)` for many keys, in chunks SQLite accepts."""
        rows = []
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows += self.db.execute(f"{sql} IN ({','.join('?' * len(chunk))})", [*params, *chunk]).fetchall()
        return rows

    def get_many(self, keys: list[str]) -> dict[str, Judgment]:
        rows = self._select_in("SELECT key, judge, judge_hash, model, instruction, slot, status, verdict, reason, "
                               "raw, attempts, prompt_tokens, completion_tokens, cost FROM judgments WHERE key", keys)
        return {r[0]: Judgment(*r[:9], json.loads(r[9]), *r[10:]) for r in rows}

    def put(self, j: Judgment) -> None:
        """Commit one judgment now. A failed judgment never replaces a successful one."""
        with self.db:
            self.db.execute(
                "INSERT INTO judgments VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
                "status=excluded.status, verdict=excluded.verdict, reason=excluded.reason, raw=excluded.raw, "
                "attempts=judgments.attempts + excluded.attempts, prompt_tokens=judgments.prompt_tokens + "
                "excluded.prompt_tokens, completion_tokens=judgments.completion_tokens + excluded.completion_tokens, "
                "cost=judgments.cost + excluded.cost, created=excluded.created WHERE judgments.status != 'ok'",
                (j.key, j.judge, j.judge_hash, j.model, j.instruction, j.slot, j.status, j.verdict, j.reason,
                 json.dumps(j.raw, ensure_ascii=False), j.attempts, j.prompt_tokens, j.completion_tokens, j.cost,
                 time.time()))
        # The lease row stays until release_all(): a waiting process checks results first.

    def get_generations(self, keys: list[str]) -> dict[str, dict]:
        cols = ("key", "model", "instruction", "turn", "status", "output", "finish_reason", "reason",
                "prompt_tokens", "completion_tokens")
        rows = self._select_in(f"SELECT {', '.join(cols)} FROM generations WHERE key", keys)
        return {r[0]: dict(zip(cols, r, strict=True)) for r in rows}

    def put_generation(self, g: dict) -> None:
        """Commit one generation now; a failure never replaces an output."""
        with self.db:
            self.db.execute(
                "INSERT INTO generations VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
                "status=excluded.status, output=excluded.output, finish_reason=excluded.finish_reason, "
                "reason=excluded.reason, prompt_tokens=excluded.prompt_tokens, "
                "completion_tokens=excluded.completion_tokens, created=excluded.created "
                "WHERE generations.status != 'ok'",
                (g["key"], g["model"], g["instruction"], g["turn"], g["status"], g.get("output"),
                 g.get("finish_reason"), g.get("reason"), g.get("prompt_tokens", 0), g.get("completion_tokens", 0),
                 time.time()))

    def update_verdict(self, key: str, status: str, verdict: float | None, reason: str | None) -> None:
        """Re-parsed from the stored raw output: no new call, so counts and cost stay."""
        with self.db:
            self.db.execute("UPDATE judgments SET status=?, verdict=?, reason=? WHERE key=?",
                            (status, verdict, reason, key))

    def try_lease(self, keys: list[str]) -> list[str]:
        """Take leases on the keys nobody else holds (or whose holder's lease expired) and nobody has
        judged since this process looked (another process may have finished them and let go)."""
        now = time.time()
        taken = []
        with self.db:
            for key in keys:
                if self.db.execute("SELECT 1 FROM judgments WHERE key = ? AND status = 'ok'", (key,)).fetchone():
                    continue
                cur = self.db.execute(
                    "INSERT INTO leases VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET owner=excluded.owner, "
                    "expires=excluded.expires WHERE leases.expires < ? OR leases.owner = excluded.owner",
                    (key, self.owner, now + self.lease_seconds, now))
                if cur.rowcount:
                    taken.append(key)
        return taken

    def release_all(self) -> None:
        """Give up this process's leases (calls it started but did not finish)."""
        with self.db:
            self.db.execute("DELETE FROM leases WHERE owner = ?", (self.owner,))

    def leased_by_others(self, keys: list[str]) -> set[str]:
        self.reap_dead_leases()
        rows = self._select_in("SELECT key FROM leases WHERE owner != ? AND expires >= ? AND key", keys,
                               self.owner, time.time())
        return {r[0] for r in rows}

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM judgments WHERE status = ?", (status,)).fetchone()[0]
