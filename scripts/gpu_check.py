"""GPU check for the in-process transformers engine, for the day a GPU machine is lent (scripts/gpu_check.sh).

1. Throughput: judgebench's batched engine against plain `model.generate` on the same batches with the
   same (greedy) settings; tokens/s of each, best of `--repeats` alternating runs, and their ratio
   (target: >= 0.95).
2. Judging: AlpacaEval-style pairs judged through the engine with label log-probs (m/M, the judge's
   prompt from prompts/alpacaeval2.jinja when it can be rendered); each label's log-prob is checked
   against a plain forward pass of the same prompt (log-softmax of the last logits, log-sum-exp over
   every id that decodes to the label).

Needs only torch, transformers and this repository: no network, no download. The model is a Llama with
random weights built here (~1B parameters on a GPU), the tokenizer is trained here, the instructions
come from the AlpacaEval eval set if $JUDGEBENCH_DATA has it and are synthesised otherwise. Prints one
table; writes it as JSON to $OUT/gpu_check.json when $OUT is set. Exit status 1 if a check fails.

    python scripts/gpu_check.py            # GPU sizes (~1-2 min on one H200)
    python scripts/gpu_check.py --small    # CPU-sized smoke run of the same checks
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def instructions_and_outputs(n: int) -> list[tuple[str, str]]:
    """(instruction, reference output) pairs: AlpacaEval's if present, else synthesised."""
    data = Path(os.environ.get("JUDGEBENCH_DATA", REPO.parent / "shared" / "data"))
    for path in (
        data / "alpacaeval" / "eval_set.json.gz",
        data / "eval_set.json.gz",
        REPO / ".device" / "eval_set.json.gz",
    ):
        if path.exists():
            rows = json.loads(gzip.decompress(path.read_bytes()))
            return [(r["instruction"], r["output"]) for r in rows[:n]]
    verbs = [
        "Explain",
        "Summarise",
        "Describe",
        "Compare",
        "List the main points of",
        "Write a short poem about",
        "Give three tips on",
        "Argue for and against",
    ]
    topics = [
        "photosynthesis",
        "the French revolution",
        "binary search",
        "sourdough baking",
        "plate tectonics",
        "the stock market",
        "learning a language",
        "black holes",
        "remote work",
        "the water cycle",
        "vaccines",
        "chess openings",
        "solar panels",
        "medieval castles",
        "sleep",
        "compilers",
    ]
    pairs = []
    for k in range(n):
        verb, topic = verbs[k % len(verbs)], topics[(k // len(verbs)) % len(topics)]
        pairs.append(
            (
                f"{verb} {topic} in {2 + k % 5} sentences.",
                f"{topic.capitalize()} is a broad subject; here are {2 + k % 5} points about it.",
            )
        )
    return pairs


def judge_messages(instruction: str, first: str, second: str) -> tuple[list[dict], str]:
    """The alpacaeval2 judge's messages (rendered by judgebench) or, where its dependencies are missing on
    the lent machine, a minimal prompt of the same form."""
    try:
        from judgebench.judges import load_judge

        return load_judge("alpacaeval2").render(
            instruction=instruction, output_first=first, output_second=second
        ), "prompts/alpacaeval2"
    except ImportError:
        return [
            {
                "role": "user",
                "content": f"Request: {instruction}\n\nAnswer m: {first}\n\nAnswer M: {second}\n\n"
                "Which answer is better? Reply with m or M only.",
            }
        ], "inline"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="CPU-sized model and batches")
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=8)
    args = ap.parse_args()

    import torch
    from random_llama import random_llama, train_tokenizer

    from judgebench.backends import CompletionRequest, make_backend
    from judgebench.judges.parsers import logprob_labels

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    small = args.small or device == "cpu"
    n, batch, max_new = (32, 8, 16) if small else (256, 64, 128)
    size = (
        dict(hidden=64, layers=2, heads=4, intermediate=128)
        if small
        else dict(hidden=2048, layers=16, heads=16, intermediate=5632)
    )
    dtype = torch.float32 if device == "cpu" else torch.bfloat16
    t_start = time.perf_counter()
    rows = instructions_and_outputs(max(n, args.pairs * 2))
    instructions = [i for i, _ in rows[:n]]
    tok = train_tokenizer([i + " " + o for i, o in rows], vocab_size=1500 if small else 8000)
    model = random_llama(tok, max_positions=4096, dtype=dtype, device=device, **size).eval()
    n_params = sum(p.numel() for p in model.parameters())
    backend = make_backend(
        "transformers",
        model="random-llama",
        model_object=model,
        tokenizer_object=tok,
        device=device,
        max_batch=batch,
        batch_window=0.05,
    )

    loop = asyncio.new_event_loop()  # one loop for every call: the backend's concurrency limit belongs to it

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    reqs = [
        CompletionRequest(({"role": "user", "content": i},), max_tokens=max_new, temperature=0.0)
        for i in instructions
    ]

    def ours() -> int:
        async def go():
            return await asyncio.gather(*(backend.complete(r) for r in reqs))

        return sum(r.completion_tokens for r in loop.run_until_complete(go()))

    def plain() -> int:  # the same batches, in the same order, the way a user of transformers would write it
        tok.padding_side = "left"
        count = 0
        for lo in range(0, len(instructions), batch):
            texts = [
                tok.apply_chat_template(
                    [{"role": "user", "content": i}], tokenize=False, add_generation_prompt=True
                )
                for i in instructions[lo : lo + batch]
            ]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.inference_mode():
                out = model.generate(
                    **enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id
                )
            for row in out[:, enc["input_ids"].shape[1] :].tolist():
                # the end id counts, the padding after it not (backends/finish.py, as vLLM counts)
                count += row.index(tok.eos_token_id) + 1 if tok.eos_token_id in row else len(row)
        return count

    plain(), ours()  # warm-up: kernels, allocator
    speed: dict[str, list[float]] = {"plain": [], "judgebench": []}
    tokens: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, fn in (("plain", plain), ("judgebench", ours)):
            sync()
            t = time.perf_counter()
            tokens[name] = fn()
            sync()
            speed[name].append(tokens[name] / (time.perf_counter() - t))
    best = {k: max(v) for k, v in speed.items()}
    ratio = best["judgebench"] / best["plain"]

    # judging with label log-probs, checked against a plain forward pass of each prompt
    labels = ("m", "M")
    label_ids = {label: [i for i in range(len(tok)) if tok.decode([i]) == label] for label in labels}
    judge_reqs, source = [], None
    for k in range(args.pairs):
        (inst, out_a), (_, out_b) = rows[2 * k], rows[2 * k + 1]
        messages, source = judge_messages(inst, out_a, out_b)
        judge_reqs.append(
            CompletionRequest(
                tuple(messages),
                max_tokens=1,
                temperature=1.0,
                logprobs=True,
                top_logprobs=5,
                seed=0,
                labels=labels,
            )
        )

    async def judge():
        return await asyncio.gather(*(backend.complete(r) for r in judge_reqs), return_exceptions=True)

    verdicts, worst = [], 0.0
    for req, resp in zip(judge_reqs, loop.run_until_complete(judge()), strict=True):
        if isinstance(resp, Exception):
            verdicts.append(None)
            continue
        verdict, _ = logprob_labels(resp, labels)
        verdicts.append(verdict)
        text = tok.apply_chat_template(list(req.messages), tokenize=False, add_generation_prompt=True)
        ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"].to(device)
        with torch.inference_mode():
            lp = torch.log_softmax(model(ids).logits[0, -1].float(), dim=-1)
        for label in labels:
            worst = max(
                worst, abs(resp.top_logprobs[0][label] - float(torch.logsumexp(lp[label_ids[label]], 0)))
            )
    judged = sum(v is not None and 1.0 <= v <= 2.0 for v in verdicts)
    tolerance = 1e-3 if dtype == torch.float32 else 0.15  # bf16: batched (padded) vs single-prompt kernels

    table = [
        ("plain generate, tokens/s", f"{best['plain']:.1f}", "", None),
        ("judgebench engine, tokens/s", f"{best['judgebench']:.1f}", "", None),
        ("ratio judgebench / plain", f"{ratio:.3f}", ">= 0.95", ratio >= 0.95 if not small else None),
        (
            "same tokens generated",
            f"{tokens['judgebench']} / {tokens['plain']}",
            "equal",
            tokens["judgebench"] == tokens["plain"],
        ),
        (
            f"pairs judged ({source} prompt, m/M)",
            f"{judged}/{args.pairs}",
            f"{args.pairs}/{args.pairs}",
            judged == args.pairs,
        ),
        ("max |label log-prob - forward pass|", f"{worst:.4f}", f"<= {tolerance}", worst <= tolerance),
    ]
    device_name = torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"
    print(
        f"gpu_check on {device_name}: random Llama {n_params / 1e6:.0f}M params ({dtype}), {len(instructions)} "
        f"instructions, batches of {batch}, {max_new} new tokens, best of {args.repeats}; "
        f"{time.perf_counter() - t_start:.0f} s"
    )
    width = max(len(r[0]) for r in table)
    print(f"{'check':<{width}}  {'value':>18}  {'target':>10}  ok")
    for name, value, target, ok in table:
        print(f"{name:<{width}}  {value:>18}  {target:>10}  {'-' if ok is None else 'yes' if ok else 'NO'}")
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "gpu_check.json").write_text(
            json.dumps(
                {
                    "device": device_name,
                    "params": n_params,
                    "dtype": str(dtype),
                    "instructions": len(instructions),
                    "batch": batch,
                    "max_new_tokens": max_new,
                    "tokens_per_s": best,
                    "ratio": ratio,
                    "pairs_judged": judged,
                    "max_label_logprob_diff": worst,
                    "verdicts": verdicts,
                },
                indent=1,
            )
        )
    return 0 if all(ok is not False for *_, ok in table) else 1


if __name__ == "__main__":
    sys.exit(main())
