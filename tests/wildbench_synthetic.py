"""Synthetic WildBench files in the official layouts, for running WildBench's result script and judgebench
side by side (scripts/wildbench_official_reference.py, tests/benchmarks/test_wildbench_official.py).

The eval set in the HF schema (session_id, conversation_input, checklist, primary_tag, secondary_tags);
pairwise judgments against a reference model as batch_results_format.py writes them (the reference's own
file included, which the script skips), with every verdict, answers of varied length so that the length
penalty K changes verdicts, truncated and empty answers; score judgments with scores as numbers and as
strings, truncated and empty answers; and a per-length variant file the script leaves out.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TAGS = [
    "Information seeking",
    "Creative Writing",
    "Coding & Debugging",
    "Reasoning",
    "Editing",
    "Math",
    "Planning",
    "Brainstorming",
    "Role playing",
    "Advice seeking",
    "Data Analysis",
    "Others",
]
REFERENCE = "claude-3-haiku-20240307"
MODELS = {"alpha-7b": -0.8, "beta-chat": 0.0, "gamma-70b": 0.7, "delta-large": 1.4}
N = 40
PAIRWISE = "eval_results/v2.0522/pairwise.v2/eval=gpt-4-turbo-2024-04-09/ref=" + REFERENCE
SCORE = "eval_results/v2.0625/score.v2/eval=gpt-4o-2024-05-13"


def eval_set(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N):
        turns = [{"role": "user", "content": f"task {i}"}]
        if i % 5 == 0:  # a multi-turn session
            turns = [
                {"role": "user", "content": f"start {i}"},
                {"role": "assistant", "content": "ok"},
            ] + turns
        secondary = [str(t) for t in rng.choice(TAGS, size=int(rng.integers(0, 3)), replace=False)]
        rows.append(
            {
                "id": f"s{i:03d}",  # the script keys the tags by id and looks them up by session_id
                "session_id": f"s{i:03d}",
                "conversation_input": turns,
                "checklist": [f"check {i}.{k}" for k in range(3)],
                "primary_tag": TAGS[i % len(TAGS)],
                "secondary_tags": secondary,
            }
        )
    return rows


def _answer(rng, model: str, i: int, size: float) -> str:
    u = rng.random()
    if u < 0.04:
        return "[This model response is empty.]"
    text = f"{model} on {i}: " + "x" * int(rng.integers(100, 900) * size)
    return text + "... (truncated)" if u < 0.08 else text


def write_files(root: Path, seed: int = 0) -> tuple[Path, Path, Path]:
    """root/wildbench.jsonl, root/<PAIRWISE>/, root/<SCORE>/; returns the three paths."""
    rng = np.random.default_rng(seed)
    tasks = eval_set(seed)
    (root / "wildbench.jsonl").parent.mkdir(parents=True, exist_ok=True)
    (root / "wildbench.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    pair_dir, score_dir = root / PAIRWISE, root / SCORE
    pair_dir.mkdir(parents=True, exist_ok=True)
    score_dir.mkdir(parents=True, exist_ok=True)
    for model, strength in {**MODELS, REFERENCE: None}.items():
        items = []
        for t in tasks:
            i = int(t["id"][1:])
            if strength is None:  # the reference against itself: one model, skipped by the script
                out = _answer(rng, REFERENCE, i, 1.0)
                items.append(
                    {
                        "session_id": t["session_id"],
                        "model_A": REFERENCE,
                        "model_B": REFERENCE,
                        "winner": "tie",
                        "extent": 0,
                        "model_outputs": {REFERENCE: out},
                    }
                )
                continue
            mine, ref = _answer(rng, model, i, 1.0 + 0.3 * strength), _answer(rng, REFERENCE, i, 1.0)
            edge = strength + 0.002 * (len(mine) - len(ref)) + rng.normal(0, 0.8)
            if abs(edge) < 0.3:
                winner, extent, choice = "tie", 0, "A=B"
            else:
                winner = model if edge > 0 else REFERENCE
                extent = 2 if abs(edge) > 1.2 else 1
            a_is_model = rng.random() < 0.5
            a, b = (model, REFERENCE) if a_is_model else (REFERENCE, model)
            if winner != "tie":
                choice = ("A" if winner == a else "B") + "+" * extent
            items.append(
                {
                    "session_id": t["session_id"],
                    "parsed_result": {"analysis of A": "...", "choice": choice},
                    "meta_data": {"batch_req_id": f"req-{model}-{i}", "usage": {}, "error": None},
                    "model_A": a,
                    "model_B": b,
                    "winner": winner,
                    "extent": extent,
                    "model_outputs": {a: mine if a == model else ref, b: mine if b == model else ref},
                }
            )
        (pair_dir / f"{model}.json").write_text(json.dumps(items, indent=1))
    (pair_dir / "alpha-7b.K=512.json").write_text((pair_dir / "alpha-7b.json").read_text())  # left out
    for model, strength in {**MODELS, REFERENCE: 0.2}.items():
        items = []
        for t in tasks:
            i = int(t["id"][1:])
            score = int(np.clip(round(6.5 + strength * 1.5 + rng.normal(0, 1.3)), 1, 10))
            out = _answer(rng, model, i, 1.0)
            if rng.random() < 0.03:
                out, score = "", 1  # an empty answer: 1 by WildBench's rule, not in the task groups
            items.append(
                {
                    "session_id": t["session_id"],
                    "parsed_result": {"strengths": "...", "score": str(score)},
                    "meta_data": {"batch_req_id": f"req-{model}-{i}", "usage": {}, "error": None},
                    "model_test": model,
                    "score": str(score) if i % 3 else score,
                    "model_output": out,
                }
            )
        (score_dir / f"{model}.json").write_text(json.dumps(items, indent=1))
    return root / "wildbench.jsonl", pair_dir, score_dir
