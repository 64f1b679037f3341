"""Arena-Hard-Auto v0.1: 500 hard prompts judged in both orders against GPT-4-0314's answers (arenahard).

Scored by Bradley-Terry over every model's battles against the baseline, with Arena-Hard's bootstrap
interval and the style-controlled score (stats/arenahard.py); against a reference model, the score's
difference refitted on instructions resampled in pairs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgebench.benchmarks.arenahard_files import OFFICIAL
from judgebench.benchmarks.base import Benchmark, Column, Detail, Results, Scores, Section, guarded
from judgebench.benchmarks.evalsets import eval_frame
from judgebench.errors import InputError
from judgebench.files.records import read_records

FOLDER = "arenahard/arena-hard-v0.1"
FIELDS = ("score", "ci_low", "ci_high", "style_controlled", "sc_ci_low", "sc_ci_high")


def load(root: Path):
    """The questions, each with the baseline's answer (joined by uid)."""
    folder = root / FOLDER
    answers_file = folder / "model_answer" / "gpt-4-0314.jsonl.gz"
    questions = read_records(folder / "question.jsonl.gz")
    answers = {a["uid"]: a for a in read_records(answers_file)}
    rows = []
    for i, q in enumerate(questions):
        a = answers.get(q["uid"])
        if a is None:
            raise InputError(
                "question has no baseline answer",
                path=answers_file,
                row=i,
                field="uid",
                hint="the baseline file must answer every question",
            )
        content = a["messages"][-1]["content"]
        rows.append(
            {
                "instruction": q["prompt"],
                "output": content["answer"] if isinstance(content, dict) else content,
                "generator": a["model"],
                "dataset": q.get("cluster"),
                "uid": q["uid"],
            }
        )
    return eval_frame(rows, folder)


def statistic(results: Results) -> Scores:
    from judgebench.backends.tokens import style_token_counter
    from judgebench.stats import arenahard

    everyone = [r for records in results.records.values() for r in records]
    battles = arenahard.battles_from_records(everyone, style_token_counter())
    # every judgment failed: no score (the failures are counted in the table), not a crash
    scores = arenahard.arena_hard_scores(battles, n_boot=results.n_boot) if len(battles) else pd.DataFrame()
    rows, details = {}, {}
    for model, records in results.records.items():
        row = scores.loc[model] if model in scores.index else None
        rows[model] = {k: _f(row, k) for k in FIELDS}
        rows[model]["n_failed"] = sum(1 for x in records if x.get("preference") is None)
        details[model] = {k: _f(row, k) for k in scores.columns} if row is not None else {}
    differences = {}
    if results.reference:
        for model in results.records:
            if model != results.reference:
                differences[model] = guarded(
                    arenahard.paired_difference, battles, model, results.reference, n_boot=results.n_boot
                )
    return Scores(rows, details, differences)


def _f(row, key):
    if row is None or key not in row or pd.isna(row[key]):
        return None
    return float(row[key])


BENCHMARK = Benchmark(
    name="arena-hard-v0.1",
    title="Arena-Hard",
    load=load,
    data=FOLDER,
    baseline="gpt-4-0314",
    judge="judgebench-arena-pair",
    local_judge="local-arena",  # the embedded model in Arena-Hard's protocol, not AlpacaEval's
    statistic=statistic,
    columns=(
        Column("Score (95% CI)", "score", interval=("ci_low", "ci_high"), headline=True),
        Column("Style ctrl.", "style_controlled", interval=("sc_ci_low", "sc_ci_high")),
    ),
    sections=(
        Section(
            (
                Detail("score", "score"),
                Detail("95% CI", "score", interval=("ci_low", "ci_high")),
                Detail("style-controlled", "style_controlled"),
                Detail("95% CI", "style_controlled", interval=("sc_ci_low", "sc_ci_high")),
                Detail("battles", "n_battles", "{:.0f}"),
            ),
            caption="Bradley-Terry win rate against the baseline; bootstrap over battles",
        ),
    ),
    official=OFFICIAL,
    aliases=("arena-hard", "arena-hard-auto"),
    how_to_get="lay out arenahard/arena-hard-v0.1 (question.jsonl.gz, model_answer/gpt-4-0314.jsonl.gz) "
    "in the data folder (JUDGEBENCH_DATA)",
)
