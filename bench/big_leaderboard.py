"""`judgebench leaderboard` on a 100k-row annotation file: peak memory and time with the cheating checks on,
against the same run with --no-detect (the reference, measured in the same run).

The file is built from the shared AlpacaEval annotations: real instructions and outputs (first 200
characters) cycled to ROWS rows of one candidate, each instruction made unique; the checks then compare
100k real, similar outputs, the case whose memory used to be quadratic (74.5 GiB at 100k rows).

    python bench/big_leaderboard.py --rows 100000 [--keep FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import _data  # noqa: F401  (the shared data beside the checkout, unless JUDGEBENCH_DATA is set)


def build(rows: int, path: Path) -> None:
    from judgebench.files.records import read_records
    from judgebench.settings import data_dir

    source = []
    for f in sorted((data_dir() / "alpacaeval" / "annotations").glob("*.json.gz")):
        source += read_records(f)
    records = []
    for k in range(rows):
        r = source[k % len(source)]
        records.append(
            {
                "instruction": f"{r['instruction'][:200]} (#{k})",
                "output_1": r["output_1"][:200],
                "generator_1": "gpt4_1106_preview",
                "output_2": r["output_2"][:200],
                "generator_2": "big-candidate",
                "preference": r["preference"],
            }
        )
    path.write_text(json.dumps(records))


def measure(args: list[str]) -> tuple[float, float]:
    """(peak RSS in GB, wall seconds) of one CLI run, from /usr/bin/time -v."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "judgebench.cli", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{done.stderr[-2000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr).group(1)
    seconds = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
    return rss_kb / 1024**2, seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", help="write the generated file here (default: a temporary folder)")
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or Path(tmp) / "big.json")
        build(args.rows, path)
        common = ["leaderboard", "--annotations", str(path), "--n-boot", str(args.n_boot), "--workers", "1"]
        ref_rss, ref_s = measure([*common, "--no-detect"])
        rss, s = measure(common)
    print(f"{args.rows} rows ({path.stat().st_size / 1e6 if args.keep else float('nan'):.0f} MB kept)")
    print(f"checks off (reference): {ref_rss:.2f} GB peak RSS, {ref_s:.1f} s")
    print(f"checks on:              {rss:.2f} GB peak RSS, {s:.1f} s")
    print(f"ratio on/off: memory x{rss / ref_rss:.2f}, time x{s / ref_s:.2f}")


if __name__ == "__main__":
    main()
