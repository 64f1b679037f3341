"""Regenerate tests/benchmarks/fixtures/arenahard_official_seed0.json: arena-hard-auto's own result
scripts (v0.1 at 0489bf3, v2 at 196f6b8), plain and style-controlled, on the synthetic files of
tests/arenahard_synthetic.py.

    python scripts/arenahard_official_reference.py --repo ~/src/arena-hard-auto \
        --python /tmp/ahvenv/bin/python [--out FIXTURE] [--seed 0]

--repo: a clone of github.com/lmarena/arena-hard-auto (its history holds both commits; nothing of it is
copied here). --python: an interpreter with what the scripts import (numpy, pandas, scikit-learn, torch,
tqdm, pyyaml, requests). The scripts run unmodified except for three things, all outside their
statistics: glob returns files in name order (judgebench reads them so; the bootstrap's draws depend on
the battles' order), numpy's global RNG is seeded with --seed just before the bootstrap (v0.1 seeds 42 at
import, v2 not at all), and v0.1's win-rate column is kept unrounded (it rounds to 2 decimals). Run with numpy 2, v0.1 also
gets back `np.NAN`, an alias numpy 2 removed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from arenahard_synthetic import JUDGE, LAYOUTS, write_files  # noqa: E402

COMMITS = {
    "v0.1": "0489bf384abd010906014dec7b903f7c438eabba",
    "v2": "196f6b826783b3da7310e361a805fa36f0be83f3",
}
CODE = {
    "v0.1": ["show_result.py", "utils.py", "utils_math.py"],
    "v2": ["show_result.py", "utils/judge_utils.py", "utils/math_utils.py"],
}

RUN_V01 = r"""
import glob, json, runpy, sys
import numpy as np, pandas as pd
np.NAN = np.nan  # removed in numpy 2; the script predates it
_glob = glob.glob
glob.glob = lambda *a, **k: sorted(_glob(*a, **k))
import utils_math
def unrounded(df, column, baseline="gpt-4-0314"):
    table = utils_math.predict_win_rate(df[["model", column]].set_index("model").to_dict()[column])
    return table[baseline].fillna(0.5).apply(lambda x: x * 100)
utils_math.get_win_rate_column = unrounded
np.random.seed(SEED)
sys.argv = ["show_result.py", "--judge-name", JUDGE, "--baseline", BASELINE, "--output"] + EXTRA
runpy.run_path("show_result.py", run_name="__main__")
(csv,) = _glob("leaderboard/*.csv")
board = pd.read_csv(csv)
print("RESULT " + json.dumps({r.model: [r.score, r.rating_q025, r.rating_q975] for r in board.itertuples()}))
"""

RUN_V2 = r"""
import glob, json, sys
import numpy as np
_glob = glob.glob
glob.glob = lambda *a, **k: sorted(_glob(*a, **k))
import show_result
seen = {}
def capture(mean, lower, upper, baseline=None):
    for frame, col in ((mean, "scores"), (lower, "lower"), (upper, "upper")):
        for r in frame.itertuples():
            seen.setdefault(r.model, {})[col] = float(getattr(r, col)) * 100
    if baseline:
        seen[baseline] = {"scores": 50.0, "lower": 50.0, "upper": 50.0}
    return mean
show_result.format_confidence_interval = capture
battles = show_result.load_judgments([JUDGE], BENCH)
battles = battles[battles.category == "hard_prompt"].reset_index(drop=True)
np.random.seed(SEED)
if EXTRA:
    show_result.print_leaderboard_with_style_features(battles, BENCH, "hard_prompt", ["length", "markdown"])
else:
    show_result.print_leaderboard(battles, "hard_prompt")
print("RESULT " + json.dumps({m: [v["scores"], v["lower"], v["upper"]] for m, v in seen.items()}))
"""


def _checkout(repo: Path, version: str, into: Path) -> None:
    for path in CODE[version]:
        text = subprocess.run(
            ["git", "-C", str(repo), "show", f"{COMMITS[version]}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (into / path).parent.mkdir(parents=True, exist_ok=True)
        (into / path).write_text(text)


def run_official(repo: Path, python: str, version: str, style: bool, seed: int, work: Path) -> dict:
    """The official script's score, lower, upper (percent) per model on the synthetic files."""
    folder = work / f"{version}-{'sc' if style else 'plain'}"
    folder.mkdir()
    (folder / "leaderboard").mkdir()
    write_files(folder, version, seed=0)
    _checkout(repo, version, folder)
    bench, baseline, _ = LAYOUTS[version]
    code = (RUN_V01 if version == "v0.1" else RUN_V2).replace("SEED", str(seed)).replace("JUDGE", repr(JUDGE))
    code = code.replace("BASELINE", repr(baseline)).replace("BENCH", repr(bench))
    code = code.replace("EXTRA", repr(["--style-control"] if style else []))
    out = subprocess.run([python, "-c", code], cwd=folder, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{version} style={style} failed:\n{out.stderr[-3000:]}")
    (line,) = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="a clone of lmarena/arena-hard-auto")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the scripts' imports")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "tests/benchmarks/fixtures/arenahard_official_seed0.json"
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for version in ("v0.1", "v2"):
            for style in (False, True):
                key = f"{version}{' style-control' if style else ''}"
                results[key] = run_official(args.repo, args.python, version, style, args.seed, Path(tmp))
    fixture = {
        "about": "arena-hard-auto's show_result.py on tests/arenahard_synthetic.py's files (seed 0), "
        "score/lower/upper in percent; regenerate with scripts/arenahard_official_reference.py",
        "commits": COMMITS,
        "seed": args.seed,
        "n_boot": 100,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
