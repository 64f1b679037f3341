"""WildBench (allenai/WildBench, v2): 1,024 real user tasks with checklists, judged pairwise against
reference models (WB-Reward) and graded alone 1-10 (WB-Score).

    judgebench leaderboard --benchmark wildbench --judgments eval_results/v2.0522/pairwise.v2/eval=J/ref=R \
        --mode reward [--length-penalty 500] --eval-set wildbench.jsonl
    judgebench leaderboard --benchmark wildbench --judgments eval_results/v2.0625/score.v2/eval=J --mode score

The judgment files are WildBench's own (one JSON list per model, as its batch_results_format.py writes
them): pairwise items hold session_id, model_A/model_B, winner (a model or "tie"), extent (0, 1, 2) and
model_outputs; score items session_id, model_test, score, model_output. The tables are what its
leaderboard/data_dir/_create_tables.py and _merge_results.py compute (commit d6b8dca):
- WB-Reward against the folder's reference model: +100 a much better answer, +50 better, 0 tie, -50,
  -100, averaged over every item of the file (the items skipped below count in the denominator, as
  there); the length penalty K turns a plain win (extent 1) whose answer is more than K characters longer
  than the other into a tie (K = -1: none); items where either answer is truncated or empty are skipped.
- WB-Score: (mean score - 5) * 2 * 10 over every item; per task group the same over the items whose
  answer is neither truncated nor empty; the task macro is the weighted mean over the five task groups
  (weights 0.5, 1.25, 1, 0.75, 1.25).
Task groups come from each session's primary and secondary tags in the eval set (HF `allenai/WildBench`,
config v2, split test, or a local file in that schema). Files whose name holds 128, 256, ..., 1024 are
left out, as the script leaves them out (its per-length variants).

The judges `wildbench` (pairwise, WB-Reward) and `wildbench-score` (graded alone, WB-Score) read
WildBench's own prompts from the user's checkout (judges/wildbench_prompt.py); `statistic` turns their
records into the items above, so the suite's numbers come from the same code as `leaderboard`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from judgebench.benchmarks.base import Benchmark, Column, OfficialFiles, OfficialRequest, Results, Scores
from judgebench.benchmarks.evalsets import eval_frame
from judgebench.errors import InputError
from judgebench.files.records import read_records
from judgebench.judges.wildbench_prompt import history_text, shown

FOLDER = "wildbench"
HUB = ("allenai/WildBench", "v2", "test")
HOW_TO_GET = "save allenai/WildBench (config v2, split test) as wildbench/test.jsonl in the data folder"
MODES = ("reward", "score")
WHAT = (
    "WildBench's judgment folder: eval_results/<version>/pairwise.v2/eval=<judge>/ref=<model>/ (--mode "
    "reward) or score.v2/eval=<judge>/ (--mode score), one <model>.json list each (github.com/allenai/WildBench)"
)
# the tags' task groups and the groups' weights in the task macro (_create_tables.py)
GROUPS = {
    "Information seeking": "Information/Advice seeking",
    "Creative Writing": "Creative Tasks",
    "Coding & Debugging": "Coding & Debugging",
    "Reasoning": "Planning & Reasoning",
    "Editing": "Creative Tasks",
    "Math": "Math & Data Analysis",
    "Planning": "Planning & Reasoning",
    "Brainstorming": "Creative Tasks",
    "Role playing": "Creative Tasks",
    "Advice seeking": "Information/Advice seeking",
    "Data Analysis": "Math & Data Analysis",
    "Others": "Creative Tasks",
}
WEIGHTS = {
    "Creative Tasks": 0.5,
    "Planning & Reasoning": 1.25,
    "Math & Data Analysis": 1,
    "Information/Advice seeking": 0.75,
    "Coding & Debugging": 1.25,
}
REWARD = {"win_much": 1.0, "win": 0.5, "tie": 0.0, "lose": -0.5, "lose_much": -1.0}
TRUNCATED, EMPTY = "... (truncated)", "[This model response is empty.]"
LENGTH_VARIANTS = ("128", "256", "384", "512", "640", "768", "896", "1024")
# K's default: _create_tables.py's (K = -1, no penalty), as the paper's main table reports WB-Reward
DEFAULT_K = -1
# WB-Reward's reference models (v2): their answers, one file each, in DATA/wildbench/references/
REFERENCES = ("gpt-4-turbo-2024-04-09", "claude-3-haiku-20240307", "Llama-2-70b-chat-hf")
REFERENCE_DIR = "references"
GET_REFERENCES = (
    "save each of allenai/WildBench-V2-Model-Outputs' configs "
    + ", ".join(REFERENCES)
    + " (split train) as DATA/wildbench/references/<model>.jsonl (session_id, output, generator)"
)


def _eval_file(root: Path) -> Path:
    for name in ("test.jsonl", "test.jsonl.gz", "wildbench.jsonl", "wildbench.jsonl.gz"):
        if (root / FOLDER / name).is_file():
            return root / FOLDER / name
    return root / FOLDER / "test.jsonl"


def load(root: Path) -> pd.DataFrame:
    """The tasks: the conversation's last user turn as the instruction, the earlier turns, the checklist
    and the task groups; no baseline here (the reference models' answers come with the judgments)."""
    path = _eval_file(root)
    if not path.is_file():  # the folder holds only the reference answers: the tasks from the hub
        from judgebench.benchmarks.evalsets import hub_rows

        try:
            rows = hub_rows(*HUB)
        except InputError as err:
            raise InputError(
                f"{path} is missing and {HUB[0]} could not be loaded ({str(err).split(' -> ')[0]})",
                hint=HOW_TO_GET,
            ) from None
        return tasks_frame(rows, f"hf:{HUB[0]}", root)
    return tasks_frame(read_records(path), path, root)


def tasks_frame(rows: list[dict], source, root: Path | None) -> pd.DataFrame:
    """Eval set rows in the HF schema -> the tasks, with the reference answers in root's data folder."""
    tasks = [_task(r, source, i) for i, r in enumerate(rows)]
    if root is None:
        from judgebench.settings import data_dir

        root = data_dir()
    references = _reference_answers(root / FOLDER / REFERENCE_DIR, [t["session_id"] for t in tasks])
    if references:
        for t in tasks:  # judged against every reference; output/generator: the baseline evaluate wants
            t["references"] = {m: answers[t["session_id"]] for m, answers in references.items()}
            t["output"], t["generator"] = next(iter(t["references"].values())), "+".join(references)
    return eval_frame(tasks, source)


def _reference_answers(folder: Path, sessions: list[str]) -> dict[str, dict[str, str]]:
    """model -> session id -> answer, from the reference models' files (allenai/WildBench-V2-Model-Outputs'
    layout); none where the folder is absent. Every session must have an answer in every file."""
    if not folder.is_dir():
        return {}
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".json", ".jsonl", ".jsonl.gz")))
    if not files:
        raise InputError(f"{folder}: no reference answers (<model>.jsonl)", hint=GET_REFERENCES)
    out = {}
    for path in files:
        answers = {}
        for i, row in enumerate(read_records(path)):
            answer = row.get("output")
            answer = answer[0] if isinstance(answer, list) and answer else answer  # the hub's [text]
            if not isinstance(answer, str):
                raise InputError("no answer (a string, or a list of one)", path=path, row=i, field="output")
            answers[_session(row, path, i)] = answer
        missing = [s for s in sessions if s not in answers]
        if missing:
            raise InputError(
                f"no reference answer for session {missing[0]!r} ({len(missing)} sessions missing)",
                path=path,
                field="session_id",
                hint=GET_REFERENCES,
            )
        out[path.name.split(".json")[0]] = answers
    return out


def _task(row: dict, path: Path, i: int) -> dict:
    conv = row.get("conversation_input")
    if not isinstance(conv, list) or not conv or not isinstance(conv[-1], dict):
        raise InputError("no conversation", path=path, row=i, field="conversation_input")
    if conv[-1].get("role") != "user":
        raise InputError("the last turn is not the user's", path=path, row=i, field="conversation_input")
    return {
        "instruction": conv[-1].get("content", ""),
        "session_id": _session(row, path, i),
        "history": history_text(conv[:-1]),  # the earlier turns, as WildBench's prompt shows them
        "checklist": row.get("checklist") or [],
        "dataset": row.get("primary_tag"),
        "groups": _groups(row, path, i),
        # a reference model's answers, where the local file adds them: the pairwise judge's baseline
        **{k: row[k] for k in ("output", "generator") if isinstance(row.get(k), str)},
    }


def _session(row: dict, path: Path, i: int) -> str:
    sid = row.get("session_id")
    if not isinstance(sid, str) or not sid:
        raise InputError("no session id", path=path, row=i, field="session_id")
    return sid


def _groups(row: dict, path: Path, i: int) -> list[str]:
    tags = [row.get("primary_tag"), *(row.get("secondary_tags") or [])]
    unknown = [t for t in tags if t not in GROUPS]
    if unknown:
        raise InputError(
            f"unknown task tag {unknown[0]!r}",
            path=path,
            row=i,
            field="primary_tag" if tags[0] in unknown else "secondary_tags",
            hint="WildBench v2's tags: " + ", ".join(GROUPS),
        )
    return sorted({GROUPS[t] for t in tags})


def task_groups(path: Path) -> dict[str, list[str]]:
    """session id -> its task groups, from an eval set file in the HF schema (the script keys them by
    `id` and looks them up by the judgments' session_id: in WildBench's set the two are the same)."""
    out = {}
    for i, r in enumerate(read_records(path)):
        groups = _groups(r, path, i)
        out[_session(r, path, i)] = groups
        if isinstance(r.get("id"), str):
            out[r["id"]] = groups
    return out


# ---- the official files ---------------------------------------------------------------------------


def _files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    found = sorted(p for p in folder.glob("*.json") if not any(k in p.name for k in LENGTH_VARIANTS))
    if not found:
        raise InputError(f"no <model>.json files in {folder}", field="--judgments", hint=WHAT)
    return found


def _items(path: Path) -> list[dict]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not a JSON list ({type(err).__name__})", path=path, hint=WHAT) from None
    if not isinstance(items, list) or not items or not all(isinstance(x, dict) for x in items):
        raise InputError("expected a non-empty JSON list of judgment objects", path=path, hint=WHAT)
    return items


def _need(item: dict, key: str, path: Path, i: int, kind=str):
    value = item.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(f"missing or not a {getattr(kind, '__name__', kind)}", path=path, row=i, field=key)
    return value


def reward_row(path: Path, reference: str, groups: dict, k: int) -> dict | None:
    """One model's WB-Reward against `reference` (fractions, as _create_tables.py keeps them); None for a
    file of the reference against itself."""
    items = _items(path)
    models = list(_need(items[0], "model_outputs", path, 0, dict))
    if len(models) == 1:
        return None
    if len(models) != 2:
        raise InputError("expected the outputs of two models", path=path, row=0, field="model_outputs")
    ref = models[0] if reference in models[0] else models[1]  # the script's substring match
    test = models[0] if reference in models[1] else models[1]
    return {"model": path.stem, **reward_fields(items, test, ref, groups, k, path)}


def reward_fields(items: list[dict], test: str, ref: str, groups: dict, k: int, path) -> dict:
    """WB-Reward of `test` against `ref` over judgment items in WildBench's layout (fractions)."""
    counts = dict.fromkeys(REWARD, 0)
    by_group: dict[str, dict[str, int]] = {}
    lengths = []
    for i, item in enumerate(items):
        outputs = _need(item, "model_outputs", path, i, dict)
        try:
            t, r = outputs[test], outputs[ref]
        except KeyError as err:
            raise InputError(f"no output of {err}", path=path, row=i, field="model_outputs") from None
        if any(x.endswith(TRUNCATED) or x == EMPTY for x in (t, r)):
            continue
        winner, extent = item.get("winner"), item.get("extent")
        if winner == test:
            label = "win_much" if extent == 2 else "tie" if k >= 0 and len(t) > len(r) + k else "win"
        elif winner == ref:
            label = "lose_much" if extent == 2 else "tie" if k >= 0 and len(r) > len(t) + k else "lose"
        elif winner == "tie":
            label = "tie"
        else:
            raise InputError(
                f"winner {winner!r} is neither model nor 'tie'", path=path, row=i, field="winner", hint=WHAT
            )
        if winner != "tie" and extent not in (1, 2):
            raise InputError(f"extent {extent!r} is not 1 or 2", path=path, row=i, field="extent")
        counts[label] += 1
        lengths.append(len(t))
        for g in _groups_of(groups, item, path, i):
            by_group.setdefault(g, dict.fromkeys(REWARD, 0))[label] += 1
    rewards = {g: _reward(c) / sum(c.values()) for g, c in by_group.items()}
    return {
        **counts,
        "total": len(items),
        "reward": _reward(counts) / len(items),
        "task_macro_reward": _macro(rewards),
        "avg_len": sum(lengths) / len(lengths) if lengths else float("nan"),
        **{f"reward.{g}": v for g, v in rewards.items()},
    }


def score_row(path: Path, groups: dict) -> dict:
    return {"model": path.stem, **score_fields(_items(path), groups, path)}


def score_fields(items: list[dict], groups: dict, path) -> dict:
    """WB-Score over score items in WildBench's layout (adjusted scores on the -10..10 scale)."""
    scores: list[float] = []
    lengths: list[int] = []
    by_group: dict[str, list[float]] = {}
    for i, item in enumerate(items):
        try:
            s = float(item["score"])
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"score {item.get('score')!r} is not a number", path=path, row=i, field="score"
            ) from None
        scores.append(s)
        out = _need(item, "model_output", path, i)
        if out.endswith(TRUNCATED) or not out:
            continue
        lengths.append(len(out))
        for g in _groups_of(groups, item, path, i):
            by_group.setdefault(g, []).append(s)
    cats = {g: (sum(v) / len(v) - 5) * 2 for g, v in by_group.items()}
    mean = sum(scores) / len(scores)
    return {
        "score": mean,
        "adjusted_score": (mean - 5) * 2,
        "task_macro_score": _macro(cats),
        "total": len(items),
        "avg_len": sum(lengths) / len(lengths) if lengths else float("nan"),
        **{f"score.{g}": v for g, v in cats.items()},
    }


def _groups_of(groups: dict, item: dict, path: Path, i: int) -> list[str]:
    sid = _need(item, "session_id", path, i)
    if sid not in groups:
        raise InputError(
            f"session {sid!r} is not in the eval set",
            path=path,
            row=i,
            field="session_id",
            hint="--eval-set FILE",
        )
    return groups[sid]


def _reward(c: dict) -> float:
    return sum(REWARD[k] * n for k, n in c.items())


def _macro(per_group: dict) -> float:
    return sum(v * WEIGHTS[g] for g, v in per_group.items()) / sum(WEIGHTS.values())


def _reference(request: OfficialRequest) -> str:
    if request.baseline:
        return request.baseline
    folder = request.judgments if request.judgments.is_dir() else request.judgments.parent
    if folder.name.startswith("ref="):
        return folder.name[len("ref=") :]
    raise InputError(
        "cannot tell the reference model",
        field="--baseline",
        hint="pass --baseline MODEL (the folder's ref=MODEL)",
    )


def leaderboard(request: OfficialRequest) -> pd.DataFrame:
    """_create_tables.py's table for the mode, shown as _merge_results.py shows it (x100: WB-Reward in
    percent, WB-Score on its 0-100 scale; per-group columns likewise), best first."""
    from judgebench.settings import data_dir

    mode = request.mode or MODES[0]
    eval_set = request.eval_set or _eval_file(data_dir())
    if not Path(eval_set).is_file():
        raise InputError(
            f"{eval_set}: no WildBench eval set (its task tags group the scores)",
            field="--eval-set",
            hint="pass --eval-set FILE: allenai/WildBench (config v2, split test) saved as JSON lines",
        )
    groups = task_groups(Path(eval_set))
    if mode == "reward":
        k = DEFAULT_K if request.length_penalty is None else request.length_penalty
        reference = _reference(request)
        rows = [r for p in _files(request.judgments) if (r := reward_row(p, reference, groups, k))]
        scaled = ["reward", "task_macro_reward", *(f"reward.{g}" for g in WEIGHTS)]
        key = "reward"
    else:
        rows = [score_row(p, groups) for p in _files(request.judgments)]
        for r in rows:  # WB_score: the adjusted scores x 10, as _merge_results.py shows them
            r["WB_score"], r["WB_score.task_macro"] = r.pop("adjusted_score"), r.pop("task_macro_score")
            for g in WEIGHTS:
                if f"score.{g}" in r:
                    r[f"WB_score.{g}"] = r.pop(f"score.{g}")
        scaled = ["WB_score", "WB_score.task_macro", *(f"WB_score.{g}" for g in WEIGHTS)]
        key = "score"
    if not rows:
        raise InputError("no model's judgments against another model", field="--judgments", hint=WHAT)
    table = pd.DataFrame(rows).set_index("model")
    for c in scaled:
        if c in table:
            table[c] = table[c] * 100 if mode == "reward" else table[c] * 10
    table.index = [m.split("/")[-1] for m in table.index]
    return table.rename_axis("model").sort_values(key, ascending=False, kind="stable")


def statistic(results: Results) -> Scores:
    """The suite's judgments through the same code as WildBench's own files: each judged record becomes an
    item of WildBench's layout, its answers as the prompt showed them (cut, blank marked), so the tables'
    rules apply (a truncated or empty answer counts in the denominator only). A failed judgment is left
    out, as batch_results_format.py leaves out a reply without a choice or score, and counted. WB-Reward
    against several reference models is their mean (_merge_results.py's mixture_of_rewards). K: the
    length penalty (Results.length_penalty; default DEFAULT_K)."""
    from judgebench.judges.protocols import protocol_of

    pairwise = protocol_of(results.judge).pairwise
    k = DEFAULT_K if results.length_penalty is None else results.length_penalty
    rows: dict = {}
    details: dict = {}
    for model, records in results.records.items():
        where = f"the judgments of {model}"
        blank = sum(1 for r in records if _by_rule(r))  # judged by the blank-answer rule, no call
        row = {"wb_reward": None, "wb_score": None, "n_failed": 0, "n_blank": blank}
        detail: dict = {"n_failed": 0, "n_blank": blank}
        if pairwise:
            per_ref = _reward_items(records, model)
            failed = {ref: n for ref, (_, n) in per_ref.items()}
            detail.update(length_penalty=k, failed_by_reference=failed)
            row["n_failed"] = detail["n_failed"] = sum(1 for r in records if r.get("preference") is None)
            got = {
                ref: reward_fields(items, model, ref, _groups_by_session(records), k, where)
                for ref, (items, _) in per_ref.items()
                if items
            }
            if got and len(got) == len(per_ref):
                row["wb_reward"] = sum(g["reward"] for g in got.values()) / len(got) * 100
                detail.update(
                    references=list(got),
                    task_macro_reward=sum(g["task_macro_reward"] for g in got.values()) / len(got) * 100,
                    reward_by_reference={ref: g["reward"] * 100 for ref, g in got.items()},
                )
            else:
                none = [ref for ref in per_ref if ref not in got] or ["a reference"]
                detail["note"] = f"no WB-Reward: no judgment of {model} against {', '.join(none)} succeeded"
        else:
            judged = [r for r in records if r.get("score") is not None]
            row["n_failed"] = detail["n_failed"] = len(records) - len(judged)
            if judged:
                items = [
                    {
                        "session_id": _sid(r),
                        "score": r["score"],
                        "model_output": shown(r.get("output_2") or "", False),
                    }
                    for r in judged
                ]
                graded = score_fields(items, _groups_by_session(judged), where)
                row["wb_score"] = graded["adjusted_score"] * 10
                detail.update(task_macro_score=graded["task_macro_score"] * 10, mean_score=graded["score"])
            else:
                detail["note"] = f"no score: none of {len(records)} judgments of {model} succeeded"
        rows[model] = row
        details[model] = detail
    return Scores(rows, details)


def _by_rule(record: dict) -> bool:
    """Judged by WildBench's rule for a blank answer (the candidate's, or a reference's), without a call."""
    return bool(record.get("rule")) or any(v.get("rule") for v in (record.get("wildbench") or {}).values())


def _sid(record: dict) -> str:
    return record.get("session_id") or record["instruction"]


def _groups_by_session(records: list[dict]) -> dict[str, list[str]]:
    return {_sid(r): r["groups"] for r in records if isinstance(r.get("groups"), list)}


def _reward_items(records: list[dict], model: str) -> dict[str, tuple[list[dict], int]]:
    """reference -> (the judged records as WildBench's pairwise items, how many failed). A record holds
    each reference's verdict under "wildbench" (one reference: the baseline, generator_1)."""
    out: dict[str, tuple[list[dict], int]] = {}
    for r in records:
        verdicts = r.get("wildbench") or {
            str(r.get("generator_1")): {"winner": r.get("winner"), "extent": r.get("extent")}
        }
        for ref, v in verdicts.items():
            items, failed = out.get(ref, ([], 0))
            if v.get("winner") is None:  # failed, or never judged (its answer was not generated)
                out[ref] = (items, failed + 1)
                continue
            answer = v["output"] if "output" in v else r.get("output_1") or ""
            winner = {"candidate": model, "baseline": ref}.get(v["winner"], "tie")
            outputs = {model: shown(r.get("output_2") or "", True), ref: shown(answer, True)}
            items.append(
                {"session_id": _sid(r), "winner": winner, "extent": v["extent"], "model_outputs": outputs}
            )
            out[ref] = (items, failed)
    return out


BENCHMARK = Benchmark(
    name="wildbench",
    title="WildBench",
    load=load,
    data=FOLDER,
    baseline=None,
    # WB-Score needs no reference answers, so it is the standard judge; `--judge wildbench=wildbench` gives
    # WB-Reward where the eval set file carries a reference model's answers (output, generator)
    judge="wildbench-score",
    local_judge="wildbench-score",
    statistic=statistic,
    columns=(Column("WB-Reward", "wb_reward", headline=True), Column("WB-Score", "wb_score")),
    hub=HUB,
    from_hub=lambda rows, source: tasks_frame(rows, source, None),
    how_to_get=HOW_TO_GET,
    official=OfficialFiles(leaderboard=leaderboard, what=WHAT, modes=MODES),
    suite_default=False,
    evaluate_statistic=True,
)
