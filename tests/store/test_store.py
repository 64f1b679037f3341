"""The SQLite store: group commits through one writer thread, a versioned schema, and stores that cannot be
used (not a database, read-only, full) as one clear StoreError that leaves no lease behind."""

import asyncio
import sqlite3
import subprocess
import threading
import time

import pandas as pd
import pytest
from conftest import judgebench_exe
from servers import FaultInjectingServer, annotate_pair, pair_files

from judgebench.errors import StoreError
from judgebench.store import Judgment, Store
from judgebench.store.sqlite import SQLiteStore


def _j(key, verdict=1.0, raw=None):
    return Judgment(key, "j", "h", "m", "q", "plain", "ok", verdict, None, raw or [], 1)


def _files(tmp_path, n):
    return pair_files(tmp_path, n)


class CountingStore(SQLiteStore):
    transactions = 0

    def _transaction(self, conn, fns):
        type(self).transactions += 1
        return super()._transaction(conn, fns)


def test_results_arriving_together_share_commits_and_each_is_stored(tmp_path):
    store = CountingStore(tmp_path / "s.sqlite")
    CountingStore.transactions = 0

    async def arrive():
        await asyncio.gather(*(store.aput(_j(f"k{i}", i / 100)) for i in range(300)))

    asyncio.run(arrive())
    assert CountingStore.transactions < 300  # grouped: fewer commits than results
    # each caller returned only after its row was committed: a second connection sees all of them
    con = sqlite3.connect(tmp_path / "s.sqlite")
    assert con.execute("SELECT COUNT(*), SUM(verdict) FROM judgments").fetchone() == (
        300,
        pytest.approx(448.5),
    )
    con.close()
    store.close()


def test_a_bad_job_fails_only_its_own_caller(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    bad = Judgment(
        "bad", "j", "h", "m", "q", "plain", "ok", 1.0, None, [], None
    )  # attempts NULL: NOT NULL fails

    async def arrive():
        return await asyncio.gather(
            store.aput(_j("a")), store.aput(bad), store.aput(_j("b")), return_exceptions=True
        )

    results = asyncio.run(arrive())
    assert results[0] is None and results[2] is None and isinstance(results[1], StoreError)
    assert set(store.get_many(["a", "b", "bad"])) == {"a", "b"}
    store.close()


def test_schema_is_versioned_and_a_newer_store_is_refused(tmp_path):
    with Store(tmp_path / "s.sqlite"):
        pass
    con = sqlite3.connect(tmp_path / "s.sqlite")
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    con.execute("UPDATE schema_version SET version = 99")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        Store(tmp_path / "s.sqlite")


def _annotate(tmp_path, store):
    cand, base = _files(tmp_path, 3)
    return subprocess.run(
        [
            judgebench_exe(),
            "annotate",
            "--outputs",
            str(cand),
            "--baseline",
            str(base),
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--store",
            str(store),
            "--out",
            str(tmp_path / "a.json"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )


def test_a_file_that_is_not_a_database_is_one_line_and_exit_4(tmp_path):
    (tmp_path / "notes.sqlite").write_text("these are my notes, not a database\n" * 200)
    res = _annotate(tmp_path, tmp_path / "notes.sqlite")
    assert res.returncode == 4
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "notes.sqlite: not a SQLite database" in res.stderr
    assert (tmp_path / "notes.sqlite").read_text().startswith("these are my notes")  # left as it was


@pytest.mark.parametrize("where", ["/proc/judgebench-store.sqlite", "/proc/judgebench-nowhere/s.sqlite"])
def test_a_store_on_a_read_only_path_is_one_line_and_exit_4(tmp_path, where):
    res = _annotate(tmp_path, where)  # /proc: read-only for every user, root included
    assert res.returncode == 4
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert res.stderr.startswith(f"judgebench: error: {where}: ")
    assert "cannot write here" in res.stderr or "cannot create its folder" in res.stderr


class TinyDisk(SQLiteStore):
    """A store whose database may not grow past a few pages more: SQLite's own 'database or disk is full'."""

    def _writer_connection(self):
        db = super()._writer_connection()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 4}")
        return db


def test_a_full_disk_stops_the_run_with_a_store_error_and_leaves_no_lease(tmp_path):
    from judgebench.annotation.annotate import annotate_pairs, judge_backend
    from judgebench.annotation.pairs import pairs_from_records
    from judgebench.backends import Limits
    from judgebench.judges import load_judge

    n = 120
    cand = [
        {"instruction": f"Task Q{i}: " + "long words " * 60, "output": f"candidate {i}", "generator": "c"}
        for i in range(n)
    ]
    base = {
        r["instruction"]: {"instruction": r["instruction"], "output": "b", "generator": "b"} for r in cand
    }
    pairs = pairs_from_records(cand, base, multi_turn=False)
    spec = load_judge("alpacaeval2")
    store = TinyDisk(tmp_path / "s.sqlite")
    with FaultInjectingServer(lambda m, a: "ok") as server:
        backend, _ = judge_backend(spec, Limits(concurrency=8), base_url=server.base_url)

        async def run():
            try:
                return await annotate_pairs(pairs, spec, backend, store, progress=False)
            finally:
                await backend.close()

        with pytest.raises(StoreError, match="disk is full"):
            asyncio.run(run())
        made = server.total
    store.close()
    with Store(tmp_path / "s.sqlite") as again:
        stored = again.count("ok")
        assert 0 < stored < n and made - stored <= 8 + 8  # stopped soon: at most what was in flight, twice
        assert again.db.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0  # nothing left leased


def test_a_caller_that_gives_up_still_has_its_result_committed_and_the_writer_goes_on(tmp_path):
    """Ctrl-C or a failing sibling cancels a worker while its result waits for the writer: the paid result
    is committed all the same, and the store keeps working (its leases can still be released)."""
    import time

    store = Store(tmp_path / "s.sqlite")
    busy = store._writer.submit(lambda conn: time.sleep(0.3))  # the writer is busy: the next job waits queued

    async def give_up():
        task = asyncio.ensure_future(store.aput(_j("paid")))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(give_up())
    busy.result()
    assert store.try_lease(["next"]) == ["next"]  # the writer is alive
    store.put(_j("after"))
    assert set(store.get_many(["paid", "after"])) == {"paid", "after"}
    store.close()
    with Store(tmp_path / "s.sqlite") as again:
        assert again.db.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0


def test_a_url_of_another_database_is_refused_not_made_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="postgresql://USER@HOST:PORT/DB"):
        Store("mysql://me@db/judgments")
    assert list(tmp_path.iterdir()) == []


def _open_at_once(path, barrier, failures):
    barrier.wait()
    try:
        with Store(str(path)) as s:
            s.count()
    except Exception as err:  # noqa: BLE001 - the test counts any failure
        failures.put(f"{type(err).__name__}: {err}")


def test_processes_opening_a_new_store_at_the_same_moment_all_get_it(tmp_path):
    """Two processes switching a new file to WAL at once: SQLite refuses one at once ("locked") rather
    than waiting; the store retries. Before the retry 5 of 120 such opens failed here."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    failures = ctx.Queue()
    for round_ in range(20):
        barrier = ctx.Barrier(4)
        path = tmp_path / f"s{round_}.sqlite"
        procs = [ctx.Process(target=_open_at_once, args=(path, barrier, failures)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert all(p.exitcode == 0 for p in procs)
    found = [failures.get() for _ in range(failures.qsize())]
    assert not found, found


def test_a_failing_job_runs_once_alone_and_fails_only_its_caller_in_a_group(tmp_path):
    """A job that fails alone is not run again (a locked store would make its caller wait its timeout
    twice); in a group it runs once with the group and once alone, and only its caller gets the error."""

    runs = {"bad": 0}

    def bad(conn):
        runs["bad"] += 1
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(StoreError, match="no such table"):
        store._write(bad)
    assert runs["bad"] == 1

    runs["bad"] = 0
    gate = threading.Event()
    busy = store._writer.submit(lambda conn: gate.wait(10))  # hold the writer so the next jobs queue up
    good_a, failing, good_b = (
        store._writer.submit(store._put_job(store._put_judgment_sql, [_j("a").row()])),
        store._writer.submit(bad),
        store._writer.submit(store._put_job(store._put_judgment_sql, [_j("b").row()])),
    )
    gate.set()
    busy.result()
    assert good_a.result() is None and good_b.result() is None
    assert "no such table" in str(failing.exception())
    assert runs["bad"] == 2  # with the group, then alone
    assert set(store.get_many(["a", "b"])) == {"a", "b"}
    store.close()


def test_generations_arriving_together_share_commits_and_the_loop_never_waits(tmp_path):
    """generate() puts each generation from the event loop without blocking it: generations that finish
    together are committed together (put one at a time, each would be its own transaction)."""
    from judgebench.backends import Limits, build_backend
    from judgebench.generation.generate import Sampling, generate_async

    n = 60
    eval_set = pd.DataFrame({"instruction": [f"Task Q{i}: say ok" for i in range(n)]})
    store = CountingStore(tmp_path / "s.sqlite")
    with FaultInjectingServer(lambda m, a: "ok", delay=0.05) as server:
        backend = build_backend("openai", model="m", base_url=server.base_url, limits=Limits(concurrency=16))

        async def run():
            try:
                CountingStore.transactions = 0
                return await generate_async(eval_set, backend, store, Sampling(max_tokens=8), "g")
            finally:
                await backend.close()

        out, counts = asyncio.run(run())
    assert counts["generated"] == n and out["output"].notna().all()
    assert CountingStore.transactions < n
    assert len(store.get_generations([r[0] for rows in store.iter_generation_rows() for r in rows])) == n
    store.close()


def test_reparsed_verdicts_are_one_commit_and_keep_counts_and_cost(tmp_path):
    store = CountingStore(tmp_path / "s.sqlite")
    store.put_many([_j(f"k{i}", 1.0) for i in range(5)])
    CountingStore.transactions = 0
    store.update_verdicts([(f"k{i}", "failed" if i == 4 else "ok", 2.0, "re-parsed") for i in range(5)])
    assert CountingStore.transactions == 1
    got = store.get_many([f"k{i}" for i in range(5)])
    assert [(g.status, g.verdict, g.reason, g.attempts) for g in got.values()] == [
        ("ok", 2.0, "re-parsed", 1)
    ] * 4 + [("failed", 2.0, "re-parsed", 1)]
    store.close()


class CountingReaper(SQLiteStore):
    looks = 0

    def _dead_owners(self, owners):
        type(self).looks += 1
        return super()._dead_owners(owners)


def test_waiting_on_others_leases_looks_for_dead_holders_only_every_few_seconds(tmp_path):
    """A waiter polls leased_by_others twice a second; asking after every holder's life each time would
    cost a query per holder per poll, so the look is rate-limited (the lease is still read every poll)."""
    with Store(tmp_path / "s.sqlite") as other, CountingReaper(tmp_path / "s.sqlite") as me:
        assert other.try_lease(["k"]) == ["k"]
        CountingReaper.looks = 0
        for _ in range(10):
            assert me.leased_by_others(["k", "x"]) == {"k"}
        assert CountingReaper.looks <= 1
        other.release_all()
        assert me.leased_by_others(["k"]) == set()  # the lease itself is read on every poll


def test_annotate_pairs_keeps_the_first_calls_wall_clock_out_of_its_summary(tmp_path):
    """evaluate and audit write annotate_pairs' summary as it is: it holds counts, not an epoch timestamp;
    the first call's time comes back beside it, for annotate_files' first_call_after_s."""

    from judgebench.annotation.annotate import annotate_pairs, judge_backend
    from judgebench.annotation.pairs import pairs_from_records
    from judgebench.backends import Limits
    from judgebench.judges import load_judge

    cand = [{"instruction": f"Task Q{i}", "output": f"c {i}", "generator": "c"} for i in range(3)]
    base = {
        r["instruction"]: {"instruction": r["instruction"], "output": "b", "generator": "b"} for r in cand
    }
    spec = load_judge("alpacaeval2")
    before = time.time()
    with FaultInjectingServer(lambda m, a: "ok") as server, Store(tmp_path / "s.sqlite") as store:
        backend, _ = judge_backend(spec, Limits(concurrency=2), base_url=server.base_url)

        async def run():
            try:
                pairs = pairs_from_records(cand, base, multi_turn=False)
                return await annotate_pairs(pairs, spec, backend, store, progress=False)
            finally:
                await backend.close()

        made = asyncio.run(run())
        again = asyncio.run(run())  # all cached: no call
        cand_file, base_file = _files(tmp_path, 2)
        files_run = annotate_pair(
            cand_file, base_file, tmp_path / "s2.sqlite", judge=spec, base_url=server.base_url
        )
    assert made.summary["succeeded"] == 3 and "first_call_at" not in made.summary
    assert before <= made.first_call_at <= time.time()
    assert again.summary["cached"] == 3 and again.first_call_at is None
    assert "first_call_at" not in files_run.summary
    assert 0 <= files_run.summary["first_call_after_s"] <= files_run.summary["total_seconds"]


def test_a_postgres_url_s_password_stays_out_of_the_error(tmp_path):
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as caught:
        Store("postgresql://me:hunter2-secret-pw@127.0.0.1:9/judgebench")
    assert "hunter2-secret-pw" not in str(caught.value) and "127.0.0.1" in str(caught.value)


class ImpatientStore(CountingStore):
    """Gives up on a lock after 0.2 s instead of 60 s, so a test can hold the database locked; while `held`
    is set, its writer waits before each transaction (outside it), so jobs queue up behind it."""

    held: threading.Event | None = None

    def _connect(self):
        db = super()._connect()
        db.execute("PRAGMA busy_timeout = 200")
        return db

    def _transaction(self, conn, fns):
        if self.held is not None:
            self.held.wait(10)
        return super()._transaction(conn, fns)


def test_a_locked_store_fails_a_group_once_not_once_per_job(tmp_path):
    """Another program holds a write transaction: the group's commit waits the lock timeout and fails;
    trying each job alone would wait it again per job, so every caller gets the error at once."""
    store = ImpatientStore(tmp_path / "s.sqlite")
    store.held = threading.Event()
    first = store._writer.submit(store._put_job(store._put_judgment_sql, [_j("first").row()]))
    time.sleep(0.1)  # the writer has taken `first` and waits: the next three queue up as one group
    futures = [store._writer.submit(store._put_job(store._put_judgment_sql, [_j(k).row()])) for k in "abc"]
    locker = sqlite3.connect(tmp_path / "s.sqlite", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    ImpatientStore.transactions = 0
    store.held.set()
    errors = [f.exception(timeout=30) for f in [first, *futures]]
    locker.execute("ROLLBACK")
    assert all(isinstance(e, StoreError) and "locked" in str(e) for e in errors), errors
    assert ImpatientStore.transactions == 2  # `first` alone, then a, b and c together: once each
    store.put(_j("later"))  # the lock is gone: the store works again
    assert set(store.get_many(["a", "later"])) == {"later"}
    locker.close()
    store.close()
