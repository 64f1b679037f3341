"""AlpacaEval 2.0: 805 instructions judged pairwise against GPT-4 Turbo's answers (alpacaeval2).

Scored as `evaluate` scores it (its summary.json): the length-controlled and raw win rates with their
intervals and the average length. Against a reference model: the LC win rate's paired difference where
the GLM can be fitted, else the raw win rate's.
"""

from __future__ import annotations

import math
from pathlib import Path

from judgebench.benchmarks.base import Benchmark, Column, Detail, Results, Scores, Section, guarded
from judgebench.benchmarks.evalsets import eval_frame
from judgebench.files.records import read_records

DATA = "alpacaeval/eval_set.json.gz"


def load(root: Path):
    return eval_frame(read_records(root / DATA), root / DATA)


def statistic(results: Results) -> Scores:
    rows, details = {}, {}
    for model in results.records:
        s = results.summary(model)
        rows[model] = {
            "lc_win_rate": s.get("length_controlled_winrate"),
            "lc_ci_low": s.get("lc_ci_low"),
            "lc_ci_high": s.get("lc_ci_high"),
            "win_rate": s.get("win_rate"),
            "wr_ci_low": s.get("win_rate_ci_low"),
            "wr_ci_high": s.get("win_rate_ci_high"),
            "avg_length": s.get("avg_length"),
            "n_failed": s.get("n_missing"),
        }
        keys = (
            "length_controlled_winrate",
            "win_rate",
            "avg_length",
            "n_total",
            "n_missing",
            "lc_difficulty",
        )
        details[model] = {k: s.get(k) for k in keys}
    differences = {}
    if results.reference:
        ref = results.records[results.reference]
        for model, records in results.records.items():
            if model != results.reference:
                differences[model] = paired_difference(ref, records, results.n_boot)
    return Scores(rows, details, differences)


def paired_difference(ref_records: list[dict], records: list[dict], n_boot: int) -> dict:
    """LC win rate difference (paired bootstrap) where the GLM can be fitted, else the raw win rate's."""
    from judgebench.files.records import annotations_frame
    from judgebench.stats.paired import paired_comparison

    frame = annotations_frame(ref_records + records, keep_extra=False)
    model, ref = records[0]["generator_2"], ref_records[0]["generator_2"]
    result = guarded(paired_comparison, frame, ref, model, n_boot=n_boot)
    if "note" in result:
        return result
    lc = result.get("length_controlled_winrate")
    chosen = (
        lc
        if isinstance(lc, dict) and lc.get("p_value") is not None and not math.isnan(lc["difference"])
        else result["win_rate"]
    )
    return {
        "difference": chosen["difference"],
        "ci_low": chosen["ci_low"],
        "ci_high": chosen["ci_high"],
        "p_value": chosen["p_value"],
        "n": result["n_common"],
        "metric": "LC win rate" if chosen is lc else "win rate",
        "method": chosen["method"],
    }


BENCHMARK = Benchmark(
    name="alpaca_eval",
    title="AlpacaEval 2.0",
    load=load,
    data=DATA,
    hub=("tatsu-lab/alpaca_eval", "alpaca_eval_gpt4_baseline", "eval"),
    baseline="gpt4_1106_preview",
    judge="alpacaeval2",
    local_judge="local",
    statistic=statistic,
    columns=(
        Column("LC (%)", "lc_win_rate", headline=True),
        Column("WR (%)", "win_rate"),
        Column("Len.", "avg_length", "{:.0f}"),
    ),
    sections=(
        Section(
            (
                Detail("LC win rate", "length_controlled_winrate"),
                Detail("win rate", "win_rate"),
                Detail("avg length", "avg_length", "{:.0f}"),
                Detail("n", "n_total", "{:.0f}"),
                Detail("failures", "n_missing", "{:.0f}"),
                Detail("LC difficulty", "lc_difficulty", None),
            )
        ),
    ),
)
