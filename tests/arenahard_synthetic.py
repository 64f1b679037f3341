"""Synthetic Arena-Hard-Auto files in the official layouts (v0.1: question_id, model_id, choices,
conv_metadata; v2: uid, category, baseline, messages, metadata), for running the official result scripts
and judgebench side by side (scripts/arenahard_official_reference.py, tests/benchmarks/test_arenahard_official.py).

Models of known strength against the baseline, a judge with a position bias and a taste for long,
markdown-heavy answers, every verdict label (v2's ten; v0.1 knows five and drops the others), and
failed games (score null) at about 5%.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MODELS = {
    "alpha-7b": -1.2,
    "beta-13b": -0.4,
    "gamma-70b": 0.3,
    "org/delta-chat": 0.8,
    "epsilon": 1.5,
    "zeta": 0.0,
}
N_QUESTIONS = 50
JUDGE = "judge-x"
LAYOUTS = {
    # layout: (bench folder, baseline, category)
    "v0.1": ("arena-hard-v0.1", "gpt-4-0314", None),
    "v2": ("arena-hard-v2.0", "o3-mini-2025-01-31", "hard_prompt"),
}
STRONG = {"A": "A>>B", "B": "B>>A"}
SLIGHT = {"A": ["A>B", "B<A"], "B": ["B>A", "A<B"]}


def _meta(rng: np.random.Generator, strength: float) -> dict:
    tokens = int(rng.integers(80, 400) * (1.3**strength))
    return {
        "token_len": max(tokens, 5),
        "header_count": {f"h{k}": int(rng.poisson(0.4 if k < 4 else 0.05)) for k in range(1, 7)},
        "list_count": {"ordered": int(rng.poisson(1 + max(strength, 0))), "unordered": int(rng.poisson(2))},
        "bold_count": {"**": int(rng.poisson(1.5 + strength / 2)), "__": int(rng.poisson(0.1))},
    }


def _verdict(rng: np.random.Generator, edge: float, first_is_model: bool) -> str | None:
    """The label for A (first shown) vs B; `edge`: the model's log-odds of being better."""
    if rng.random() < 0.05:
        return None  # the judge gave no verdict
    shown = edge if first_is_model else -edge
    shown += 0.3  # position bias: the first answer is favoured
    u = rng.random()
    p_a = 1 / (1 + np.exp(-shown))
    tie = 0.15
    if abs(u - p_a) < tie / 2:
        return str(rng.choice(["A=B", "B=A"]))
    side = "A" if u < p_a else "B"
    strong = rng.random() < 0.3 * abs(p_a - 0.5) * 2 + 0.05
    return STRONG[side] if strong else str(rng.choice(SLIGHT[side]))


def write_files(root: Path, layout: str, seed: int = 0) -> tuple[Path, Path]:
    """root/data/<bench>/model_judgment/<judge>/ and .../model_answer/; returns those two folders."""
    bench, baseline, category = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    data = root / "data" / bench
    judgments, answers = data / "model_judgment" / JUDGE, data / "model_answer"
    judgments.mkdir(parents=True, exist_ok=True)
    answers.mkdir(parents=True, exist_ok=True)
    metas = {m: [_meta(rng, s) for _ in range(N_QUESTIONS)] for m, s in {**MODELS, baseline: 0.0}.items()}
    qid = [f"q{q:03d}" if layout == "v2" else f"{q:08x}" for q in range(N_QUESTIONS)]
    questions = [
        {"uid": qid[q], "category": category, "prompt": f"question {q}"}
        if layout == "v2"
        else {"question_id": qid[q], "category": "arena-hard-v0.1", "turns": [{"content": f"question {q}"}]}
        for q in range(N_QUESTIONS)
    ]
    (data / "question.jsonl").write_text("".join(json.dumps(r) + "\n" for r in questions))
    for model, rows in metas.items():
        lines = []
        for q, meta in enumerate(rows):
            text = f"Answer of {model} to question {q}.\n\n## Steps\n1. first\n- **bold** point\n"
            if layout == "v2":
                row = {
                    "uid": qid[q],
                    "ans_id": f"{model}-{q}",
                    "model": model,
                    "messages": [
                        {"role": "user", "content": f"question {q}"},
                        {"role": "assistant", "content": {"answer": text}},
                    ],
                    "tstamp": 0.0,
                    "metadata": meta,
                }
            else:
                row = {
                    "question_id": qid[q],
                    "answer_id": f"{model}-{q}",
                    "model_id": model,
                    "choices": [{"index": 0, "turns": [{"content": text, "token_len": meta["token_len"]}]}],
                    "tstamp": 0.0,
                    "conv_metadata": meta,
                }
            lines.append(json.dumps(row))
        (answers / f"{model.split('/')[-1]}.jsonl").write_text("\n".join(lines) + "\n")
    for model, strength in MODELS.items():
        lines = []
        for q in range(N_QUESTIONS):
            m, b = metas[model][q], metas[baseline][q]
            style = 0.6 * np.log(m["token_len"] / b["token_len"]) + 0.1 * (
                sum(m["list_count"].values()) - sum(b["list_count"].values())
            )
            edge = strength + style + rng.normal(0, 0.5)
            games = []
            for first_is_model in (False, True):  # game 1: baseline as A; game 2: the model as A
                label = _verdict(rng, edge, first_is_model)
                games.append(
                    {
                        "user_prompt" if layout == "v0.1" else "prompt": "...",
                        "judgment": f"[[{label}]]",
                        "score": label,
                    }
                )
            if layout == "v2":
                row = {
                    "uid": qid[q],
                    "category": category,
                    "judge": JUDGE,
                    "model": model,
                    "baseline": baseline,
                    "games": games,
                }
            else:
                row = {"question_id": qid[q], "model": model, "judge": JUDGE, "games": games}
            lines.append(json.dumps(row))
        (judgments / f"{model.split('/')[-1]}.jsonl").write_text("\n".join(lines) + "\n")
    return judgments, answers


def leaderboard_argv(judgments: Path, answers: Path | None = None, *extra: str) -> list[str]:
    """`judgebench leaderboard` over official Arena-Hard judgment files (and their answers folder)."""
    argv = ["leaderboard", "--benchmark", "arena-hard", "--judgments", str(judgments)]
    return argv + (["--answers", str(answers)] if answers is not None else []) + list(extra)


def leaderboard_board(out: Path, judgments: Path, answers: Path, protocol: str, style: bool, extra=()):
    """The leaderboard command's CSV (indexed by model) for the official files, with the official script's
    settings the fixtures were made with (100 resamples, seed 0); `style`: --style-control."""
    import pandas as pd

    from judgebench.cli import main

    argv = leaderboard_argv(judgments, answers, "--protocol", protocol, "--n-boot", "100", "--seed", "0")
    argv += ["--out", str(out), *extra, *(["--style-control"] if style else [])]
    assert main(argv) == 0
    return pd.read_csv(out, index_col="model")
