"""Annotation against loopback servers: faults injected on demand, kill -9, two processes at once."""

import json
import os
import signal
import sqlite3
import subprocess
import time

import numpy as np
import pytest
from conftest import judgebench_exe
from servers import FaultInjectingServer, annotate_argv, annotate_pair, pair_files

from judgebench.annotation.pipeline import CallLimits, KeyAccess

SCRIPT = {  # instruction marker -> what the stand-in server does on attempt 1, 2, ...
    "Q3": ["429"],
    "Q4": ["500", "500"],
    "Q5": ["hang"],
    "Q6": ["garbage"],
    "Q7": ["nologprobs"] * 10,
    "Q8": ["offlabel"] * 10,
    "Q9": ["500"] * 10,
}


def script(marker, attempt):
    plan = SCRIPT.get(marker, [])
    return plan[attempt - 1] if attempt <= len(plan) else "ok"


def judged(tmp_path, cand, base, server, **settings):
    """annotate_pair with alpacaeval2 against `server`, into tmp_path's one store."""
    return annotate_pair(
        cand, base, tmp_path / "s.sqlite", judge="alpacaeval2", base_url=server.base_url, **settings
    )


def test_faults_end_with_every_judgment_done_or_failed_with_a_reason(tmp_path):
    cand, base = pair_files(tmp_path, 12)
    with FaultInjectingServer(script, hang_seconds=5) as server:
        limits = CallLimits(concurrency=4, timeout=1.0, max_retries=2)
        run = judged(tmp_path, cand, base, server, limits=limits)
        by = {r["instruction"].split()[1].rstrip(":"): r for r in run.records}
        assert len(by) == 12
        done = {k for k, r in by.items() if r["preference"] is not None}
        assert done == {f"Q{i}" for i in (1, 2, 3, 4, 5, 6, 10, 11, 12)}
        assert "no log-probs" in by["Q7"]["failure"]
        assert "neither label" in by["Q8"]["failure"]
        assert by["Q9"]["failure"].startswith("backend: ")
        for k in ("Q7", "Q8", "Q9"):
            assert by[k]["preference"] is None  # never a tie
        s = run.summary
        assert (s["succeeded"], s["failed"], s["cached"]) == (9, 3, 0)
        assert sum(s["failed_reasons"].values()) == 3 and s["failed_reasons"]["backend"] == 1
        # requests the server saw: one per transient fault plus the success; parse failures asked 3 times
        seen = server.by_marker
        assert (seen["Q1"], seen["Q3"], seen["Q4"], seen["Q5"], seen["Q6"]) == (1, 2, 3, 2, 2)
        assert (seen["Q7"], seen["Q8"], seen["Q9"]) == (3, 3, 3)
        assert server.retry_after_respected and min(server.retry_after_respected) >= 0.29
        # a rerun pays only for the failed ones, and records them failed again
        before = server.total
        again = judged(tmp_path, cand, base, server, limits=limits)
        assert again.summary["cached"] == 9 and again.summary["failed"] == 3
        assert server.total - before == 3 + 3 + 3


def test_401_stops_the_run_at_once_with_a_clear_message(tmp_path):
    cand, base = pair_files(tmp_path, 40)
    with FaultInjectingServer(lambda m, a: "401") as server:
        res = subprocess.run(
            _annotate_cmd(cand, base, server, tmp_path, concurrency=2),
            capture_output=True,
            text=True,
        )
        assert res.returncode == 3
        assert "401 unauthorised" in res.stderr and "invalid api key" in res.stderr
        assert server.total <= 2
        assert not (tmp_path / "a.json").exists()


def test_a_remote_judge_without_a_key_names_the_offline_choice(tmp_path, monkeypatch):
    cand, base = pair_files(tmp_path, 2)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from judgebench.errors import ConfigError

    with pytest.raises(ConfigError, match="--judge local"):  # a setting to fix (exit 2), before any call
        annotate_pair(cand, base, tmp_path / "s.sqlite", judge="alpacaeval2")


def _rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM judgments WHERE status='ok'").fetchone()
    except sqlite3.OperationalError:  # the annotating process has opened the file but not made its tables yet
        return (0, 0)
    finally:
        con.close()


def _annotate_cmd(cand, base, server, tmp_path, out="a.json", concurrency=4):
    """`judgebench annotate` on `server` into tmp_path's one store."""
    store, out = tmp_path / "s.sqlite", tmp_path / out
    argv = annotate_argv(cand, base, store, out, base_url=server.base_url, concurrency=concurrency)
    return [judgebench_exe(), *argv]


def test_kill_9_loses_only_calls_in_flight_and_the_rerun_makes_only_the_missing_ones(tmp_path):
    n = 200
    cand, base = pair_files(tmp_path, n)
    with FaultInjectingServer(lambda m, a: "ok", delay=0.05) as server:
        proc = subprocess.Popen(
            _annotate_cmd(cand, base, server, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if (tmp_path / "s.sqlite").exists() and _rows(tmp_path / "s.sqlite")[0] >= 40:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        committed, distinct = _rows(tmp_path / "s.sqlite")
        received = server.total
        assert 40 <= committed < n and committed == distinct
        assert received - committed <= 4 + 1  # at most the calls in flight were lost
        subprocess.run(_annotate_cmd(cand, base, server, tmp_path), check=True, capture_output=True)
        assert server.total - received == n - committed  # only the missing calls were made
        assert _rows(tmp_path / "s.sqlite") == (n, n)
        records = json.loads((tmp_path / "a.json").read_text())
        assert len(records) == n and all(r["preference"] is not None for r in records)


def test_two_processes_on_one_store_neither_duplicate_nor_lose_work(tmp_path):
    n = 150
    cand, base = pair_files(tmp_path, n)
    with FaultInjectingServer(lambda m, a: "ok", delay=0.03) as server:
        procs = [
            subprocess.Popen(
                _annotate_cmd(cand, base, server, tmp_path, out=f"a{i}.json"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for i in range(2)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        assert server.total == n  # each call made once, by one of the two
        assert max(server.requests.values()) == 1
        assert _rows(tmp_path / "s.sqlite") == (n, n)
        for i in range(2):
            records = json.loads((tmp_path / f"a{i}.json").read_text())
            assert len(records) == n and all(r["preference"] is not None for r in records)


@pytest.mark.reference
def test_import_alpacaeval_annotations_then_export_offline_and_annotate_for_free(
    tmp_path, alpaca_dir, reference_python, monkeypatch
):
    """Stored GPT-4-Turbo judgments of `claude` go into the store under AlpacaEval's own judge; an
    offline export gives back every stored preference; annotating the same pairs makes no request."""
    import glob
    import gzip

    from judgebench.annotation.importing import import_annotations
    from judgebench.files.records import InputError

    found = glob.glob(
        str(reference_python.parent.parent / "lib" / "python*" / "site-packages" / "alpaca_eval")
    )
    if not found:
        pytest.skip("alpaca-eval not found in the reference environment")
    monkeypatch.setenv("JUDGEBENCH_ALPACA_EVAL_DIR", found[0])
    judge = "alpaca_eval:weighted_alpaca_eval_gpt4_turbo"
    rows = json.loads(gzip.decompress((alpaca_dir / "annotations" / "claude.json.gz").read_bytes()))
    bad = [dict(r) for r in rows[:5]]
    bad[3]["preference"] = 3 - bad[3]["preference"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match=r"rows \[3\]"):
        import_annotations([tmp_path / "bad.json"], judge, tmp_path / "s.sqlite")

    counts = import_annotations([alpaca_dir / "annotations" / "claude.json.gz"], judge, tmp_path / "s.sqlite")
    assert counts == {"imported": 805, "skipped_no_raw_completion": 0, "records": 805}
    (tmp_path / "cand.json").write_text(
        json.dumps(
            [{"instruction": r["instruction"], "output": r["output_2"], "generator": "claude"} for r in rows]
        )
    )
    (tmp_path / "base.json").write_text(
        json.dumps(
            [
                {"instruction": r["instruction"], "output": r["output_1"], "generator": r["generator_1"]}
                for r in rows
            ]
        )
    )
    exported = annotate_pair(
        tmp_path / "cand.json", tmp_path / "base.json", tmp_path / "s.sqlite", judge=judge, offline=True
    )
    assert exported.summary["cached"] == 805
    for mine, theirs in zip(exported.records, rows, strict=True):
        assert mine["preference"] == pytest.approx(theirs["preference"], abs=1e-9)
    with FaultInjectingServer(lambda m, a: "ok") as server:
        run = annotate_pair(
            tmp_path / "cand.json",
            tmp_path / "base.json",
            tmp_path / "s.sqlite",
            judge=judge,
            base_url=server.base_url,
        )
        assert server.total == 0 and run.summary["cached"] == 805


def test_reparse_rederives_verdicts_without_calls(tmp_path, monkeypatch):
    """A parser bug fixed after a run: --reparse re-derives every verdict from the stored raw replies,
    making no call (the judge's identity, and so each call's key, is unchanged)."""
    from judgebench.judges import parsers

    cand, base = pair_files(tmp_path, 6)
    with FaultInjectingServer(lambda m, a: "ok") as server:
        with monkeypatch.context() as m:
            m.setitem(parsers.PARSERS, "logprob_labels", lambda response, **kw: (None, "buggy parser"))
            run = judged(tmp_path, cand, base, server, max_parse_retries=0)
        assert run.summary["failed"] == 6 and server.total == 6
        assert all(r["failure"] == "buggy parser" for r in run.records)
        again = judged(tmp_path, cand, base, server, reparse=True)
        assert again.summary["reparsed"] == 6 and again.summary["cached"] == 6 and server.total == 6
        assert all(r["preference"] is not None and "failure" not in r for r in again.records)


def test_api_key_reaches_the_server_but_never_the_store_records_or_manifest(tmp_path, monkeypatch):
    secret = "sk-test-" + "7" * 24
    monkeypatch.setenv("JB_TEST_KEY", secret)
    cand, base = pair_files(tmp_path, 3)
    with FaultInjectingServer(lambda m, a: "ok") as server:
        run = judged(
            tmp_path,
            cand,
            base,
            server,
            key=KeyAccess(api_key_env="JB_TEST_KEY"),
        )
        assert server.authorization == [f"Bearer {secret}"] * 3
    blob = (
        (tmp_path / "s.sqlite").read_bytes()
        + json.dumps(run.records).encode()
        + json.dumps(run.manifest).encode()
    )
    for wal in tmp_path.glob("s.sqlite-*"):
        blob += wal.read_bytes()
    assert secret.encode() not in blob


def test_requests_per_minute_limit_is_kept():
    """600 a minute with bursts of 10: 10 calls at once, then one every 0.1 s. Checked on when each call
    started, not on the run's wall time (which only a lower bound would make safe on a busy machine)."""
    import asyncio

    from judgebench.backends.base import Backend, CompletionRequest, CompletionResponse, Limits

    starts: list[float] = []

    class Instant(Backend):
        async def _complete(self, request):
            starts.append(time.perf_counter())
            return CompletionResponse("m")

    backend = Instant("x", Limits(concurrency=50, requests_per_minute=600))  # 10/s, bursts of 10
    req = CompletionRequest(({"role": "user", "content": "q"},), max_tokens=1)

    async def go():
        return await asyncio.gather(*(backend.complete(req) for _ in range(30)))

    assert len(asyncio.run(go())) == 30
    after_first = np.sort(starts) - min(starts)
    # call k (from 0) may start no earlier than (k - 9) / 10 s after the first: the bucket refills at 10/s
    earliest = np.maximum(np.arange(30) - 9, 0) / 10
    assert (after_first >= earliest - 0.02).all(), after_first.round(3)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """Where a store lives: a SQLite file, or a fresh database on the PostgreSQL server of
    JUDGEBENCH_TEST_POSTGRES (skipped without it; test_store_postgres.py starts a server of its own)."""
    if request.param == "sqlite":
        return tmp_path / "s.sqlite"
    if not os.environ.get("JUDGEBENCH_TEST_POSTGRES"):
        pytest.skip("JUDGEBENCH_TEST_POSTGRES is not set (.ci/run sets it; scripts/test-postgres starts one)")
    return request.getfixturevalue("pg_url")


def test_a_call_finished_and_released_by_another_process_is_not_leased_again(store_url):
    """The store's contract, the same on SQLite and PostgreSQL. The race behind a once-seen duplicate
    call: process B decided a key was missing, process A then judged it and released its lease; B must
    find the result instead of leasing the key again."""
    from judgebench.store import Judgment, Store

    a, b = Store(store_url), Store(store_url)
    try:
        assert b.get_many(["k1", "k2"]) == {}  # B looks: both missing
        assert a.try_lease(["k1"]) == ["k1"]
        assert b.try_lease(["k1"]) == []  # held by A
        assert b.leased_by_others(["k1", "k2"]) == {"k1"}
        a.put(Judgment("k1", "j", "h", "m", "q", "plain", "ok", 1.7, None, [{"text": "m"}], 1, 10, 1, 0.5))
        a.put(Judgment("k1", "j", "h", "m", "q", "plain", "failed", None, "late", [], 1))  # never replaces ok
        a.release_all()
        assert b.try_lease(["k1", "k2"]) == ["k2"]  # k1 is done: not B's to call
        got = b.get_many(["k1"])["k1"]
        assert (got.status, got.verdict, got.raw, got.cost) == ("ok", 1.7, [{"text": "m"}], 0.5)
        a.put(Judgment("k3", "j", "h", "m", "q", "plain", "failed", None, "timeout", [], 1))
        assert b.try_lease(["k3"]) == ["k3"]  # a failed call may be retried
    finally:
        a.close()
        b.close()
