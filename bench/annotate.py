"""Annotation throughput against a loopback OpenAI-compatible server that answers after a fixed delay.

    python bench/annotate.py [--pairs 2000] [--concurrency 64] [--delay 0.2] [--skip-reference]

The server (tests/servers.py, in its own process so its CPU is not counted) answers every
request after `delay` seconds with a one-token reply and top log-probs. Prints judgebench's
throughput against the ideal (concurrency / delay), its own CPU per judgment, a fully cached
rerun, and the same figures for alpaca-eval 0.6.6 pointed at the same server; asserts nothing.
"""

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def serve(port_queue, delay):
    from servers import FaultInjectingServer

    with FaultInjectingServer(lambda m, a: "ok", delay=delay) as server:
        port_queue.put(server.base_url)
        while True:
            time.sleep(3600)


def child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_judgebench(files, base_url, store, out, concurrency):
    cpu0, t0 = child_cpu(), time.perf_counter()
    subprocess.run([str(REPO / ".venv/bin/judgebench"), "annotate", "--outputs", str(files[0]), "--baseline",
                    str(files[1]), "--base-url", base_url, "--store", str(store), "--out", str(out),
                    "--concurrency", str(concurrency), "--no-progress"], check=True, capture_output=True)
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    manifest = json.loads(out.with_name(out.name.split(".")[0] + ".manifest.json").read_text())
    return wall, cpu, manifest["counts"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    text = "x" * 1400  # ~3 KB prompts with both outputs
    cand = [{"instruction": f"Task Q{i}: write", "output": f"{text} candidate {i}", "generator": "cand"}
            for i in range(args.pairs)]
    base = [{"instruction": r["instruction"], "output": f"{text} baseline {i}", "generator": "base"}
            for i, r in enumerate(cand)]
    files = (tmp / "cand.json", tmp / "base.json")
    files[0].write_text(json.dumps(cand))
    files[1].write_text(json.dumps(base))

    q = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(q, args.delay), daemon=True)
    server.start()
    base_url = q.get(timeout=30)
    ideal = args.concurrency / args.delay
    try:
        wall, cpu, counts = run_judgebench(files, base_url, tmp / "s.sqlite", tmp / "a.json", args.concurrency)
        rate = counts["succeeded"] / counts["seconds"]
        print(f"judgebench: {counts['succeeded']} judgments in {counts['seconds']:.2f} s of calling "
              f"({wall:.2f} s process): {rate:.0f}/s = {100 * rate / ideal:.0f}% of ideal {ideal:.0f}/s; "
              f"CPU {1000 * counts['cpu_seconds'] / args.pairs:.2f} ms per judgment while calling, "
              f"{1000 * cpu / args.pairs:.2f} ms for the whole process (start-up, files, records included)")
        n = min(805, args.pairs)
        (tmp / "c805.json").write_text(json.dumps(cand[:n]))
        (tmp / "b805.json").write_text(json.dumps(base[:n]))
        wall, cpu, counts = run_judgebench((tmp / "c805.json", tmp / "b805.json"), base_url, tmp / "s.sqlite",
                                           tmp / "a805.json", args.concurrency)
        from judgebench.annotate import annotate_files  # in this process: imports already paid

        t0 = time.perf_counter()
        again = annotate_files(tmp / "c805.json", tmp / "b805.json", "alpacaeval2", tmp / "s.sqlite",
                               base_url=base_url, progress=False)
        api = time.perf_counter() - t0
        print(f"cached rerun of {n}: {counts['requests']} requests, {counts['cached']} cached; "
              f"{api:.2f} s through the Python API (files read, keys, store, records), "
              f"{wall:.2f} s as a new process (of which ~0.65 s importing pandas and aiohttp); "
              f"requests again: {again.summary['requests']}")
        if not args.skip_reference:
            reference(tmp, files, base_url, args, ideal)
    finally:
        server.terminate()


def reference(tmp, files, base_url, args, ideal):
    """alpaca-eval 0.6.6's annotator with its OpenAI client config pointed at the same server."""
    py = REPO / ".venv-ref/bin/python"
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
ann = PairwiseAnnotator(annotators_config="weighted_alpaca_eval_gpt4_turbo", caching_path={str(tmp / 'ae_cache.json')!r})
out = ann.annotate_head2head(outputs_1=base, outputs_2=cand)
print(json.dumps({{"seconds": time.perf_counter() - t, "n": sum(o.get("preference") is not None for o in out)}}))
"""
    env = {"OPENAI_CLIENT_CONFIG_PATH": str(tmp / "client.yaml"), "PATH": "/usr/bin:/bin",
           "OPENAI_MAX_CONCURRENCY": str(args.concurrency)}
    cpu0, t0 = child_cpu(), time.perf_counter()
    res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - t0, child_cpu() - cpu0
    if res.returncode != 0:
        print("alpaca-eval failed:", res.stderr[-800:])
        return
    r = json.loads(res.stdout.strip().splitlines()[-1])
    rate = r["n"] / r["seconds"]
    print(f"alpaca-eval 0.6.6: {r['n']} judgments in {r['seconds']:.2f} s: {rate:.0f}/s = {100 * rate / ideal:.0f}% "
          f"of ideal; CPU {1000 * cpu / args.pairs:.2f} ms per judgment ({wall:.1f} s process)")


if __name__ == "__main__":
    main()
