"""How often the embedded judge (`local`: SmolLM2-135M, AlpacaEval 2.0's protocol) picks the output that
GPT-4-Turbo picked in AlpacaEval's stored annotations.

    python bench/local_judge_agreement.py [--pairs 200] [--seed 0] [--store /tmp/local-agreement.sqlite]

Pairs are drawn at random (seeded) from every shared annotation file: gpt4_1106_preview (output_1)
against one of the 45 models (output_2), GPT-4-Turbo's soft preference beside it. The local judge judges
each pair through judgebench's own pipeline (same prompt, same order randomisation, same log-prob parser);
its calls go into --store, so a stopped run resumes (--offline scores what the store holds). A pair counts as agreeing when both put the preference
on the same side of 1.5; ties of either side count as disagreement. Prints the agreement with its Wilson 95%
interval, Cohen's kappa, and what always answering output_1 or output_2 would score on the same pairs (the
local judge prefers one position; agreement alone would flatter it). Asserts nothing.
"""

import argparse
import asyncio
import sys
from pathlib import Path

import _data  # noqa: F401  (sets JUDGEBENCH_DATA)
import numpy as np
import pandas as pd
from scipy.stats import binomtest

from judgebench.annotation.annotate import annotate_pairs, judge_backend
from judgebench.annotation.pipeline import CallLimits, closing
from judgebench.backends.llamacpp import default_gguf
from judgebench.files.records import load_annotation_file
from judgebench.judges import load_judge
from judgebench.judges.protocols import Pair
from judgebench.settings import data_dir
from judgebench.store import Store


def draw(n: int, seed: int) -> pd.DataFrame:
    files = sorted((data_dir() / "alpacaeval" / "annotations").glob("*.json*"))
    frames = [load_annotation_file(f, keep_outputs=True) for f in files]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["preference"].notna() & (rows["preference"] != 1.5)]  # GPT-4's side must be clear
    return rows.sample(n=n, random_state=seed).reset_index(drop=True)


async def judge(rows: pd.DataFrame, store_path: Path, offline: bool) -> list[dict]:
    spec = load_judge("local")
    # offline: the same model name (the GGUF path) as the calls were stored under
    model = str(default_gguf()) if offline else None
    backend, _ = judge_backend(spec, CallLimits(concurrency=1).for_backend(), model, offline=offline)
    pairs = [
        Pair(r.instruction, r.output_1, r.output_2, r.generator_1, r.generator_2)
        for r in rows.itertuples(index=False)
    ]
    with Store(store_path) as store:
        async with closing(backend):
            run = await annotate_pairs(pairs, spec, backend, store, progress=not offline, offline=offline)
    return run.records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--store", type=Path, default=Path("/tmp/local-agreement.sqlite"))
    ap.add_argument("--offline", action="store_true", help="no call: score the pairs already in --store")
    args = ap.parse_args()

    rows = draw(args.pairs, args.seed)
    records = asyncio.run(judge(rows, args.store, args.offline))
    local = pd.to_numeric(pd.Series([r.get("preference") for r in records]), errors="coerce")
    gpt4 = rows["preference"].astype(float).to_numpy() > 1.5  # True: GPT-4-Turbo picked output_2
    judged = local.notna().to_numpy()
    picks2 = local.to_numpy() > 1.5
    agree = (picks2 == gpt4) & (local.to_numpy() != 1.5)
    k, n = int(agree[judged].sum()), int(judged.sum())
    ci = binomtest(k, n).proportion_ci(method="wilson")
    p_obs = k / n
    p2_local, p2_gpt = picks2[judged].mean(), gpt4[judged].mean()
    p_chance = p2_local * p2_gpt + (1 - p2_local) * (1 - p2_gpt)
    kappa = (p_obs - p_chance) / (1 - p_chance)
    print(f"pairs drawn {len(rows)} (seed {args.seed}); judged {n}; without a verdict {len(rows) - n}")
    print(
        f"agreement with GPT-4-Turbo: {100 * p_obs:.1f}% [{100 * ci.low:.1f}, {100 * ci.high:.1f}] ({k}/{n})"
    )
    print(f"Cohen's kappa: {kappa:.3f}")
    print(
        f"local judge picks output_2 (the candidate): {100 * p2_local:.1f}%; GPT-4-Turbo: {100 * p2_gpt:.1f}%"
    )
    print(f"always output_1 would agree on {100 * (1 - p2_gpt):.1f}%, always output_2 on {100 * p2_gpt:.1f}%")
    lengths = rows.loc[judged, "output_2"].str.len() > rows.loc[judged, "output_1"].str.len()
    print(f"always the longer output would agree on {100 * np.mean(lengths.to_numpy() == gpt4[judged]):.1f}%")


if __name__ == "__main__":
    sys.exit(main())
