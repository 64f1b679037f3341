"""GPU check for the transformers engine: judgebench's batched engine against plain model.generate.

Builds a ~1B-parameter Llama with random weights from a config and a tokenizer trained on the spot
(no network on the lent machine), then generates for 256 AlpacaEval instructions both ways, on the
same batches, and prints tokens/s for each and their ratio (target: judgebench >= 0.95 of plain).

    JUDGEBENCH_DATA=.device python scripts/gpu_check.py     (via scripts/gpu_check.sh)
"""

import asyncio
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def main() -> None:
    import torch
    from random_llama import random_llama, train_tokenizer

    from judgebench.backends import CompletionRequest, make_backend
    from judgebench.io import read_records

    data = Path(os.environ.get("JUDGEBENCH_DATA", REPO.parent / "shared" / "data"))
    rows = read_records(next(p for p in (data / "alpacaeval" / "eval_set.json.gz", data / "eval_set.json.gz")
                             if p.exists()))
    instructions = [r["instruction"] for r in rows[:256]]
    tok = train_tokenizer([r["instruction"] + " " + r["output"] for r in rows], vocab_size=8000)
    model = random_llama(tok, hidden=2048, layers=16, heads=16, intermediate=5632, max_positions=4096,
                         dtype=torch.bfloat16).to("cuda")
    n_params = sum(p.numel() for p in model.parameters())
    batch, max_new = 64, 128
    backend = make_backend("transformers", model="random-llama-1b", model_object=model, tokenizer_object=tok,
                           device="cuda", max_batch=batch, batch_window=0.05)
    reqs = [CompletionRequest(({"role": "user", "content": i},), max_tokens=max_new, temperature=0.0)
            for i in instructions]

    async def ours():
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    def plain():
        tok.padding_side = "left"
        n = 0
        for lo in range(0, len(instructions), batch):
            texts = [tok.apply_chat_template([{"role": "user", "content": i}], tokenize=False,
                                             add_generation_prompt=True) for i in instructions[lo:lo + batch]]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to("cuda")
            with torch.inference_mode():
                out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
            for row in out[:, enc["input_ids"].shape[1]:].tolist():
                n += row.index(tok.eos_token_id) if tok.eos_token_id in row else len(row)
        return n

    asyncio.run(ours())  # warm-up: CUDA kernels, allocator
    results = {}
    for name in ("plain", "judgebench", "plain", "judgebench"):
        torch.cuda.synchronize()
        t = time.perf_counter()
        tokens = plain() if name == "plain" else sum(r.completion_tokens for r in asyncio.run(ours()))
        torch.cuda.synchronize()
        results.setdefault(name, []).append(tokens / (time.perf_counter() - t))
    best = {k: max(v) for k, v in results.items()}
    print(json.dumps({"device": torch.cuda.get_device_name(), "params": n_params, "instructions": len(instructions),
                      "batch": batch, "max_new_tokens": max_new, "tokens_per_s": best,
                      "ratio_judgebench_over_plain": best["judgebench"] / best["plain"]}, indent=1))


if __name__ == "__main__":
    main()
