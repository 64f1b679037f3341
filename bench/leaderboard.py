"""Leaderboard speed: judgebench against the reference alpaca-eval==0.6.6, same files, same run.

    python bench/leaderboard.py [--repeats 3]      (needs .venv and .venv-ref: scripts/setup)

Times each tool from process start to CSV written (median of the repeats, the two tools
alternating so machine noise hits both), checks the results agree, then times judgebench's
1,000-resample bootstrap CIs for every model. Prints the ratio; asserts nothing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _data  # noqa: F401  (the shared data beside the checkout, unless JUDGEBENCH_DATA is set)
import pandas as pd

from judgebench.files.records import load_annotations
from judgebench.leaderboard.board import resolve_lc_inputs
from judgebench.settings import data_dir
from judgebench.stats.alpacaeval_lc import LC_DIR_ENV, to_hub_layout

REPO = Path(__file__).resolve().parent.parent


def timed(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    root = data_dir() / "alpacaeval"
    files = sorted((root / "annotations").glob("*.json.gz"))
    tmp = Path(tempfile.mkdtemp())
    canonical = pd.read_json(root / "eval_set.json.gz")["instruction"].tolist()
    lc = resolve_lc_inputs(load_annotations([root / "annotations"], keep_extra=False, workers=2))
    # Both tools get the same inputs, as AlpacaEval's own hub files: judgebench finds them through
    # $JUDGEBENCH_ALPACAEVAL_LC_DIR and uses them as they are (no estimate correction, row-position lookup).
    to_hub_layout(canonical, lc.difficulty, lc.gamed).to_csv(tmp / "df_gamed.csv", index=False)
    pd.DataFrame({"instruction_difficulty": lc.difficulty.loc[canonical].to_numpy()}).to_csv(
        tmp / "instruction_difficulty.csv"
    )
    os.environ[LC_DIR_ENV] = str(tmp)

    ref_cmd = [
        str(REPO / ".venv-ref/bin/python"),
        str(REPO / "bench/alpaca_eval_reference.py"),
        "--gamed",
        str(tmp / "df_gamed.csv"),
        "--out",
        str(tmp / "ref.csv"),
        *map(str, files),
    ]
    jb = str(Path(sys.executable).parent / "judgebench")
    jb_cmd = [
        jb,
        "leaderboard",
        "--annotations",
        str(root / "annotations"),
        "--out",
        str(tmp / "jb.csv"),
        "--n-boot",
        "0",
        "--lc-solver",
        "fast",  # with AlpacaEval's inputs the default is liblinear, AlpacaEval's own (slow) solver
    ]
    ref_t, jb_t, nodetect_t = [], [], []
    for _ in range(args.repeats):
        ref_t.append(timed(ref_cmd))
        jb_t.append(timed(jb_cmd))
        nodetect_t.append(timed([*jb_cmd, "--no-detect"]))
    ref, ours = pd.read_csv(tmp / "ref.csv", index_col=0), pd.read_csv(tmp / "jb.csv", index_col=0)
    ours = ours.loc[ref.index]
    wr = (ours["win_rate"] - ref["win_rate"]).abs().max()
    lc_err = (ours["length_controlled_winrate"] - ref["length_controlled_winrate"]).abs()
    print(f"{len(files)} annotation files, {len(ref)} models")
    print(
        f"alpaca-eval 0.6.6 : {statistics.median(ref_t):6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in ref_t)})"
    )
    print(
        f"judgebench        : {statistics.median(jb_t):6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in jb_t)}; "
        "with the cheating checks, which alpaca-eval does not run)"
    )
    print(f"  --no-detect     : {statistics.median(nodetect_t):6.2f} s  (the same work as alpaca-eval)")
    print(
        f"speed-up          : {statistics.median(ref_t) / statistics.median(nodetect_t):6.1f}x on the same work; "
        f"{statistics.median(ref_t) / statistics.median(jb_t):.1f}x with the checks"
    )
    print(
        f"agreement         : win rate max |diff| {wr:.1e}; LC on all {len(ref)} models: mean |diff| "
        f"{lc_err.mean():.3f}, max {lc_err.max():.3f}, {int((lc_err <= 0.05).sum())} within 0.05 (the others: "
        "AlpacaEval's CV picks its penalty within liblinear's noise; --lc-solver liblinear matches all)"
    )

    boot = timed(
        [
            jb,
            "leaderboard",
            "--annotations",
            str(root / "annotations"),
            "--out",
            str(tmp / "jb_boot.csv"),
            "--n-boot",
            "1000",
            "--lc-solver",
            "fast",
        ]
    )
    print(
        f"1,000-resample bootstrap CIs (win rate and LC, GLM refitted per resample), all {len(ref)} models: "
        f"{boot:.1f} s end to end"
    )


if __name__ == "__main__":
    main()
