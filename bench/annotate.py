"""Annotation throughput against a loopback judge that answers after a fixed delay, against a raw aiohttp loop.

    python bench/annotate.py [--pairs 805] [--concurrency 64] [--delay 0.2] [--repeats 3] [--alpaca-eval]

The judge stand-in (its own process, so its CPU is not counted) is an aiohttp server with keep-alive and a
listen backlog of 2048 that answers every chat completion after `delay` seconds with a one-token reply and
top log-probs: the server is never the limit, so the ideal is concurrency / delay judgments a second.

Measured in the same run, on the same server:
- raw loop: `concurrency` aiohttp workers posting the same number of ~3 KB requests and decoding the
  replies, nothing else; the most a Python client can get from this server;
- judgebench: `judgebench annotate` as a new process, cold (empty store) and then cached (same store, same
  files), `repeats` times; the rate is pairs / (cold - cached), so start-up, reading files and writing
  records cancel out and what is left is calling and storing. Also: the first request's delay after the
  process started, and the cached rerun's own work (`counts.seconds`: keys, store, records) and requests.
Prints both rates, each as a share of the ideal, and judgebench / raw loop; asserts nothing.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def serve(port_queue, delay, first_request):
    """The judge stand-in; writes the wall time of the first request after each reset into first_request."""
    from aiohttp import web
    from servers import _answer, free_port

    body = json.dumps(_answer("m")).encode()

    async def handle(request):
        await request.read()
        if first_request.value == 0.0:
            first_request.value = time.time()
        await asyncio.sleep(delay)
        return web.Response(body=body, content_type="application/json")

    async def main():
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=2048).start()
        port_queue.put(f"http://127.0.0.1:{port}/v1")
        await asyncio.Event().wait()

    asyncio.run(main())


async def raw_loop(base_url: str, n: int, concurrency: int, text: str) -> float:
    """n requests over `concurrency` keep-alive connections, replies decoded; seconds taken."""
    import aiohttp

    left = list(range(n))

    async def worker(session):
        while left:
            i = left.pop()
            payload = {
                "model": "m",
                "messages": [{"role": "user", "content": f"{text} {i}"}],
                "max_tokens": 1,
                "temperature": 0.0,
                "logprobs": True,
                "top_logprobs": 20,
            }
            async with session.post(f"{base_url}/chat/completions", json=payload) as resp:
                json.loads(await resp.read())["choices"][0]["logprobs"]["content"][0]["top_logprobs"]

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - t0


def run_judgebench(files, base_url, store, out, concurrency, first_request):
    first_request.value = 0.0
    exe = os.environ.get("JUDGEBENCH_EXE") or str(Path(sys.executable).with_name("judgebench"))
    t0 = time.time()
    subprocess.run(
        [
            exe,
            "annotate",
            "--outputs",
            str(files[0]),
            "--baseline",
            str(files[1]),
            "--base-url",
            base_url,
            "--store",
            str(store),
            "--out",
            str(out),
            "--concurrency",
            str(concurrency),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    wall = time.time() - t0
    manifest = json.loads(out.with_name(out.name.split(".")[0] + ".manifest.json").read_text())
    first = first_request.value - t0 if first_request.value else None
    return wall, first, manifest["counts"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=805)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--store",
        help="a postgresql:// URL to bench instead of a fresh SQLite file (its tables are "
        "emptied before each cold run: use a scratch database)",
    )
    ap.add_argument(
        "--alpaca-eval", action="store_true", help="also time alpaca-eval 0.6.6 (needs .venv-ref)"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    text = "x" * 1400  # ~3 KB prompts with both outputs
    cand = [
        {"instruction": f"Task Q{i}: write", "output": f"{text} candidate {i}", "generator": "cand"}
        for i in range(args.pairs)
    ]
    base = [
        {"instruction": r["instruction"], "output": f"{text} baseline {i}", "generator": "base"}
        for i, r in enumerate(cand)
    ]
    files = (tmp / "cand.json", tmp / "base.json")
    files[0].write_text(json.dumps(cand))
    files[1].write_text(json.dumps(base))

    q = multiprocessing.Queue()
    first_request = multiprocessing.Value("d", 0.0)
    server = multiprocessing.Process(target=serve, args=(q, args.delay, first_request), daemon=True)
    server.start()
    base_url = q.get(timeout=30)
    ideal = args.concurrency / args.delay
    n = args.pairs
    try:
        raw = [asyncio.run(raw_loop(base_url, n, args.concurrency, text * 2)) for _ in range(args.repeats)]
        raw_rate = n / statistics.median(raw)
        print(
            f"raw aiohttp loop: {n} requests in {statistics.median(raw):.3f} s (median of {args.repeats}): "
            f"{raw_rate:.0f}/s = {100 * raw_rate / ideal:.1f}% of ideal {ideal:.0f}/s"
        )
        rates, firsts, cached_requests, in_run, cached_total, first_api = [], [], [], [], [], []
        for i in range(args.repeats):
            store = args.store or tmp / f"s{i}.sqlite"
            if args.store:
                _empty_postgres(args.store)
            cold, first, counts = run_judgebench(
                files, base_url, store, tmp / f"a{i}.json", args.concurrency, first_request
            )
            assert counts["succeeded"] == n, counts
            warm, _, again = run_judgebench(
                files, base_url, store, tmp / f"b{i}.json", args.concurrency, first_request
            )
            rates.append(n / (cold - warm))
            firsts.append(first)
            in_run.append(counts["succeeded"] / counts["seconds"])
            cached_total.append(again["total_seconds"])
            first_api.append(counts["first_call_after_s"])
            cached_requests.append(again["requests"])
            print(
                f"  run {i + 1}: cold {cold:.2f} s, cached {warm:.2f} s -> {rates[-1]:.0f}/s; first request "
                f"{first:.3f} s after the process started; calling {counts['seconds']:.2f} s "
                f"({in_run[-1]:.0f}/s), CPU {1000 * counts['cpu_seconds'] / n:.2f} ms a judgment"
            )
        rate = statistics.median(rates)
        print(
            f"judgebench annotate: {rate:.0f}/s (cold - cached, median of {args.repeats}) = "
            f"{100 * rate / ideal:.1f}% of ideal; {statistics.median(in_run):.0f}/s = "
            f"{100 * statistics.median(in_run) / ideal:.1f}% inside the run"
        )
        print(
            f"judgebench / raw loop: {rate / raw_rate:.3f} (cold - cached), "
            f"{statistics.median(in_run) / raw_rate:.3f} (inside the run)"
        )
        print(
            f"first request: median {statistics.median(firsts):.3f} s after the process started, "
            f"{statistics.median(first_api):.3f} s after annotate started (imports done)"
        )
        print(
            f"cached rerun of {n}: {max(cached_requests)} requests; the whole annotate call (files, keys, store, "
            f"records): median {statistics.median(cached_total):.3f} s"
        )
        if args.alpaca_eval:
            reference(tmp, files, base_url, args, ideal)
    finally:
        server.terminate()


def _empty_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "DO $$ BEGIN IF to_regclass('judgments') IS NOT NULL THEN "
            "TRUNCATE judgments, leases; END IF; END $$"
        )


def reference(tmp, files, base_url, args, ideal):
    """alpaca-eval 0.6.6's annotator with its OpenAI client config pointed at the same server."""
    py = Path(os.environ.get("JUDGEBENCH_REFERENCE_PYTHON", REPO / ".venv-ref/bin/python"))
    if not py.exists():
        print("alpaca-eval: .venv-ref missing (scripts/setup --test)")
        return
    (tmp / "client.yaml").write_text(f"default:\n  - api_key: sk-local\n    base_url: {base_url}\n")
    code = f"""
import time, json, os, logging
logging.disable(logging.WARNING)
from alpaca_eval.annotators import PairwiseAnnotator
cand = json.load(open({str(files[0])!r})); base = json.load(open({str(files[1])!r}))
t = time.perf_counter()
ann = PairwiseAnnotator(annotators_config="weighted_alpaca_eval_gpt4_turbo", caching_path={str(tmp / "ae_cache.json")!r})
out = ann.annotate_head2head(outputs_1=base, outputs_2=cand)
print(json.dumps({{"seconds": time.perf_counter() - t, "n": sum(o.get("preference") is not None for o in out)}}))
"""
    env = {
        "OPENAI_CLIENT_CONFIG_PATH": str(tmp / "client.yaml"),
        "PATH": "/usr/bin:/bin",
        "OPENAI_MAX_CONCURRENCY": str(args.concurrency),
    }
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print("alpaca-eval failed:", res.stderr[-800:])
        return
    r = json.loads(res.stdout.strip().splitlines()[-1])
    rate = r["n"] / r["seconds"]
    print(
        f"alpaca-eval 0.6.6: {r['n']} judgments in {r['seconds']:.2f} s: {rate:.0f}/s = {100 * rate / ideal:.0f}% "
        "of ideal"
    )


if __name__ == "__main__":
    main()
