"""Eval sets: a local file, a benchmark's name (its set, from the data folder), or a Hugging Face hub dataset.

    load_eval_set("alpaca_eval")                     # DATA/alpacaeval/eval_set.json.gz, else the hub (settings.data_dir)
    load_eval_set("my_prompts.jsonl")                # any local file with an `instruction` field
    load_eval_set("hf:tatsu-lab/alpaca_eval:alpaca_eval_gpt4_baseline:eval")

Every eval set comes back as a frame with `instruction` (unique) and, where the source has them,
the baseline's `output`, its `generator` and the `dataset` subset.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from judgebench.benchmarks.base import Benchmark
from judgebench.benchmarks.registry import all_benchmarks
from judgebench.files.records import InputError, read_records
from judgebench.settings import data_dir, missing_data_hint


def eval_frame(rows: list[dict], source) -> pd.DataFrame:
    """Checked eval-set rows as a frame: every row has a non-empty `instruction`, each instruction once."""
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
    if (
        "output" in df.columns and "dataset" not in df.columns
    ):  # a baseline's records carry a subset, if empty
        df["dataset"] = None
    return df


def load_hub(repo: str, config: str | None = None, split: str = "eval") -> pd.DataFrame:
    """Through `datasets` (the `hf` extra); `repo` may also be a local folder in hub layout."""
    return eval_frame(hub_rows(repo, config, split), f"hf:{repo}")


def hub_rows(repo: str, config: str | None = None, split: str = "eval") -> list[dict]:
    """A hub dataset's rows as they are (see load_hub)."""
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
    return ds.to_list()


def load_eval_set(spec: str | Path) -> pd.DataFrame:
    path = Path(spec)
    if path.exists():
        return eval_frame(read_records(path), path)
    spec = str(spec)
    if spec.startswith("hf:"):
        repo, *rest = spec[3:].split(":")
        config = rest[0] if rest and rest[0] else None
        split = rest[1] if len(rest) > 1 else "eval"
        return load_hub(repo, config, split)

    benchmarks = all_benchmarks()
    if spec in benchmarks:
        return load_named(benchmarks[spec])
    raise InputError(
        f"'{spec}' is neither a file nor a known eval set",
        hint=f"known names: {', '.join(benchmarks)}; or hf:REPO[:CONFIG[:SPLIT]]",
    )


def load_named(benchmark: Benchmark) -> pd.DataFrame:
    """A benchmark's eval set: from the data folder, else from the hub where it has a copy there. When
    neither can be had, the one error names what is missing, where it was looked for, and how to get it."""
    root = data_dir()
    if benchmark.hub is not None and not (root / benchmark.data).exists():
        try:
            rows = hub_rows(*benchmark.hub)
        except InputError as err:
            raise InputError(
                f"{benchmark.name}: {benchmark.data} is not in the data folder, and its copy on the "
                f"Hugging Face hub ({benchmark.hub[0]}) could not be loaded ({str(err).split(' -> ')[0]})",
                hint=missing_data_hint(benchmark.data) + "; or, online: pip install 'judgebench[hf]'",
            ) from None
        source = f"hf:{benchmark.hub[0]}"
        return benchmark.from_hub(rows, source) if benchmark.from_hub else eval_frame(rows, source)
    if not (root / benchmark.data).exists():
        raise InputError(
            f"{benchmark.name}: {benchmark.data} is not in the data folder",
            hint=missing_data_hint(benchmark.data)
            + (f"; {benchmark.how_to_get}" if benchmark.how_to_get else ""),
        )
    try:
        return benchmark.load(root)
    except FileNotFoundError as err:
        raise InputError(
            f"{benchmark.name} is not in the data folder: {err}",
            hint=benchmark.how_to_get or missing_data_hint(benchmark.data),
        ) from None
