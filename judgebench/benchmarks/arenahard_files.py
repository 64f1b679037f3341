"""Arena-Hard-Auto's own files: `model_judgment/<judge>/*.jsonl` and `model_answer/*.jsonl`, in the v0.1
layout (question_id, model_id, choices, conv_metadata) or the v2 one (uid, category, baseline, messages,
metadata), read into what stats/arenahard_official.py computes on.

Files are read in name order (the official scripts take glob's order, which only the bootstrap's draws
depend on). A game the judge gave no verdict is kept as None: the protocol's failure rule decides.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgebench.benchmarks.base import OfficialFiles, OfficialRequest
from judgebench.errors import InputError
from judgebench.files.records import read_records

WHAT = (
    "arena-hard-auto's judgment folder data/<bench>/model_judgment/<judge>/ (*.jsonl, one row a question "
    "with its two games) and, for style control, data/<bench>/model_answer/ (*.jsonl)"
)
# show_result.py v2's JUDGE_SETTINGS: the baseline of each category
CATEGORY_BASELINES = {
    "hard_prompt": "o3-mini-2025-01-31",
    "coding": "o3-mini-2025-01-31",
    "math": "o3-mini-2025-01-31",
    "creative_writing": "gemini-2.0-flash-001",
    "arena-hard-v0.1": "gpt-4-0314",
}


def _files(folder: Path, what: str) -> list[Path]:
    if folder.is_file():
        return [folder]
    found = sorted([*folder.glob("*.jsonl"), *folder.glob("*.jsonl.gz")])
    if not found:
        raise InputError(f"no *.jsonl(.gz) files in {folder}", field=what, hint=WHAT)
    return found


def _question(row: dict, path: Path, i: int):
    for key in ("uid", "question_id"):
        if key in row:
            return row[key]
    raise InputError(
        "no question id", path=path, row=i, field="uid", hint="v2 rows have uid, v0.1 question_id"
    )


def read_judgments(folder: Path) -> pd.DataFrame:
    """model, question, category, baseline, game_1, game_2 (a verdict label or None), file, row."""
    rows = []
    for path in _files(folder, "--judgments"):
        for i, row in enumerate(read_records(path)):
            games = row.get("games")
            if not isinstance(games, list) or len(games) < 2:  # the scripts read the first two
                raise InputError("expected a list of two games", path=path, row=i, field="games", hint=WHAT)
            if not isinstance(row.get("model"), str):
                raise InputError("no model name", path=path, row=i, field="model", hint=WHAT)
            labels = []
            for g, game in enumerate(games[:2]):
                if game is not None and not isinstance(game, dict):
                    raise InputError(
                        "a game must be an object or null", path=path, row=i, field=f"games[{g}]"
                    )
                score = None if game is None else game.get("score")
                if score is not None and not isinstance(score, str):
                    raise InputError(
                        f"verdict {score!r} is not a label such as 'A>>B'",
                        path=path,
                        row=i,
                        field=f"games[{g}].score",
                    )
                labels.append(score)
            rows.append(
                {
                    "model": row["model"],
                    "question": _question(row, path, i),
                    "category": row.get("category"),
                    "baseline": row.get("baseline"),
                    "game_1": labels[0],
                    "game_2": labels[1],
                    "file": str(path),
                    "row": i,
                }
            )
    return pd.DataFrame(rows)


def read_style(folder: Path, tokenizer: str) -> dict:
    """model -> question -> the four style counts: from each row's conv_metadata (v0.1) or metadata (v2),
    else counted from the answer's text as add_markdown_info.py counts (tiktoken for the tokens)."""
    from judgebench.stats.arenahard_official import STYLE_KEYS

    style: dict = {}
    counter = None
    for path in _files(folder, "--answers"):
        for i, row in enumerate(read_records(path)):
            model = row.get("model_id", row.get("model"))
            if not isinstance(model, str):
                raise InputError("no model name", path=path, row=i, field="model", hint=WHAT)
            meta = row.get("metadata", row.get("conv_metadata"))
            if not isinstance(meta, dict) or any(k not in meta for k in STYLE_KEYS):
                counter = counter or markdown_counter(tokenizer)
                meta = counter(_answer_text(row, path, i))
            try:
                counts = {
                    k: meta[k] if isinstance(meta[k], int) else sum(meta[k].values()) for k in STYLE_KEYS
                }
            except (AttributeError, TypeError):
                raise InputError(
                    "style counts must be integers or objects of integers", path=path, row=i, field="metadata"
                ) from None
            style.setdefault(model, {})[_question(row, path, i)] = counts
    return style


def _answer_text(row: dict, path: Path, i: int) -> str:
    try:
        if "messages" in row:
            content = row["messages"][-1]["content"]
            return content["answer"] if isinstance(content, dict) else content
        return row["choices"][0]["turns"][0]["content"]
    except (KeyError, IndexError, TypeError):
        raise InputError("no answer text", path=path, row=i, field="messages", hint=WHAT) from None


def markdown_counter(tokenizer: str):
    """add_markdown_info.py's counts (code blocks removed first) with tiktoken's token count."""
    import re

    try:
        import tiktoken
    except ImportError:
        raise InputError(
            "style control counts answer tokens with tiktoken, which is not installed",
            field="--style-control",
            hint="pip install tiktoken (a judgebench dependency; or give answers with their metadata, as arena-hard-auto ships them)",
        ) from None
    try:
        encoder = tiktoken.encoding_for_model(tokenizer)
    except Exception as err:  # offline without tiktoken's cached encoding file
        raise InputError(
            f"tiktoken cannot load the encoding for {tokenizer} ({type(err).__name__})",
            field="--style-control",
            hint="run once online or set TIKTOKEN_CACHE_DIR to a folder holding the encoding",
        ) from None
    code = re.compile("```([^`]*)```")
    patterns = {
        "header_count": [rf"^#{{{k}}}\s" for k in range(1, 7)],
        "list_count": [r"^\s*\d+\.\s", r"^\s*[-*+]\s"],
        "bold_count": [r"\*\*[^*\n]+\*\*", r"__[^_\n]+__"],
    }

    def count(text: str) -> dict:
        prose = text
        for block in code.findall(text):
            prose = prose.replace(block, "")
        out = {"token_len": len(encoder.encode(text, disallowed_special=()))}
        for key, regexes in patterns.items():
            out[key] = sum(len(re.findall(r, prose, re.MULTILINE)) for r in regexes)
        return out

    return count


def _baseline(request: OfficialRequest, judgments: pd.DataFrame) -> str:
    if request.baseline:
        return request.baseline
    named = set(judgments["baseline"].dropna())
    if len(named) == 1:
        return named.pop()
    cats = set(judgments["category"].dropna())
    if len(cats) == 1 and cats.issubset(CATEGORY_BASELINES):
        return CATEGORY_BASELINES[cats.pop()]
    if request.protocol != "v2" or not cats:
        return "gpt-4-0314"  # v0.1's default
    raise InputError(
        "cannot tell the baseline from the judgments", field="--baseline", hint="pass --baseline MODEL"
    )


def _category(judgments: pd.DataFrame) -> pd.DataFrame:
    """v2 scores one category at a time, hard_prompt by default."""
    cats = judgments["category"].dropna().unique()
    if len(cats) <= 1:
        return judgments
    if "hard_prompt" in cats:
        return judgments[judgments["category"] == "hard_prompt"].reset_index(drop=True)
    raise InputError(
        f"the judgments mix categories {sorted(cats)}", field="--judgments", hint="give one category's files"
    )


def _check_labels(judgments: pd.DataFrame) -> None:
    """v2's script stops at a label it does not know; so do we, saying where."""
    from judgebench.stats.arenahard_official import V2_LABELS

    for col in ("game_1", "game_2"):
        bad = judgments[judgments[col].notna() & ~judgments[col].isin(list(V2_LABELS))]
        if len(bad):
            r = bad.iloc[0]
            raise InputError(
                f"unknown verdict {r[col]!r}",
                path=r["file"],
                row=int(r["row"]),
                field="games[0].score" if col == "game_1" else "games[1].score",
                hint="v2 knows " + ", ".join(V2_LABELS),
            )


def _answers_dir(request: OfficialRequest) -> Path | None:
    """--answers, else the official layout's data/<bench>/model_answer beside model_judgment/<judge>."""
    if request.answers is not None:
        return request.answers
    sibling = request.judgments.parent.parent / "model_answer"
    return sibling if request.judgments.parent.name == "model_judgment" and sibling.is_dir() else None


def leaderboard(request: OfficialRequest) -> pd.DataFrame:
    from judgebench.stats.arenahard_official import PROTOCOLS, failed_games
    from judgebench.stats.arenahard_official import leaderboard as compute

    protocol = request.protocol or "v2"
    judgments = read_judgments(request.judgments)
    if protocol == "v2":
        judgments = _category(judgments)
        _check_labels(judgments)
    baseline = _baseline(request, judgments)
    style = None
    if request.style_control:
        answers = _answers_dir(request)
        if answers is None:
            raise InputError("--style-control needs the answers folder", field="--answers", hint=WHAT)
        style = read_style(answers, PROTOCOLS[protocol].tokenizer)
    table = compute(judgments, style, protocol, baseline, request.style_control, request.n_boot, request.seed)
    table["failed_games"] = failed_games(judgments, protocol).reindex(table.index).fillna(0).astype(int)
    return table.sort_values("score", ascending=False)


def _questions(answers: Path) -> dict:
    """question id -> prompt text, from the question.jsonl beside the answers folder."""
    for name in ("question.jsonl", "question.jsonl.gz"):
        path = answers.parent / name
        if path.exists():
            out = {}
            for i, row in enumerate(read_records(path)):
                text = row.get("prompt")
                if text is None and isinstance(row.get("turns"), list) and row["turns"]:
                    text = row["turns"][0].get("content")  # v0.1's layout
                if not isinstance(text, str):
                    raise InputError("no prompt text", path=path, row=i, field="prompt")
                out[_question(row, path, i)] = text
            return out
    raise InputError(f"no question.jsonl beside {answers}", field="--answers", hint=WHAT)


def _judgment_text(game: dict) -> str | None:
    text = game.get("judgment")
    if isinstance(text, dict):  # v2: the completion's fields
        text = text.get("answer")
    return text if isinstance(text, str) else None


def import_calls(request: OfficialRequest, store: str) -> dict:
    """The official judgments as judge calls of the judge `arena-hard` (the official prompt, read from the
    user's checkout), so annotating the same pairs with that judge and judge model finds them stored. A
    game's verdict is its raw judgment parsed by the version's parser, and must equal its stored label."""
    from judgebench.annotation.calls import judge_calls
    from judgebench.backends import CompletionResponse
    from judgebench.judges.arenahard_prompt import load_arena_hard_judge
    from judgebench.judges.parsers import PARSERS
    from judgebench.judges.protocols import Pair
    from judgebench.store import Judgment, Store

    if request.protocol not in (None, "v2", "v0.1"):
        raise InputError(
            f"--protocol {request.protocol} has no official prompt to import under",
            field="--protocol",
            hint="import with --protocol v2 or v0.1 (the version whose gen_judgment.py wrote the files)",
        )
    answer_dir = _answers_dir(request)
    if answer_dir is None:
        raise InputError("no model_answer folder beside the judgments", field="--judgments", hint=WHAT)
    spec = load_arena_hard_judge("arena-hard:v0.1" if request.protocol == "v0.1" else "arena-hard")
    parser = PARSERS.pick(spec.parser)
    questions = _questions(answer_dir)
    answers: dict = {}
    for path in _files(answer_dir, "--answers"):
        for i, row in enumerate(read_records(path)):
            answers.setdefault(row.get("model_id", row.get("model")), {})[_question(row, path, i)] = (
                _answer_text(row, path, i)
            )
    judgments = read_judgments(request.judgments)
    baseline = _baseline(request, judgments)
    rows, counts = [], {"imported": 0, "skipped_unjudged": 0, "skipped_disagreeing": 0}
    for path in _files(request.judgments, "--judgments"):
        for i, row in enumerate(read_records(path)):
            q, model = _question(row, path, i), row["model"]
            try:
                pair = Pair(questions[q], answers[baseline][q], answers[model][q], baseline, model)
            except KeyError as err:
                raise InputError(f"no question or answer for {err}", path=path, row=i, hint=WHAT) from None
            judge_model = str(row.get("judge") or request.judgments.name)
            for call, game in zip(judge_calls(spec, pair, judge_model), row["games"][:2], strict=True):
                text = _judgment_text(game) if isinstance(game, dict) else None
                if text is None or game.get("score") is None:
                    counts["skipped_unjudged"] += 1
                    continue
                response = CompletionResponse(text)
                verdict, _ = parser(response)
                if verdict is None or verdict != parser(CompletionResponse(f"[[{game['score']}]]"))[0]:
                    counts["skipped_disagreeing"] += 1
                    continue
                rows.append(
                    Judgment(
                        call.key,
                        spec.name,
                        spec.hash,
                        judge_model,
                        pair.instruction,
                        call.slot,
                        "ok",
                        verdict,
                        None,
                        [response.to_raw()],
                        1,
                    )
                )
    with Store(store) as db:
        db.put_many(rows)
    counts["imported"] = len(rows)
    return counts


OFFICIAL = OfficialFiles(
    leaderboard=leaderboard,
    what=WHAT,
    protocols=("v2", "v0.1", "judgebench"),
    import_calls=import_calls,
)
