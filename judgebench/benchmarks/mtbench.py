"""MT-Bench: 80 two-turn questions, graded 1-10 per turn (judgebench-mt-single,
fastchat:single) or pairwise (judgebench-mt-pair, fastchat:pair).

Scored as FastChat scores it (stats/mtbench.py): the mean per turn, per category and overall, or wins,
ties and losses; against a reference model, each question's mean grade compared paired (t-test).
"""

from __future__ import annotations

from pathlib import Path

from judgebench.benchmarks.base import Benchmark, Column, Detail, Results, Scores, Section
from judgebench.benchmarks.evalsets import eval_frame
from judgebench.benchmarks.mtbench_files import OFFICIAL
from judgebench.files.records import read_records
from judgebench.judges.protocols import protocol_of

FOLDER = "mtbench"


def load(root: Path):
    """The questions (`turns`), with GPT-4's reference answers where published; no baseline."""
    folder = root / FOLDER
    refs = {
        r["question_id"]: r["choices"][0]["turns"]
        for r in read_records(folder / "reference_answer" / "gpt-4.jsonl.gz")
    }
    rows = [
        {
            "instruction": q["turns"][0],
            "turns": q["turns"],
            "dataset": q["category"],
            "question_id": q["question_id"],
            "reference": refs.get(q["question_id"]),
        }
        for q in read_records(folder / "question.jsonl.gz")
    ]
    return eval_frame(rows, folder)


def statistic(results: Results) -> Scores:
    from judgebench.stats import mtbench

    graded = protocol_of(results.judge).yields == "score"
    rows, details = {}, {}
    for model, records in results.records.items():
        if graded:
            s = mtbench.single_summary(records)
            rows[model] = {
                "score": s["score"],
                "turn_1": s.get("turn_1"),
                "turn_2": s.get("turn_2"),
                "n_failed": s["n_turns_failed"],
            }
        else:
            s = mtbench.pairwise_summary(records)
            rows[model] = {k: s[k] for k in ("win", "tie", "loss", "win_rate_adjusted")}
        details[model] = s
    differences = {}
    if results.reference:
        ref = mtbench.per_question_scores(results.records[results.reference])
        for model, records in results.records.items():
            if model != results.reference:
                differences[model] = mtbench.paired_difference(ref, mtbench.per_question_scores(records))
    return Scores(rows, details, differences)


BENCHMARK = Benchmark(
    name="mt-bench",
    title="MT-Bench",
    load=load,
    data=FOLDER,
    baseline=None,
    judge="judgebench-mt-single",
    local_judge="local-mtbench",
    statistic=statistic,
    multi_turn=True,
    columns=(  # graded or pairwise, as the judge is
        Column("Score", "score", "{:.2f}", headline=True, optional=True),
        Column("W/T/L", ("win", "tie", "loss"), "{:.0f}", headline=True, optional=True),
    ),
    sections=(
        Section(
            (
                Detail("overall", "score", "{:.2f}"),
                Detail("turn 1", "turn_1", "{:.2f}"),
                Detail("turn 2", "turn_2", "{:.2f}"),
            ),
            caption="mean rating per turn and per category",
            requires="score",
            expand=("per_category", "{:.2f}"),
        ),
        Section(
            (
                Detail("win", "win", "{:.0f}"),
                Detail("tie", "tie", "{:.0f}"),
                Detail("loss", "loss", "{:.0f}"),
                Detail("win rate (tie = ½)", "win_rate_adjusted"),
            ),
            requires="win",
        ),
    ),
    official=OFFICIAL,
    how_to_get="lay out mtbench/ (question.jsonl.gz, reference_answer/gpt-4.jsonl.gz) in the data folder "
    "(JUDGEBENCH_DATA)",
)
