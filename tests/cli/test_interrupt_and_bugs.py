"""Ctrl-C and bugs at the CLI's boundary.

- SIGINT during `annotate` against a slow priced judge (the OpenAI stand-in, each answer delayed): exit 130,
  the judgments that came back before it are in the store, and the rerun pays only for the rest.
- A bug (an exception no check foresaw): exit 70, one line without a traceback, or the traceback with
  --debug; the API key never appears in either.
"""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from conftest import judgebench_exe, run_cli
from openai_standin import OpenAIStandIn

N_PAIRS = 24
KEY = "sk-judgebench-test-0123456789abcdefghijklmnop"


class SlowStandIn(OpenAIStandIn):
    """Each chat answer after `delay` seconds; `answered` counts the answers sent."""

    def __init__(self, delay: float):
        super().__init__({"gpt-4-1106-preview": (10.0, 30.0)})
        self.delay, self.answered = delay, 0

    async def _chat(self, request):
        body = await request.json()
        await asyncio.sleep(self.delay)
        self.chat_requests += 1
        response = self._answer(body)
        self.answered += 1
        from aiohttp import web

        return web.json_response(response)


def _pair_files(tmp_path):
    for name, text in (("cand", "A careful answer to {}."), ("base", "{}? Yes.")):
        rows = [
            {"instruction": f"Question {i}", "output": text.format(f"question {i}"), "generator": name}
            for i in range(N_PAIRS)
        ]
        (tmp_path / f"{name}.json").write_text(json.dumps(rows))


def _annotate(tmp_path, standin, **popen):
    cmd = [
        judgebench_exe(),
        "annotate",
        "--outputs", str(tmp_path / "cand.json"),
        "--baseline", str(tmp_path / "base.json"),
        "--judge", "alpacaeval2",
        "--base-url", standin.base_url,
        "--store", str(tmp_path / "s.sqlite"),
        "--concurrency", "2",
        "--no-progress",
        "--out", str(tmp_path / "out.json"),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"OPENAI_API_KEY": KEY}
    # A child inherits an ignored SIGINT, and Python then leaves it ignored: in two full runs something earlier in
    # this process had left it so, and the interrupted run went on to the end (exit 0). Re-installing Python's
    # handler here gives the child a terminal's Ctrl-C, whatever the test process inherited or was changed to.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def _stored_judgments(store) -> int:
    with sqlite3.connect(store) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        table = next(t for t in tables if "judg" in t or "call" in t or "completion" in t)
        return db.execute(f"select count(*) from {table}").fetchone()[0]


def test_sigint_exits_130_and_keeps_the_calls_made(tmp_path):
    _pair_files(tmp_path)
    with SlowStandIn(delay=0.25) as standin:
        proc = _annotate(tmp_path, standin)
        deadline = time.monotonic() + 120
        while standin.answered < 6 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert standin.answered >= 6, proc.communicate()
        time.sleep(0.3)  # the answers sent are received and stored
        answered = standin.answered
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "Traceback" not in err, err
        assert not (tmp_path / "out.json").exists()  # no partial annotations file pretending to be whole
        kept = _stored_judgments(tmp_path / "s.sqlite")
        assert answered - 2 <= kept <= standin.answered < N_PAIRS, (answered, kept)  # 2 in flight at most

        rerun = _annotate(tmp_path, standin)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        summary = out.strip().splitlines()[-1]
        assert (
            f"{N_PAIRS} pairs, {N_PAIRS} judge calls: {kept} cached, {N_PAIRS - kept} made, 0 failed" in out
        ), out
        assert len(json.loads((tmp_path / "out.json").read_text())) == N_PAIRS, summary


def test_a_bug_exits_70_one_line_and_the_key_never_shows(tmp_path, capsys, monkeypatch):
    import judgebench.annotation.annotate as annotate

    def buggy(config):  # a bug deep inside, whose message happens to quote the request's headers
        raise RuntimeError(f"unexpected None while building headers {{'Authorization': 'Bearer {KEY}'}}")

    monkeypatch.setattr(annotate, "annotate_files", buggy)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    _pair_files(tmp_path)
    out = tmp_path / "out.json"
    argv = [
        "annotate", "--outputs", str(tmp_path / "cand.json"), "--baseline", str(tmp_path / "base.json"),
        "--store", str(tmp_path / "s.sqlite"), "--no-progress", "--out", str(out),
    ]  # fmt: skip
    code, _, err = run_cli(argv, capsys)
    assert code == 70, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("judgebench: internal error: RuntimeError: "), err
    assert "this is a bug" in lines[0] and "--debug" in lines[0]
    assert KEY not in err and "[REDACTED]" in err and "Traceback" not in err
    assert not out.exists()

    code, _, err = run_cli(["--debug", *argv], capsys)
    assert code == 70, err
    assert "Traceback (most recent call last)" in err and "in buggy" in err, err
    assert KEY not in err, err  # the traceback quotes the message too
    assert err.strip().splitlines()[-1].startswith("judgebench: internal error: RuntimeError: ")
    assert not out.exists()


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_a_users_error_with_debug_shows_its_traceback_without_the_key(tmp_path, capsys, monkeypatch, debug):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    bad = tmp_path / "cand.json"
    bad.write_text(json.dumps([{"instruction": "q", "output": f"x {KEY}"}]))  # no generator
    argv = ["annotate", "--outputs", str(bad), "--baseline", str(bad), "--store", str(tmp_path / "s.sqlite"),
            "--out", str(tmp_path / "out.json")]  # fmt: skip
    code, _, err = run_cli([*debug, *argv], capsys)
    assert code == 2 and KEY not in err, err
    assert ("Traceback" in err) == bool(debug), err
    assert (
        err.strip().splitlines()[-1].startswith("judgebench: error: ")
        and "row 0" in err
        and "generator" in err
    )
    assert not (tmp_path / "out.json").exists()
