"""Arena-Hard-Auto v0.1: 500 hard prompts judged in both orders against GPT-4-0314's answers (arenahard).

Scored by the official result script of the chosen protocol version (stats/arenahard_official.py: v2 by
default, v0.1, or judgebench's own), the same code `leaderboard --benchmark arena-hard` runs on
arena-hard-auto's files: each record's two verdicts become a row of the official judgment layout, so the
suite's column is that command's number on the same judgments. Against a reference model: the
difference refitted on instructions resampled in pairs, on the battles the protocol keeps.
"""

from __future__ import annotations

import sys
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
    from judgebench.stats import arenahard

    protocol = results.protocol or "v2"
    judgments, texts = official_judgments(results.records, results.judge)
    baseline = _baseline(results.records)
    rows: dict = {m: {k: None for k in FIELDS} for m in results.records}
    details: dict = {m: {"protocol": protocol} for m in results.records}
    for model, records in results.records.items():
        rows[model]["n_failed"] = sum(1 for x in records if x.get("preference") is None)
        rows[model]["failed_games"] = None  # every table has the column, scored or not
    kept = battles(judgments, protocol, baseline)
    if judgments.empty:  # the judge gave no five-level verdicts in both orders (another protocol's)
        why = f"no score: judge {getattr(results.judge, 'name', '?')} gives no Arena-Hard verdicts in both orders"
        for d in details.values():
            d["note"] = why
    elif not kept.empty:
        _fill(rows, details, judgments, texts, kept, protocol, baseline, results.n_boot)
    differences = {}
    if results.reference:  # where too few games are judged for both, the comparison says so
        for model in results.records:
            if model != results.reference:
                differences[model] = guarded(
                    arenahard.paired_difference, kept, model, results.reference, n_boot=results.n_boot
                )
    return Scores(rows, details, differences)


def _fill(rows, details, judgments, texts, kept, protocol: str, baseline: str, n_boot: int) -> None:
    """Each model's score, interval and style-controlled score as the protocol's script computes them."""
    from judgebench.stats import arenahard_official

    def compute(style: dict | None) -> pd.DataFrame:
        return arenahard_official.leaderboard(
            judgments, style, protocol, baseline, style is not None, n_boot=n_boot, seed=0
        )

    plain, note = _fit(lambda: compute(None))
    styled: pd.DataFrame | None = None
    style_note: str | None = note
    if plain is not None:
        try:
            style = style_counts(judgments, texts, arenahard_official.PROTOCOLS[protocol].tokenizer)
        except InputError as err:  # tiktoken or its encoding missing: the plain score stands alone
            style_note = f"no style-controlled score: {err}"
            print(f"judgebench: warning: Arena-Hard {style_note}", file=sys.stderr)
        else:
            styled, style_note = _fit(lambda: compute(style))
    failed = arenahard_official.failed_games(judgments, protocol)
    for model, row in rows.items():
        for table, names in ((plain, FIELDS[:3]), (styled, FIELDS[3:])):
            if table is not None and model in table.index:
                row.update(
                    zip(names, (_f(table.loc[model, k]) for k in ("score", "lower", "upper")), strict=True)
                )
        row["failed_games"] = int(failed.get(model, 0))
        details[model].update(
            {k: v for k, v in row.items() if v is not None},
            n_battles=int((kept["model"] == model).sum()),
            **({"note": style_note} if style_note else {}),
        )


def _fit(compute) -> tuple[pd.DataFrame | None, str | None]:
    """The official statistic's table, or why there is none: the scripts' regressions refuse data with
    one outcome only (a tiny run where every game went one way), which is a missing score, not a crash."""
    try:
        return compute(), None
    except ValueError as err:
        return None, f"no score: {str(err).splitlines()[0]}"


def _baseline(records: dict[str, list[dict]]) -> str:
    named = {r.get("generator_1") for rs in records.values() for r in rs} - {None}
    return named.pop() if len(named) == 1 else BENCHMARK.baseline  # type: ignore[return-value]


# the judge's parser -> the version's parser that returns the label itself ("B<A" stays "B<A", which
# v0.1 drops; the level it parses to would read as "A>B")
_RAW_LABELS = {"arena_verdict_v01": "parse_v01", "arena_verdict_v2": "parse_v2"}


def official_judgments(records: dict[str, list[dict]], judge) -> tuple[pd.DataFrame, dict]:
    """The records as arena-hard-auto's judgment rows (model, question, game_1, game_2), models in the
    order the official scripts read their files (by file name), questions in the eval set's order; and
    model -> question -> answer text (the baseline's too) for the style counts."""
    from judgebench.backends import CompletionResponse
    from judgebench.stats import arenahard_official

    relabel = _RAW_LABELS.get(str(getattr(judge, "parser", "")))
    rows: list[dict] = []
    texts: dict[str, dict] = {}
    for model in sorted(records, key=lambda m: f"{m}.jsonl"):
        for r in records[model]:
            labels = r.get("labels")
            if not isinstance(labels, list) or len(labels) != 2:
                continue  # not five-level verdicts in both orders (another protocol's judge)
            raw = r.get("raw_completion") or {}
            if relabel:
                labels = [
                    getattr(arenahard_official, relabel)(CompletionResponse.from_raw(raw[slot]).text)
                    if label is not None and isinstance(raw.get(slot), dict)
                    else label
                    for label, slot in zip(labels, ("baseline_first", "candidate_first"), strict=True)
                ]
            q = r["instruction"]
            rows.append(
                {"model": model, "question": q, "category": None, "game_1": labels[0], "game_2": labels[1]}
            )
            texts.setdefault(model, {})[q] = r.get("output_2") or ""
            texts.setdefault(str(r.get("generator_1") or BENCHMARK.baseline), {})[q] = r.get("output_1") or ""
    columns = ["model", "question", "category", "game_1", "game_2"]
    return pd.DataFrame(rows, columns=columns), texts


def style_counts(judgments: pd.DataFrame, texts: dict, tokenizer: str) -> dict:
    """model -> question -> the four style counts, as add_markdown_info.py counts them."""
    from judgebench.benchmarks.arenahard_files import markdown_counter

    count = markdown_counter(tokenizer)
    return {m: {q: count(t) for q, t in by_q.items()} for m, by_q in texts.items()}


def battles(judgments: pd.DataFrame, protocol: str, baseline: str) -> pd.DataFrame:
    """The games the protocol keeps, one row each (a strong verdict repeated 3 times, as the scripts
    repeat it): model, instruction, score (1 won, 0.5 tie, 0 lost), weight 1."""
    from judgebench.stats import arenahard_official

    if protocol == "v2":
        b = arenahard_official.v2_battles(judgments)
        frame = pd.DataFrame({"model": b["answer_model"], "instruction": b["question"], "score": b["scores"]})
    else:
        b = arenahard_official.v01_battles(judgments, baseline)
        points = {"model_b": 1.0, "tie": 0.5, "model_a": 0.0}
        frame = pd.DataFrame(
            {"model": b["model_b"], "instruction": b["question"], "score": b["winner"].map(points)}
        )
    return frame.assign(score=frame["score"].astype(float), weight=1.0)


def _f(value):
    return None if value is None or pd.isna(value) else float(value)


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
        Column("Score (CI)", "score", interval=("ci_low", "ci_high"), headline=True),
        Column("Style ctrl.", "style_controlled", interval=("sc_ci_low", "sc_ci_high")),
        Column("Failed games", "failed_games", "{:.0f}"),
    ),
    sections=(
        Section(
            (
                Detail("score", "score"),
                Detail("interval", "score", interval=("ci_low", "ci_high")),
                Detail("style-controlled", "style_controlled"),
                Detail("interval", "style_controlled", interval=("sc_ci_low", "sc_ci_high")),
                Detail("battles", "n_battles", "{:.0f}"),
                Detail("failed games", "failed_games", "{:.0f}"),
                Detail("protocol", "protocol", None),
            ),
            caption="as arena-hard-auto's show_result.py of the protocol computes it (v2: bootstrap mean "
            "and 5-95% interval; v0.1: Bradley-Terry and 2.5-97.5%), bootstrap over battles",
        ),
    ),
    official=OFFICIAL,
    aliases=("arena-hard", "arena-hard-auto"),
    how_to_get="lay out arenahard/arena-hard-v0.1 (question.jsonl.gz, model_answer/gpt-4-0314.jsonl.gz) "
    "in the data folder (JUDGEBENCH_DATA)",
)
