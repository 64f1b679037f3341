"""Run the reference package alpaca-eval==0.6.6 on annotation files and write its metrics as CSV.

Runs under the reference's own virtual environment (`.venv-ref`, made by scripts/setup-reference),
never imported by judgebench. Its two Hugging Face downloads (df_gamed.csv, which also carries the
instruction difficulties) are answered with a local file: that is the only thing replaced.

    .venv-ref/bin/python bench/alpaca_eval_reference.py --gamed df_gamed.csv --out ref.csv FILE...
"""

import argparse
import gzip
import json
import logging
import sys
import time
import warnings

t_start = time.time()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("annotations", nargs="+")
    ap.add_argument("--gamed", required=True, help="df_gamed.csv in AlpacaEval's hub layout")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import pandas as pd
    from alpaca_eval.metrics import glm_winrate

    glm_winrate.hf_hub_download = lambda **kwargs: args.gamed  # the local stand-in for the hub file

    rows = {}
    fit_seconds = 0.0
    for path in args.annotations:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            df = pd.DataFrame(json.load(f))
        for model, part in df.groupby("generator_2", sort=False):
            t = time.time()
            metrics = glm_winrate.get_length_controlled_winrate(
                part.reset_index(drop=True), save_weights_dir=None
            )
            fit_seconds += time.time() - t
            metrics["avg_length"] = int(part["output_2"].str.len().mean())
            rows[model] = metrics
    board = pd.DataFrame(rows).T.sort_values("length_controlled_winrate", ascending=False)
    board.to_csv(args.out)
    print(
        json.dumps({"models": len(rows), "seconds": time.time() - t_start, "fit_seconds": fit_seconds}),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
