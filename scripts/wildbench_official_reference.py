#!/usr/bin/env python
"""Regenerate tests/benchmarks/fixtures/wildbench_official.json: WildBench's own result script
(leaderboard/data_dir/_create_tables.py) on the synthetic files of tests/wildbench_synthetic.py.

    python scripts/wildbench_official_reference.py --wildbench ~/src/WildBench [--out FIXTURE] [--commit SHA]

--wildbench: a checkout of github.com/allenai/WildBench (nothing of it is copied here). The script runs
unmodified in a scratch folder laid out as it expects (eval_results/v2.0522/pairwise.v2/..., v2.0625/
score.v2/...), for `pairwise-haiku K` (K = -1, 0, 300, 500) and `score`; two modules it imports are stood in for:
`datasets.load_dataset` returns the synthetic eval set (the script reads only the tags), and `tabulate`
(imported, unused). Its output JSONs (fractions, as it writes them) are the fixture.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import tempfile
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from wildbench_synthetic import eval_set, write_files  # noqa: E402

KS = (-1, 0, 300, 500)


def _stand_ins(rows: list[dict]) -> None:
    datasets = types.ModuleType("datasets")
    datasets.load_dataset = lambda *a, **k: rows  # type: ignore[attr-defined]
    tabulate = types.ModuleType("tabulate")
    tabulate.tabulate = lambda *a, **k: ""  # type: ignore[attr-defined]
    sys.modules["datasets"], sys.modules["tabulate"] = datasets, tabulate


def run(checkout: Path, seed: int) -> dict:
    script = checkout / "leaderboard" / "data_dir" / "_create_tables.py"
    _stand_ins(eval_set(seed))
    results = {}
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        write_files(Path(tmp), seed)
        (Path(tmp) / "leaderboard" / "data_dir").mkdir(parents=True)
        os.chdir(tmp)
        try:
            for argv in [*(["pairwise-haiku", str(k)] for k in KS), ["score"]]:
                sys.argv = [str(script), *argv]
                runpy.run_path(str(script), run_name="__main__")
                name = f"{argv[0]}-K={argv[1]}" if argv[0] != "score" else "score"
                results[name] = json.loads(
                    (Path(tmp) / "leaderboard" / "data_dir" / f"{name}.json").read_text()
                )
        finally:
            os.chdir(here)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wildbench", required=True, type=Path, help="a WildBench checkout")
    ap.add_argument("--out", type=Path, default=ROOT / "tests/benchmarks/fixtures/wildbench_official.json")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--commit", help="the checkout's commit, where it is not a git work tree")
    args = ap.parse_args()
    commit = (
        args.commit
        or subprocess.run(
            ["git", "-C", str(args.wildbench), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    )
    tables = run(args.wildbench.resolve(), args.seed)
    record = {
        "wildbench_commit": commit or "unknown",
        "command": f"python scripts/wildbench_official_reference.py --wildbench WildBench --seed {args.seed}",
        "script": "leaderboard/data_dir/_create_tables.py",
        "seed": args.seed,
        "tables": tables,
    }
    args.out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out} (WildBench {commit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
