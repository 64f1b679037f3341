"""Data contracts: reading and validating model outputs, annotations and eval sets.

Every loader returns a pandas DataFrame with a fixed set of columns, or raises `InputError`
naming the file, the row and the field at fault and what to do about it. Nothing is dropped
silently: rows without a preference are kept (as NaN) and counted by the statistics layer.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec
import numpy as np
import pandas as pd

from judgebench.errors import InputError
from judgebench.files.bounded import _check_regular, _decode, _read_bytes

ANNOTATION_FIELDS = ("instruction", "output_1", "generator_1", "output_2", "generator_2", "preference")
OUTPUT_FIELDS = ("instruction", "output", "generator")
SUMMARY_FIELDS = ("dataset", "annotator", "price_per_example")  # optional; kept even with keep_extra=False


# ---------------------------------------------------------------------------------------------
# raw records


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    fmt = suffixes[-1].lstrip(".") if suffixes else ""
    return {"jsonl": "jsonl", "ndjson": "jsonl", "json": "json", "csv": "csv", "parquet": "parquet"}.get(
        fmt, fmt
    )


# -- parse limits: what a well-formed file can still carry to crash a reader far from it ---------------
MAX_DEPTH = 32  # rows are flat objects; a few levels of raw judge output at most
MAX_INT_DIGITS = 20  # a count or an id fits in 64 bits; 1 followed by 400 zeros is an attack
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_value(value, path, row, field) -> None:
    """Refuse (one line naming file, row, field) nesting past MAX_DEPTH, huge integers, lone surrogates."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                raise InputError(
                    "holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text",
                    path=path,
                    row=row,
                    field=field,
                    hint="re-export the file as UTF-8",
                )
        elif isinstance(v, int) and not isinstance(v, bool):
            if abs(v) >= 10**MAX_INT_DIGITS:
                raise InputError(
                    f"a number of {len(str(abs(v)))} digits",
                    path=path,
                    row=row,
                    field=field,
                    hint=f"numbers here have at most {MAX_INT_DIGITS} digits",
                )
        elif isinstance(v, dict | list):
            if depth >= MAX_DEPTH:
                raise InputError(
                    f"nested more than {MAX_DEPTH} levels deep",
                    path=path,
                    row=row,
                    field=field,
                    hint="rows are flat objects of text and numbers",
                )
            items = v.values() if isinstance(v, dict) else v
            stack.extend((x, depth + 1) for x in items)
            if isinstance(v, dict):
                stack.extend((k, depth + 1) for k in v)


def check_rows(rows: list, path, surrogates_possible: bool = True) -> None:
    """Every value of every row within the parse limits. Strings are searched for lone surrogates only
    when the file could hold them (a \\uD8xx escape in its text)."""
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            continue
        for field, v in row.items():
            t = type(v)
            if t is float or v is None or (t is str and not surrogates_possible):
                continue
            if t is int and -(10**MAX_INT_DIGITS) < v < 10**MAX_INT_DIGITS:
                continue
            _check_value(v, path, i, field)
            if not surrogates_possible:
                continue
            if isinstance(field, str) and _SURROGATE.search(field):
                _check_value(field, path, i, field.encode("utf-8", "backslashreplace").decode())


def read_records(path: str | Path) -> list[dict]:
    """Rows of a JSON array, JSON Lines, CSV or Parquet file, gzipped or not (detected by content)."""
    path = Path(path)
    fmt = _format_of(path)
    if fmt not in ("json", "jsonl", "csv", "parquet"):
        raise InputError(
            f"unknown file type '{fmt or path.name}'",
            path=path,
            hint="use .json, .jsonl, .csv or .parquet (optionally .gz)",
        )
    if fmt == "parquet":
        _check_regular(path)
        try:
            import pyarrow  # noqa: F401  (pandas' own message does not say which extra installs it)
        except ImportError:
            raise InputError(
                "reading Parquet needs pyarrow, which is not installed",
                path=path,
                hint="pip install 'judgebench[parquet]' (or pyarrow), or convert the file to .json/.csv",
            ) from None
        try:
            rows = pd.read_parquet(path).to_dict("records")
        except Exception as err:  # pyarrow raises many types; all mean the same to the user
            raise InputError(
                f"cannot read Parquet ({err})", path=path, hint="is the file complete?"
            ) from None
        check_rows(rows, path)
        return rows
    raw = _read_bytes(path)
    # lone surrogates come only from a \\uD8xx-\\uDFxx escape that msgspec did not get to refuse
    possible = fmt != "csv" and bool(_SURROGATE_ESCAPE.search(raw))
    if fmt == "json":
        data, by_msgspec = _parse_json_by(raw, path)
        if isinstance(data, dict):  # column-oriented JSON, as pandas writes with orient="columns"
            data = _columns_to_rows(data, path)
        if not isinstance(data, list):
            raise InputError(
                f"expected a JSON array of objects, found {_json_kind(data)}",
                path=path,
                hint='one object per row: [{"instruction": ..., ...}, ...]',
            )
        _require_objects(data, path)
        check_rows(data, path, possible and not by_msgspec)
        return data
    text = _decode(raw, path)
    if fmt == "jsonl":
        rows = []
        for i, line in enumerate(text.splitlines()):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InputError(
                    f"line {i + 1} is not valid JSON ({err.msg})",
                    path=path,
                    row=len(rows),
                    hint="the last line is cut off: regenerate the file"
                    if i == text.count("\n")
                    else "fix that line",
                ) from None
            except RecursionError:
                raise InputError(f"line {i + 1} is nested too deeply", path=path, row=len(rows)) from None
        _require_objects(rows, path)
        check_rows(rows, path, possible)
        return rows
    return _read_csv(text, path)


def read_json(path: str | Path, expect: type = dict, what: str = "a JSON object"):
    """A JSON document (a manifest, an audit, a tiny model): parsed, or one InputError naming the file."""
    path = Path(path)
    raw = _read_bytes(path)
    data = _parse_json(raw, path)
    _check_value(data, path, None, None)  # a manifest or a tiny model: small, checked whole
    if not isinstance(data, expect):
        raise InputError(
            f"expected {what}, found {_json_kind(data)}", path=path, hint="is this the file judgebench wrote?"
        )
    return data


def _parse_json(raw: bytes, path: Path):
    return _parse_json_by(raw, path)[0]


def _parse_json_by(raw: bytes, path: Path) -> tuple[object, bool]:
    """(the document, whether msgspec read it): msgspec first (it refuses lone surrogates itself), then
    json, for its precise messages (and BOMs msgspec refuses)."""
    try:
        return msgspec.json.decode(raw), True
    except (msgspec.DecodeError, RecursionError):
        pass  # slower path below, for its precise message (and BOMs the fast decoder refuses)
    try:
        return json.loads(_decode(raw, path)), False
    except json.JSONDecodeError as err:
        truncated = not err.doc.rstrip().endswith(("]", "}"))
        raise InputError(
            f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
            path=path,
            hint="the file looks truncated; regenerate it" if truncated else "fix the JSON syntax",
        ) from None
    except RecursionError:
        raise InputError(
            f"JSON nested too deeply (more than {MAX_DEPTH} levels)",
            path=path,
            hint="rows are flat objects of text fields",
        ) from None


def _json_kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _columns_to_rows(data: dict, path: Path) -> list[dict]:
    """{"column": {"0": value, ...}, ...} (pandas' orient="columns") as rows; anything else is refused."""
    if not data or not all(isinstance(v, (dict, list)) for v in data.values()):
        raise InputError(
            "expected a JSON array of objects, found an object",
            path=path,
            hint='one object per row: [{"instruction": ..., ...}, ...]',
        )
    try:
        return pd.DataFrame(data).to_dict("records")
    except ValueError as err:
        raise InputError(
            f"a column-oriented JSON object whose columns do not line up ({err})",
            path=path,
            hint='write rows: [{"instruction": ..., ...}, ...]',
        ) from None


def _require_objects(rows: list, path) -> None:
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InputError(
                f"expected an object, found {_json_kind(row)}",
                path=path,
                row=i,
                hint="each row is an object with the fields named in the README",
            )


def _read_csv(text: str, path: Path) -> list[dict]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long model outputs are legitimate
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)  # malformed quoting is an error
    rows: list[dict] = []
    try:
        for row in reader:
            if None in row:  # more cells than header fields
                raise InputError(
                    f"{len(row[None])} more cells than the header has",
                    path=path,
                    row=len(rows),
                    hint="quote fields that contain commas or newlines",
                )
            rows.append(row)
    except csv.Error as err:
        raise InputError(
            f"CSV cannot be parsed at line {reader.line_num} ({err})",
            path=path,
            row=len(rows),
            hint="quote fields that contain commas, quotes or newlines",
        ) from None
    return rows


def expand_paths(
    paths: Iterable[str | Path],
    patterns: Sequence[str] = ("*.json", "*.json.gz", "*.jsonl", "*.jsonl.gz", "*.csv", "*.parquet"),
) -> list[Path]:
    """Expand folders and globs into a sorted list of files; an empty result is an error."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        try:
            is_dir = p.is_dir()
        except (OSError, ValueError):  # a name too long or holding a NUL: reading it says so, in one line
            is_dir = False
        if is_dir:
            found = sorted({f for pat in patterns for f in p.glob(pat)})
            if not found:
                raise InputError(
                    "folder holds no annotation files", path=p, hint=f"expected {', '.join(patterns)}"
                )
            out.extend(found)
        elif any(c in str(p) for c in "*?["):
            found = sorted(Path().glob(str(p)) if not p.is_absolute() else Path("/").glob(str(p)[1:]))
            if not found:
                raise InputError("glob matches no file", path=p)
            out.extend(found)
        else:
            out.append(p)
    return out


# ---------------------------------------------------------------------------------------------
# validation helpers


def _require_fields(rows: list[dict], fields: Sequence[str], path, optional: Sequence[str] = ()) -> None:
    for i, row in enumerate(rows):
        missing = [f for f in fields if f not in row]
        if missing:
            f = missing[0]
            close = difflib.get_close_matches(f, [k for k in row if k not in fields], n=1, cutoff=0.6)
            hint = (
                f"rename '{close[0]}' to '{f}'"
                if close
                else f"every row needs the fields {', '.join(fields)}"
            )
            raise InputError("missing field", path=path, row=i, field=f, hint=hint)


def _require_text(df: pd.DataFrame, column: str, path) -> None:
    """Every value a string. Empty strings are data (a model may answer nothing, and the judge judged it):
    kept and counted by the callers, never refused."""
    values = df[column].tolist()
    bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if bad:
        v = values[bad[0]]
        raise InputError(
            f"expected text, got {'nothing' if v is None else type(v).__name__}",
            path=path,
            row=bad[0],
            field=column,
            hint="every row needs this field as a string",
        )


def _require_name(df: pd.DataFrame, column: str, path) -> None:
    """Names (instructions, generators) are text and not blank: a blank one cannot be told apart."""
    _require_text(df, column, path)
    nul = [i for i, v in enumerate(df[column].tolist()) if "\x00" in v]
    if nul:
        raise InputError(
            "holds a NUL character", path=path, row=nul[0], field=column, hint="remove it from the name"
        )
    empty = [i for i, v in enumerate(df[column].tolist()) if not v.strip()]
    if empty:
        raise InputError(
            f"empty text ({len(empty)} rows: {empty[:10]})",
            path=path,
            row=empty[0],
            field=column,
            hint="give every row this field",
        )


def _require_unique(df: pd.DataFrame, columns: Sequence[str], path) -> None:
    dup = df.duplicated(list(columns), keep=False)
    if dup.any():
        rows = np.flatnonzero(dup.to_numpy())
        first = df.iloc[rows[0]]["instruction"]
        raise InputError(
            f"duplicate instruction in rows {rows[:10].tolist()} ({first[:60]!r})",
            path=path,
            row=int(rows[0]),
            field="instruction",
            hint="each instruction may appear once per model: remove or merge the duplicates",
        )


def _refuse_candidate_named_like_baseline(df: pd.DataFrame, path) -> None:
    """A candidate named like its baseline with other answers would be read as the baseline (LC 50.00 by
    definition, no word said). The baseline against itself (the same answers) is allowed: AlpacaEval's
    own annotations hold it."""
    clash = (df["generator_1"] == df["generator_2"]) & (df["output_1"] != df["output_2"])
    if clash.any():
        i = int(np.flatnonzero(clash.to_numpy())[0])
        raise InputError(
            f"the candidate is named like its baseline ({df['generator_2'].iloc[i]!r}) but answers differently",
            path=path,
            row=i,
            field="generator_2",
            hint="give the candidate its own name (the generator field of its outputs)",
        )


def check_not_the_baseline(candidate: pd.DataFrame, baseline: pd.DataFrame, cand_path, base_path) -> None:
    """Outputs files: a candidate whose generator is the baseline's, answering differently, is refused."""
    names = set(candidate["generator"]) & set(baseline["generator"])
    if not names:
        return
    answers = dict(zip(baseline["instruction"], baseline["output"], strict=True))
    differ = [
        i
        for i, (g, q, o) in enumerate(
            zip(candidate["generator"], candidate["instruction"], candidate["output"], strict=True)
        )
        if g in names and answers.get(q, o) != o
    ]
    if differ:
        i = differ[0]
        raise InputError(
            f"the candidate is named like the baseline of {base_path} ({candidate['generator'].iloc[i]!r}) "
            "but answers differently",
            path=cand_path,
            row=i,
            field="generator",
            hint="give the candidate its own name (the generator field of its outputs)",
        )


def normalise_instructions(
    candidate: pd.DataFrame, baseline: pd.DataFrame, cand_path, base_path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Instructions that differ only in their Unicode form (NFD vs NFC: the same text to a reader) are
    matched after NFC normalisation, with one notice on stderr; anything else is left as it is."""
    from judgebench.files.textforms import nfc, notice

    a, b = set(candidate["instruction"]), set(baseline["instruction"])
    if a == b:
        return candidate, baseline
    c2 = candidate.assign(instruction=[nfc(s) for s in candidate["instruction"]])
    b2 = baseline.assign(instruction=[nfc(s) for s in baseline["instruction"]])
    unmatched_before = len(a ^ b)
    unmatched_after = len(set(c2["instruction"]) ^ set(b2["instruction"]))
    if (
        unmatched_after >= unmatched_before
        or c2["instruction"].duplicated().any()
        or b2["instruction"].duplicated().any()
    ):
        return candidate, baseline
    changed = sum(x != y for x, y in zip(candidate["instruction"], c2["instruction"], strict=True)) + sum(
        x != y for x, y in zip(baseline["instruction"], b2["instruction"], strict=True)
    )
    notice(changed, f"{cand_path} and {base_path}")
    return c2, b2


def numeric_columns(
    frame: pd.DataFrame, columns: Iterable[str], path, allow_missing: bool = True
) -> pd.DataFrame:
    """`frame` with `columns` as floats; the first cell that is not a number (or, unless allow_missing,
    that is empty) is one InputError naming the file, row and column."""
    frame = frame.copy()
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & (frame[col].notna() | (not allow_missing))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"not a number: {frame[col].iloc[i]!r}", path=path, row=i, field=col)
        frame[col] = values.astype(float)
    return frame


def parse_preference(values: pd.Series, path=None) -> pd.Series:
    """Preferences as floats in [1, 2]; None/NaN stays missing; the legacy tie code 0 becomes 1.5."""

    def one(i, v):
        if type(v) is float and 1.0 <= v <= 2.0:  # the common case, kept fast
            return v
        if isinstance(v, bool):
            raise InputError(
                f"not a number: {v!r}",
                path=path,
                row=i,
                field="preference",
                hint="use 1 (baseline better), 2 (candidate better), 1.5 (tie) or a value between",
            )
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and v.strip() == ""):
            return np.nan
        try:
            x = float(v)
        except OverflowError:
            raise InputError(
                f"a number of {len(str(v))} digits",
                path=path,
                row=i,
                field="preference",
                hint="use 1 (baseline better), 2 (candidate better), 1.5 (tie) or a value between",
            ) from None
        except (TypeError, ValueError):
            raise InputError(
                f"not a number: {v!r}",
                path=path,
                row=i,
                field="preference",
                hint="use 1 (baseline better), 2 (candidate better), 1.5 (tie) or a value between",
            ) from None
        if x == 0:
            return 1.5
        if not (1.0 <= x <= 2.0) or np.isnan(x):
            raise InputError(
                f"{x} is outside [1, 2]",
                path=path,
                row=i,
                field="preference",
                hint="1 = baseline better, 2 = candidate better, 1.5 = tie",
            )
        return x

    return pd.Series([one(i, v) for i, v in enumerate(values)], index=values.index, dtype=float)


# ---------------------------------------------------------------------------------------------
# public loaders


def annotations_frame(
    rows: list[dict], path=None, keep_extra: bool = True, keep_outputs: bool = False
) -> pd.DataFrame:
    """Validate AlpacaEval-format annotation records (output_1 = baseline, output_2 = candidate).

    Empty outputs are kept (AlpacaEval's own files hold judged empty answers); `empty_2` marks the
    candidate's. Adds `len_1`, `len_2` (characters, as Python counts them: what the LC GLM uses). With
    keep_extra=False only the fields the statistics need are kept (much faster on big files), and
    `output_2` too with keep_outputs=True (the cheating detector reads it).
    """
    if not rows:
        raise InputError("no rows", path=path, hint="the annotation file is empty")
    _require_fields(rows, ANNOTATION_FIELDS, path)
    columns = list(dict.fromkeys([*ANNOTATION_FIELDS, *SUMMARY_FIELDS, *(rows[0] if keep_extra else ())]))
    df = pd.DataFrame({c: [r.get(c) for r in rows] for c in columns}, dtype=object)
    for col in ("instruction", "generator_1", "generator_2"):
        _require_name(df, col, path)
    for col in ("output_1", "output_2"):
        # a null answer in an annotation file is an answer of nothing that the judge saw: empty, and counted
        df[col] = [("" if v is None or (isinstance(v, float) and np.isnan(v)) else v) for v in df[col]]
        _require_text(df, col, path)
    df["preference"] = parse_preference(df["preference"], path)
    _refuse_candidate_named_like_baseline(df, path)
    _require_unique(df, ["generator_2", "instruction"], path)
    for gen, part in df.groupby("generator_2", sort=False):
        baselines = part["generator_1"].unique()
        if len(baselines) > 1:
            raise InputError(
                f"model '{gen}' is compared with several baselines {list(baselines)}",
                path=path,
                field="generator_1",
                hint="split the file by baseline: a win rate needs one baseline",
            )
    df["len_1"] = np.fromiter(map(len, df["output_1"]), int, len(df))
    df["len_2"] = np.fromiter(map(len, df["output_2"]), int, len(df))
    df["empty_2"] = np.fromiter((not o.strip() for o in df["output_2"]), bool, len(df))
    if not keep_extra:
        df = df.drop(columns=["output_1"] if keep_outputs else ["output_1", "output_2"])
    df["source_file"] = str(path) if path is not None else None
    return df


def load_annotations(
    paths: Iterable[str | Path],
    keep_extra: bool = True,
    workers: int = 1,
    executor=None,
    keep_outputs: bool = False,
) -> pd.DataFrame:
    """Read and validate annotation files (folders and globs expanded); one frame, all models.
    Files are read in parallel on `executor` (a concurrent.futures pool) or on `workers` processes."""
    files = expand_paths(paths)
    if executor is None and workers > 1 and len(files) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(files))) as pool:
            return load_annotations(files, keep_extra, executor=pool, keep_outputs=keep_outputs)
    if executor is not None:
        frames = list(
            executor.map(load_annotation_file, files, [keep_extra] * len(files), [keep_outputs] * len(files))
        )
    else:
        frames = [load_annotation_file(f, keep_extra, keep_outputs) for f in files]
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(["generator_2", "instruction"], keep=False)
    if dup.any():
        clash = df[dup].groupby("generator_2")["source_file"].unique().iloc[0]
        raise InputError(
            f"the same model is annotated in several files: {list(clash)}",
            hint="pass each model's annotations once",
        )
    return df


class _AnnotationRow(msgspec.Struct):
    """The fields the statistics read; decoding skips the rest (raw completions: most of the bytes)."""

    instruction: object = msgspec.UNSET  # UNSET = absent, None = null: a missing field is an error,
    output_1: object = msgspec.UNSET  # a null preference is a missing judgment to count
    generator_1: object = msgspec.UNSET
    output_2: object = msgspec.UNSET
    generator_2: object = msgspec.UNSET
    preference: object = msgspec.UNSET
    dataset: object = None
    annotator: object = None
    price_per_example: object = None


_ANNOTATION_DECODER = msgspec.json.Decoder(list[_AnnotationRow])


def _fast_annotation_rows(path: Path) -> list[dict] | None:
    """Rows of a JSON annotation file with only the needed fields, or None to take the general path
    (which also produces the precise error messages). About 3x faster than a full parse."""
    if _format_of(path) != "json":
        return None
    try:
        rows = _ANNOTATION_DECODER.decode(_read_bytes(path))
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    required = ANNOTATION_FIELDS
    if any(getattr(r, f) is msgspec.UNSET for r in rows for f in required):
        return None  # a field is missing or misspelt: the general path names it
    names = _AnnotationRow.__struct_fields__
    out = [dict(zip(names, msgspec.structs.astuple(r), strict=True)) for r in rows]
    check_rows(out, path, surrogates_possible=False)  # msgspec refuses lone surrogates itself
    return out


def load_annotation_file(path: Path, keep_extra: bool = True, keep_outputs: bool = False) -> pd.DataFrame:
    try:
        rows = None if keep_extra else _fast_annotation_rows(Path(path))
        return annotations_frame(
            rows if rows is not None else read_records(path),
            path,
            keep_extra=keep_extra,
            keep_outputs=keep_outputs,
        )
    except InputError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError) as err:
        # a shape no check above foresaw; still the file's fault, so name it (this runs in worker processes)
        raise InputError(
            f"cannot be interpreted ({type(err).__name__}: {err})",
            path=path,
            hint="check it against the annotation format in the README",
        ) from None


def outputs_frame(rows: list[dict], path=None) -> pd.DataFrame:
    """Validate AlpacaEval `model_outputs.json` records: instruction, output, generator (dataset optional).
    Empty outputs are kept: they are judged as they are and counted (`count_empty`)."""
    if not rows:
        raise InputError("no rows", path=path, hint="the outputs file is empty")
    _require_fields(rows, OUTPUT_FIELDS, path)
    columns = list(dict.fromkeys([*OUTPUT_FIELDS, "dataset", *rows[0]]))
    df = pd.DataFrame({c: [r.get(c) for r in rows] for c in columns}, dtype=object)
    _require_name(df, "instruction", path)
    _require_name(df, "generator", path)
    _require_text(df, "output", path)
    _require_unique(df, ["instruction"], path)
    return df


def load_outputs(path: str | Path) -> pd.DataFrame:
    return outputs_frame(read_records(path), path)


def count_empty(texts: Iterable[str]) -> int:
    """Outputs that are empty or whitespace only."""
    return sum(1 for t in texts if not t.strip())


def check_same_instructions(
    candidate: pd.DataFrame, baseline: pd.DataFrame, candidate_name="candidate", baseline_name="baseline"
) -> None:
    """Candidate and baseline must cover the same instructions; list the differences if not."""
    a, b = set(candidate["instruction"]), set(baseline["instruction"])
    if a == b:
        return
    only_a, only_b = sorted(a - b), sorted(b - a)
    lines = []
    if only_b:
        lines.append(
            f"{len(only_b)} instructions of {baseline_name} have no output in {candidate_name}: "
            + "; ".join(repr(s[:50]) for s in only_b[:5])
        )
    if only_a:
        lines.append(
            f"{len(only_a)} instructions of {candidate_name} are not in {baseline_name}: "
            + "; ".join(repr(s[:50]) for s in only_a[:5])
        )
    raise InputError(
        " | ".join(lines),
        field="instruction",
        hint="generate the missing outputs, or restrict both to the common instructions explicitly",
    )
