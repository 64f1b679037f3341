"""MT-Bench's official judgment files: FastChat's `gpt-4_single.jsonl` and `gpt-4_pair.jsonl`.

    judgebench leaderboard --benchmark mt-bench --judgments gpt-4_single.jsonl --mode single --out board.csv
    judgebench leaderboard --benchmark mt-bench --judgments gpt-4_pair.jsonl --mode pairwise-baseline

Each row is one judged turn, as fastchat/llm_judge/gen_judgment.py writes it (single: question_id, model,
judge, user_prompt, judgment, score, turn, tstamp; pair: question_id, model_1, model_2, g1_winner,
g2_winner, judge, g1/g2_user_prompt, g1/g2_judgment, turn, tstamp). The tables are show_result.py's
(stats/mtbench.py). Every row counts as it does in show_result.py, repeats included; a row FastChat could
not have written (a missing field, a winner other than model_1/model_2/tie/error, a score that is not a
number) stops the run with its file, row and field.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from judgebench.benchmarks.base import OfficialFiles, OfficialRequest
from judgebench.errors import InputError

MODES = ("single", "pairwise-baseline", "pairwise-all")
BASELINE = "gpt-3.5-turbo"  # show_result.py's default --baseline-model
# What show_result.py reads: a row without one of these it cannot use; the rest (question_id, pair rows'
# turn, prompts, judgment text) only the import needs.
SINGLE_FIELDS = ("model", "score", "turn")
PAIR_FIELDS = ("model_1", "model_2", "g1_winner", "g2_winner")
WHAT = (
    "FastChat's MT-Bench judgments: data/mt_bench/model_judgment/gpt-4_single.jsonl (--mode single) or "
    "gpt-4_pair.jsonl (--mode pairwise-baseline|pairwise-all), from gen_judgment.py or "
    "download_mt_bench_pregenerated.py (github.com/lm-sys/FastChat, fastchat/llm_judge)"
)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check(rows: list[dict], path: Path, pairwise: bool) -> None:
    """Every row as FastChat writes it, else one line naming the first bad one."""
    from judgebench.stats.mtbench import WINNERS

    fields = PAIR_FIELDS if pairwise else SINGLE_FIELDS
    hint = (
        "a "
        + ("pair" if pairwise else "single")
        + "-mode FastChat judgment row; --mode "
        + (
            "pairwise-baseline|pairwise-all reads gpt-4_pair.jsonl"
            if pairwise
            else "single reads gpt-4_single.jsonl"
        )
    )
    if not rows:
        raise InputError("no judgments in the file", path=path, hint=WHAT)
    for i, r in enumerate(rows):
        for f in fields:
            if f not in r or r[f] is None:
                raise InputError("missing", path=path, row=i, field=f, hint=hint)
        for f in ("model_1", "model_2") if pairwise else ("model",):
            if not isinstance(r[f], str) or not r[f].strip():
                raise InputError(f"{r[f]!r} is not a model name", path=path, row=i, field=f, hint=hint)
        turn = r.get("turn", 1)
        if not _number(turn) or turn < 1:
            raise InputError(f"{turn!r} is not a turn number (1, 2)", path=path, row=i, field="turn")
        if pairwise:
            for f in ("g1_winner", "g2_winner"):
                if r[f] not in WINNERS:
                    raise InputError(
                        f"{r[f]!r} is not a FastChat verdict",
                        path=path,
                        row=i,
                        field=f,
                        hint="one of " + ", ".join(WINNERS),
                    )
        elif not _number(r["score"]):
            raise InputError(
                f"{r['score']!r} is not a rating",
                path=path,
                row=i,
                field="score",
                hint="a number; FastChat writes -1 where the judge gave none",
            )


def read_judgments(path: Path, mode: str) -> pd.DataFrame:
    """The file's rows, checked: single -> model, turn, score; pairwise -> model_1, model_2, g1/g2_winner."""
    from judgebench.files.records import read_records

    if path.is_dir():
        name = "gpt-4_single.jsonl" if mode == "single" else "gpt-4_pair.jsonl"
        if not (path / name).is_file():
            raise InputError(f"no {name} in the folder", path=path, field="--judgments", hint=WHAT)
        path = path / name
    rows = read_records(path)
    pairwise = mode != "single"
    if rows and ("g1_winner" in rows[0], "score" in rows[0]) == (not pairwise, pairwise):
        other = "gpt-4_single.jsonl (--mode single)" if pairwise else "gpt-4_pair.jsonl (--mode pairwise-*)"
        raise InputError(
            f"row 0 is a {'single' if pairwise else 'pairwise'} judgment, not a {mode} one",
            path=path,
            field="--mode",
            hint=f"give the --mode that fits the file, or the file that fits the mode: {other}",
        )
    _check(rows, path, pairwise)
    columns = PAIR_FIELDS if pairwise else SINGLE_FIELDS
    return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=list(columns))


def leaderboard(request: OfficialRequest) -> pd.DataFrame:
    """show_result.py's table for request.mode, a row per model, best first (win rates as fractions, as
    FastChat prints them)."""
    from judgebench.stats import mtbench

    mode = request.mode or MODES[0]
    frame = read_judgments(request.judgments, mode)
    if request.models:  # show_result.py --model-list: a model's ratings; pairwise, games whose model_1 it is
        picked = frame["model" if mode == "single" else "model_1"].isin(request.models)
        if not picked.any():
            raise InputError(
                "no judgment of a model in --model-list",
                path=request.judgments,
                field="--model-list",
                hint="name models of the file"
                + (
                    "" if mode == "single" else " (pairwise: as model_1, the model show_result.py filters on)"
                ),
            )
        frame = frame[picked]
    if mode == "single":
        return mtbench.single_table(frame)[["score", "turn_1", "turn_2"]]
    baseline = None
    if mode == "pairwise-baseline":
        baseline = request.baseline or BASELINE
        if not ((frame["model_1"] == baseline) | (frame["model_2"] == baseline)).any():
            models = sorted(set(frame["model_1"]) | set(frame["model_2"]))
            raise InputError(
                f"no judgment against the baseline {baseline!r}",
                path=request.judgments,
                field="--baseline",
                hint=f"name one of the file's models with --baseline ({', '.join(models[:8])}), "
                "or use --mode pairwise-all",
            )
    board = mtbench.pairwise_table(frame, baseline)
    return board[["win", "loss", "tie", "win_rate", "win_rate_adjusted"]]


_SHOWN = {"A": 1.0, "B": 2.0, "tie": 1.5}  # pair_label's verdicts, in the order shown
_FIRST = {"model_1": "A", "model_2": "B", "tie": "tie"}  # game 1 shows model_1 first
_SECOND = {"model_2": "A", "model_1": "B", "tie": "tie"}  # game 2 shows model_2 first


def import_calls(request: OfficialRequest, store: str) -> dict:
    """FastChat's judgments -> judge calls in the store under `fastchat:single` / `fastchat:pair`, keyed as
    those judges key the same call (FastChat's system prompt, the row's user prompt), so a run with that
    judge on the same answers finds them cached. Each row's recorded verdict must come back from its
    judgment text under FastChat's parser, else nothing is imported. Failed ratings and verdicts are not
    imported (a run retries them) and are counted."""
    from judgebench.backends.base import CompletionResponse
    from judgebench.files.records import read_records
    from judgebench.judges.fastchat_prompts import prompts_file, read_prompts
    from judgebench.judges.loader import load_judge
    from judgebench.judges.parsers import PARSERS
    from judgebench.stats.mtbench import FAILED_RATING
    from judgebench.store import Judgment, Store, call_key

    path = request.judgments
    if path.is_dir():
        path = path / ("gpt-4_single.jsonl" if request.mode == "single" else "gpt-4_pair.jsonl")
    rows = read_records(path)
    pairwise = bool(rows) and "g1_winner" in rows[0]  # the file says which it is; --mode is not needed
    _check(rows, path, pairwise)
    spec = load_judge("fastchat:pair" if pairwise else "fastchat:single")
    prompts = read_prompts(prompts_file())
    parse = PARSERS.pick(spec.parser, where=spec.source)
    decoding = dict(sorted(spec.decoding.items()))
    games = (
        (("g1", _FIRST, "candidate_first"), ("g2", _SECOND, "baseline_first"))
        if pairwise
        else ((None, None, ""),)
    )
    out, failed, mismatched = {}, 0, []
    for i, r in enumerate(rows):
        judge = r.get("judge")
        if not (isinstance(judge, list) and len(judge) == 2 and judge[1] in prompts):
            raise InputError(
                f"{judge!r} is not [judge model, FastChat prompt name]",
                path=path,
                row=i,
                field="judge",
                hint=f"a prompt of {prompts_file()}",
            )
        system = prompts[judge[1]]["system_prompt"]
        for game, shown, slot in games:
            prefix = f"{game}_" if game else ""
            text, user = r.get(f"{prefix}judgment"), r.get(f"{prefix}user_prompt")
            if not isinstance(text, str) or not isinstance(user, str):
                bad = f"{prefix}judgment" if not isinstance(text, str) else f"{prefix}user_prompt"
                raise InputError(
                    "missing or not text", path=path, row=i, field=bad, hint="FastChat writes it"
                )
            verdict, reason = parse(CompletionResponse(text), **spec.parser_kwargs)
            if game:
                recorded = r[f"{game}_winner"]
                wanted = None if recorded == "error" or shown is None else _SHOWN[shown[recorded]]
            else:
                wanted = None if r["score"] == FAILED_RATING else float(r["score"])
            if verdict != wanted:
                mismatched.append(i)
                continue
            if verdict is None:
                failed += 1
                continue
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            key = call_key(spec.hash, str(judge[0]), decoding, messages)
            turn_slot = f"turn{int(r.get('turn', 1))}" + (f":{slot}" if slot else "")
            raw = CompletionResponse(text).to_raw()
            out[key] = Judgment(
                key,
                spec.name,
                spec.hash,
                str(judge[0]),
                f"mt-bench question {r.get('question_id', '?')}",
                turn_slot,
                "ok",
                verdict,
                None,
                [raw],
                1,
            )
    if mismatched:
        raise InputError(
            f"{len(mismatched)} rows' recorded verdicts do not follow from their judgment text under FastChat's "
            f"parser (rows {sorted(set(mismatched))[:10]})",
            path=path,
            hint="import the file FastChat wrote, unedited",
        )
    with Store(store) as db:
        db.put_many(list(out.values()))
    games_n = len(rows) * len(games)
    return {"imported": len(out), "skipped_failed": failed, "repeated": games_n - failed - len(out)}


OFFICIAL = OfficialFiles(
    leaderboard=leaderboard, what=WHAT, modes=MODES, import_calls=import_calls, model_list=True
)
