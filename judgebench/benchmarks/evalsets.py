"""Eval sets: a local file, a name looked up in the data folder, or a Hugging Face hub dataset.

    load_eval_set("alpaca_eval")                     # $JUDGEBENCH_DATA/alpacaeval/eval_set.json.gz, else the hub
    load_eval_set("my_prompts.jsonl")                # any local file with an `instruction` field
    load_eval_set("hf:tatsu-lab/alpaca_eval:alpaca_eval_gpt4_baseline:eval")

Every eval set comes back as a frame with `instruction` (unique) and, where the source has them,
the baseline's `output`, its `generator` and the `dataset` subset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgebench.files.records import InputError, read_records
from judgebench.settings import data_dir


@dataclass(frozen=True)
class NamedEvalSet:
    local: str  # path under the data folder
    hub: tuple[str, str | None, str]  # (repo, config, split) on the Hugging Face hub


NAMED = {
    "alpaca_eval": NamedEvalSet(
        "alpacaeval/eval_set.json.gz", ("tatsu-lab/alpaca_eval", "alpaca_eval_gpt4_baseline", "eval")
    ),
}


def load_arena_hard(root) -> pd.DataFrame:
    """Arena-Hard-Auto v0.1: 500 prompts; baseline = gpt-4-0314's answers (joined by uid)."""
    folder = root / "arenahard" / "arena-hard-v0.1"
    questions = read_records(folder / "question.jsonl.gz")
    answers = {a["uid"]: a for a in read_records(folder / "model_answer" / "gpt-4-0314.jsonl.gz")}
    rows = []
    for i, q in enumerate(questions):
        a = answers.get(q["uid"])
        if a is None:
            raise InputError(
                "question has no baseline answer",
                path=folder / "model_answer" / "gpt-4-0314.jsonl.gz",
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
    return _frame(rows, folder)


def load_mt_bench(root) -> pd.DataFrame:
    """MT-Bench: 80 two-turn questions (`turns`), GPT-4 reference answers where published; no baseline."""
    folder = root / "mtbench"
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
    return _frame(rows, folder)


LOCAL_LOADERS = {"arena-hard-v0.1": load_arena_hard, "mt-bench": load_mt_bench}


def _frame(rows: list[dict], source) -> pd.DataFrame:
    if not rows:
        raise InputError("eval set has no rows", path=source)
    for i, r in enumerate(rows):
        text = r.get("instruction")
        if not isinstance(text, str) or not text.strip():
            hint = (
                "rename the prompt field to 'instruction'"
                if "prompt" in r or "question" in r
                else "every row needs a non-empty 'instruction'"
            )
            raise InputError("missing or empty", path=source, row=i, field="instruction", hint=hint)
    df = pd.DataFrame(rows)
    dup = df["instruction"].duplicated(keep=False)
    if dup.any():
        rows_dup = df.index[dup].tolist()
        raise InputError(
            f"duplicate instructions in rows {rows_dup[:10]}",
            path=source,
            row=rows_dup[0],
            field="instruction",
            hint="an eval set lists each instruction once",
        )
    return df


def load_hub(repo: str, config: str | None = None, split: str = "eval") -> pd.DataFrame:
    """Through `datasets` (the `hf` extra); `repo` may also be a local folder in hub layout."""
    try:
        import datasets
    except ImportError:
        raise InputError(
            "loading from the Hugging Face hub needs the 'datasets' package",
            hint="pip install 'judgebench[hf]'",
        ) from None
    # the hub libraries log each failed request as a warning; the one error below says it all
    quiet = [logging.getLogger(name) for name in ("huggingface_hub", "datasets")]
    levels = [log.level for log in quiet]
    try:
        for log in quiet:
            log.setLevel(logging.ERROR)
        ds = datasets.load_dataset(repo, config, split=split)
    except Exception as err:  # network, unknown repo/config/split: all end the same way for the user
        raise InputError(
            f"cannot load {repo} (config {config}, split {split}): {err}",
            hint="check the name, or download the set and pass the file",
        ) from None
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    return _frame(ds.to_list(), f"hf:{repo}")


def load_eval_set(spec: str | Path) -> pd.DataFrame:
    path = Path(spec)
    if path.exists():
        return _frame(read_records(path), path)
    spec = str(spec)
    if spec.startswith("hf:"):
        repo, *rest = spec[3:].split(":")
        config = rest[0] if rest and rest[0] else None
        split = rest[1] if len(rest) > 1 else "eval"
        return load_hub(repo, config, split)
    if spec in LOCAL_LOADERS:
        root = data_dir()
        try:
            return LOCAL_LOADERS[spec](root)
        except FileNotFoundError as err:
            raise InputError(
                f"{spec} is not in the data folder {root}: {err}",
                hint="set JUDGEBENCH_DATA to a folder laid out like shared/data",
            ) from None
    if spec in NAMED:
        named = NAMED[spec]
        local = data_dir() / named.local
        if local.exists():
            return _frame(read_records(local), local)
        return load_hub(*named.hub)
    raise InputError(
        f"'{spec}' is neither a file nor a known eval set",
        hint=f"known names: {', '.join([*NAMED, *LOCAL_LOADERS])}; or hf:REPO[:CONFIG[:SPLIT]]",
    )
