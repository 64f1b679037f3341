"""The store on a real PostgreSQL server: one store for a team, several processes at once.

The server: JUDGEBENCH_TEST_POSTGRES (a postgresql:// URL; .ci/run starts a throwaway server with
scripts/test-postgres and sets it). Unset: these tests start their own with scripts/test-postgres when
Debian's postgresql is installed, and skip otherwise; in CI (CI set) an unset URL fails them instead.
Each test gets a database of its own. The judge is a loopback stand-in (tests/servers.py): these tests are
about the store, and the stand-in counts every request it receives.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import assert_one_line_error, judgebench_exe, run_cli
from servers import FaultInjectingServer, annotate_argv, pair_files

from judgebench.store import Judgment, Store


def _annotate(cand, base, url, store, out, concurrency=8):
    return [judgebench_exe(), *annotate_argv(cand, base, store, out, base_url=url, concurrency=concurrency)]


def _ok_rows(url):
    import psycopg

    with psycopg.connect(url) as con:
        if con.execute("SELECT to_regclass('judgments')").fetchone()[0] is None:
            return 0
        return con.execute("SELECT COUNT(*) FROM judgments WHERE status = 'ok'").fetchone()[0]


def test_versioned_schema_and_no_lease_left_after_close_on_postgres(pg_url):
    """PostgreSQL's own tables; the lease/put/release contract both stores share is
    test_annotate.py::test_a_call_finished_and_released_by_another_process_is_not_leased_again."""
    import psycopg

    a, b = Store(pg_url), Store(pg_url)
    try:
        assert type(a).__name__ == "PostgresStore"
        assert a.try_lease(["k1"]) == ["k1"] and b.try_lease(["k2"]) == ["k2"]
        with psycopg.connect(pg_url) as con:
            assert con.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 2
    finally:
        a.close()
        b.close()
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        assert con.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0  # closing let go of every lease


def test_a_dead_holders_leases_are_taken_over_at_once(pg_url, tmp_path):
    """A process that dies (kill -9) leaves lease rows behind; its advisory liveness lock goes with its
    connection, so another process takes the keys over without waiting for the leases to expire."""
    code = (
        f"from judgebench.store import Store; import time; s = Store({pg_url!r}); "
        "print(s.try_lease(['a', 'b']), flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "['a', 'b']"
    with Store(pg_url) as s:
        assert s.try_lease(["a", "b", "c"]) == ["c"]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 20  # the server notices the closed connection within moments
        while s.leased_by_others(["a", "b"]) and time.time() < deadline:
            time.sleep(0.1)
        assert s.try_lease(["a", "b"]) == ["a", "b"]


def test_four_processes_one_killed_every_call_once_rerun_free_same_leaderboard_as_sqlite(pg_url, tmp_path):
    from judgebench.leaderboard.board import make_leaderboard

    n, concurrency = 2415, 8
    cand, base = pair_files(tmp_path, n, models=3, pad=True)
    with FaultInjectingServer(lambda m, a: "ok", delay=0.02) as server:
        procs = [
            subprocess.Popen(
                _annotate(cand, base, server.base_url, pg_url, tmp_path / f"a{i}.json", concurrency),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(4)
        ]
        deadline = time.time() + 120
        while _ok_rows(pg_url) < n // 4 and time.time() < deadline:
            time.sleep(0.05)
        assert procs[0].poll() is None, "the run ended before the kill: make it longer"
        os.kill(procs[0].pid, signal.SIGKILL)
        outs = [p.communicate(timeout=300) for p in procs]
        assert procs[0].returncode == -signal.SIGKILL
        assert all(p.returncode == 0 for p in procs[1:]), [o[1][-500:] for o in outs]
        import psycopg

        with psycopg.connect(pg_url) as con:
            rows = con.execute(
                "SELECT COUNT(*), COUNT(DISTINCT key), MAX(attempts), MIN(attempts) "
                "FROM judgments WHERE status = 'ok'"
            ).fetchone()
        assert rows == (n, n, 1, 1)  # every pair judged, once
        # every judge call made once, but those the killed process had in flight (their answers died with it)
        twice = [h for h, c in server.requests.items() if c > 1]
        assert max(server.requests.values()) <= 2 and len(twice) <= concurrency
        assert server.total == n + len(twice)
        before = server.total
        subprocess.run(
            _annotate(cand, base, server.base_url, pg_url, tmp_path / "again.json"),
            check=True,
            capture_output=True,
        )
        assert server.total == before  # the rerun makes no call
        again = json.loads((tmp_path / "again.json").read_text())
        assert len(again) == n and all(r["preference"] is not None for r in again)

    # the same judgments made by one process on a SQLite store: the same preferences and the same leaderboard
    with FaultInjectingServer(lambda m, a: "ok", delay=0.0) as server:
        subprocess.run(
            _annotate(cand, base, server.base_url, tmp_path / "one.sqlite", tmp_path / "one.json", 16),
            check=True,
            capture_output=True,
        )
    single = {r["instruction"]: r["preference"] for r in json.loads((tmp_path / "one.json").read_text())}
    for i in (1, 2, 3):
        shared = {
            r["instruction"]: r["preference"] for r in json.loads((tmp_path / f"a{i}.json").read_text())
        }
        assert shared == single
    board_pg, _ = make_leaderboard([tmp_path / "again.json"], n_boot=0, workers=1, detect_cheating=False)
    board_sqlite, _ = make_leaderboard([tmp_path / "one.json"], n_boot=0, workers=1, detect_cheating=False)
    assert len(board_pg) == 3
    assert board_pg.equals(board_sqlite)


def test_store_copy_between_sqlite_and_postgres_keeps_every_row(pg_url, tmp_path):
    src = tmp_path / "team.sqlite"
    with Store(src) as s:
        s.put_many(
            [
                Judgment(
                    f"k{i}",
                    "j",
                    "h",
                    "m",
                    f"q{i}",
                    "plain",
                    "ok" if i % 5 else "failed",
                    None if i % 5 == 0 else i / 10,
                    None if i % 5 else "timeout",
                    [{"text": str(i)}],
                    1,
                    7,
                    1,
                    0.01,
                )
                for i in range(1, 301)
            ]
        )
        s.put_generation(
            {
                "key": "g1",
                "model": "m",
                "instruction": "q",
                "turn": 1,
                "status": "ok",
                "output": "hello",
                "finish_reason": "stop",
            }
        )
    with Store(pg_url) as pg:  # DST already has k1 judged ok differently: an ok row is never replaced
        pg.put(Judgment("k1", "j", "h", "m", "q1", "plain", "ok", 2.0, None, [], 1))
    res = subprocess.run(
        [judgebench_exe(), "store", "copy", str(src), pg_url], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "copied 300 judgments and 1 generations" in res.stdout
    back = tmp_path / "back.sqlite"
    subprocess.run([judgebench_exe(), "store", "copy", pg_url, str(back)], check=True, capture_output=True)
    with Store(src) as a, Store(pg_url) as b, Store(back) as c:
        keys = [f"k{i}" for i in range(1, 301)]
        x, y, z = a.get_many(keys), b.get_many(keys), c.get_many(keys)
        assert y["k1"].verdict == 2.0 and x["k1"].verdict == 0.1
        del x["k1"], y["k1"], z["k1"]
        assert x == y == z and len(x) == 299
        assert b.count("failed") == 60 and c.get_generations(["g1"])["g1"]["output"] == "hello"


def test_an_unreachable_server_is_one_line_and_exit_4(tmp_path):
    pytest.importorskip("psycopg")
    from servers import free_port

    cand, base = pair_files(tmp_path, 2, models=3, pad=True)
    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/none"
    res = subprocess.run(
        _annotate(cand, base, "http://127.0.0.1:9/v1", url, tmp_path / "a.json"),
        capture_output=True,
        text=True,
    )
    assert res.returncode == 4
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("judgebench: error: postgresql://")  # credentials redacted
    assert "cannot use PostgreSQL" in lines[0] and "secret" not in res.stderr


def test_a_read_only_database_is_one_line_and_exit_4(pg_url, tmp_path):
    import psycopg

    with Store(pg_url):  # the tables exist; from now on nothing may be written
        pass
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"ALTER DATABASE {pg_url.rsplit('/', 1)[1]} SET default_transaction_read_only = on")
    cand, base = pair_files(tmp_path, 2, models=3, pad=True)
    with FaultInjectingServer(lambda m, a: "ok") as server:
        res = subprocess.run(
            _annotate(cand, base, server.base_url, pg_url, tmp_path / "a.json"),
            capture_output=True,
            text=True,
        )
        assert server.total == 0  # no call is paid for when its result could not be kept
    assert res.returncode == 4
    assert res.stderr.strip().count("\n") == 0 and "cannot write" in res.stderr, res.stderr


def _dump(url):
    """Every table of the database's public schema with its columns and rows: what must stay untouched."""
    import psycopg

    with psycopg.connect(url) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            )
        ]
        return {
            t: (
                con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    (t,),
                ).fetchall(),
                con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall(),
            )
            for t in tables
        }


@pytest.mark.parametrize(
    "schema",
    [
        ["CREATE TABLE notes (id INTEGER, body TEXT)", "INSERT INTO notes VALUES (1, 'precious')"],
        ["CREATE TABLE judgments (id INTEGER, body TEXT)", "INSERT INTO judgments VALUES (1, 'precious')"],
        [  # judgebench's own tables next to another application's
            "CREATE TABLE schema_version (version INTEGER NOT NULL)",
            "INSERT INTO schema_version VALUES (1)",
            "CREATE TABLE invoices (id INTEGER, total NUMERIC)",
        ],
    ],
)
def test_a_foreign_postgres_schema_is_refused_untouched(pg_url, tmp_path, capsys, schema):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as con:
        for statement in schema:
            con.execute(statement)
    before = _dump(pg_url)
    cand, base = pair_files(tmp_path, 2, models=3, pad=True)
    code, _, err = run_cli(
        annotate_argv(cand, base, pg_url, tmp_path / "a.json", extra=("--offline",)), capsys
    )
    assert_one_line_error(code, err, codes=(4,), names="another program's PostgreSQL schema")
    assert _dump(pg_url) == before
    assert not (tmp_path / "a.json").exists()
