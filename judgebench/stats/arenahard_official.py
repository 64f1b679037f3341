"""Arena-Hard-Auto's result script, per version, on its own judgment files (lmarena/arena-hard-auto).

    table = leaderboard(judgments, style, protocol="v2", baseline=..., style_control=False, n_boot=100, seed=0)

`judgments`: one row per judged question in file order (model, question, category, game_1, game_2; a game
is its verdict label such as "A>>B", or None where the judge gave none; game_1 shows the baseline as A,
game_2 the model as A). `style`: model -> question -> {token_len, header_count, list_count, bold_count}
(counts already summed over their kinds), needed only with style control. The table: score, lower, upper
in percent, a row per model and the baseline.

Each version is reproduced as its script computes it, RNG included (a seeded numpy RandomState stands in
for the global one the scripts draw from, in the same order), so the same files and seed give the same
numbers, not merely close ones:
- v0.1 (show_result.py at 0489bf3): battles, a strong verdict repeated 3 times, a game without a verdict
  dropped alone; Bradley-Terry by sklearn's logistic regression on duplicated battles (a tie = one win +
  one loss) with a log(10) design, Elo-scaled and anchored; the score is the full fit, the interval the
  2.5/97.5 percentiles of 100 fits on battles resampled with replacement. Style control: (a - b) /
  (a + b + 1) of tokens and markdown counts, centred and scaled (ddof 0), logistic regression with
  sklearn's default L2 penalty (C=1) as the script leaves it.
- v2 (show_result.py at 196f6b8): a question with any game unjudged is dropped whole; the plain score is
  the mean, over 100 per-model resamples, of the mean battle score, the interval their 5/95% quantiles.
  Style control: length as (m - b) / (m + b), markdown as densities per token, (m - b) / (m + b + 1),
  centred and scaled (ddof 1); Bradley-Terry fitted by torch's L-BFGS (lr 0.1, 50 iterations, float32),
  with torch itself where it is installed (the script's numbers to the last digit), else replayed in
  numpy step for step (within 0.007); score and interval are the 50/5/95% quantiles of the bootstrap.
- judgebench: the same battles (v0.1's weights and failure rule) scored by stats/arenahard.py:
  weighted Bradley-Terry, features not centred, a bootstrap over games (not duplicated rows).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgebench.errors import InputError

STYLE_KEYS = ("token_len", "header_count", "list_count", "bold_count")


@dataclass(frozen=True)
class Protocol:
    name: str
    script: str  # the official script (and commit) this version reproduces
    tokenizer: str  # the model whose tiktoken encoding counts answer tokens (add_markdown_info.py)
    interval: tuple[float, float]  # percentiles of the bootstrap
    parse: Callable[[str], str | None]  # raw judgment -> verdict label
    failure: str  # "game": an unjudged game is dropped alone; "question": both games of its question


def parse_v01(judgment: str) -> str | None:
    """gen_judgment.py v0.1: the [[label]] matches; exactly one distinct label, else none."""
    found = {m for m in re.findall(r"\[\[([AB<>=]+)\]\]", judgment) if m}
    return found.pop().strip("\n") if len(found) == 1 else None


def parse_v2(judgment: str) -> str | None:
    """gen_judgment.py v2: [[label]], else [label], in the upper-cased text; the last match wins."""
    for pattern in (r"\[\[([AB<>=]+)\]\]", r"\[([AB<>=]+)\]"):
        found = [m for m in re.findall(pattern, judgment.upper()) if m]
        if found:
            return found[-1].strip("\n")
    return None


PROTOCOLS = {
    "v2": Protocol("v2", "show_result.py at 196f6b8", "gpt-4o", (5.0, 95.0), parse_v2, "question"),
    "v0.1": Protocol("v0.1", "show_result.py at 0489bf3", "gpt-3.5-turbo", (2.5, 97.5), parse_v01, "game"),
    "judgebench": Protocol(
        "judgebench", "stats/arenahard.py", "gpt-3.5-turbo", (2.5, 97.5), parse_v01, "game"
    ),
}

# v0.1: the baseline is model_a in game 1; who wins each label, and whether it counts `weight` times
_V01_GAME_1 = {"A=B": ("tie", 1), "A>B": ("model_a", 1), "A>>B": ("model_a", 3), "B>A": ("model_b", 1)}
_V01_GAME_1 |= {"B>>A": ("model_b", 3)}
_V01_GAME_2 = {"A=B": ("tie", 1), "A>B": ("model_b", 1), "A>>B": ("model_b", 3), "B>A": ("model_a", 1)}
_V01_GAME_2 |= {"B>>A": ("model_a", 3)}
# v2: A's score for each label (a strong one counts 3 times)
V2_LABELS: dict[str, list[float]] = {
    "A>B": [1],
    "A>>B": [1] * 3,
    "A=B": [0.5],
    "A<<B": [0] * 3,
    "A<B": [0],
    "B>A": [0],
    "B>>A": [0] * 3,
    "B=A": [0.5],
    "B<<A": [1] * 3,
    "B<A": [1],
}


def leaderboard(
    judgments: pd.DataFrame,
    style: dict | None,
    protocol: str,
    baseline: str,
    style_control: bool = False,
    n_boot: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """score, lower, upper (percent) per model and the baseline, as `protocol`'s script computes them."""
    if protocol == "v2":
        battles = v2_battles(judgments)
        return (
            v2_style(battles, style, baseline, n_boot, seed)
            if style_control
            else v2_plain(battles, baseline, n_boot, seed)
        )
    battles = v01_battles(judgments, baseline, with_questions=True)
    if protocol == "v0.1":
        if style_control:
            return v01_style(battles, style, baseline, n_boot, seed)
        return v01_plain(battles, baseline, n_boot, seed)
    if protocol == "judgebench":
        return judgebench_scores(battles, style, baseline, style_control, n_boot, seed)
    raise InputError(f"unknown Arena-Hard protocol {protocol!r}", hint="one of: " + ", ".join(PROTOCOLS))


def failed_games(judgments: pd.DataFrame, protocol: str) -> pd.Series:
    """Games left out per model under the protocol's failure rule (v0.1 also leaves out the labels it
    does not know, such as "B<A")."""
    if PROTOCOLS[protocol].failure == "question":  # v2: by the name its table shows (org/m -> m)
        missing = judgments[["game_1", "game_2"]].isna()
        return (missing.any(axis=1) * 2).groupby(judgments["model"].str.split("/").str[-1]).sum()
    missing = ~judgments[["game_1", "game_2"]].isin(list(_V01_GAME_1))
    return missing.sum(axis=1).groupby(judgments["model"]).sum()


# ---- v0.1 -------------------------------------------------------------------------------------------


def v01_battles(judgments: pd.DataFrame, baseline: str, with_questions: bool = False) -> pd.DataFrame:
    """One row per battle in the script's order: game 1's (times its weight), then game 2's; a game
    whose label v0.1 does not know is dropped alone."""
    rows = []
    for r in judgments.itertuples(index=False):
        for game, table in ((r.game_1, _V01_GAME_1), (r.game_2, _V01_GAME_2)):
            if game in table:
                winner, weight = table[game]
                rows += [(r.question, baseline, r.model, winner)] * weight
    return pd.DataFrame(rows, columns=["question", "model_a", "model_b", "winner"])


def _v01_design(battles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """compute_mle_elo's matrices: battles twice, +log(10) for model_a, -log(10) for model_b; the
    first copy of a tie is a win for a, the second a loss."""
    models = pd.concat([battles["model_a"], battles["model_b"]]).unique()
    models = pd.Series(np.arange(len(models)), index=models)
    df = pd.concat([battles, battles], ignore_index=True)
    n = len(df)
    x = np.zeros([n, len(models)])
    x[np.arange(n), models[df["model_a"]]] = +math.log(10)
    x[np.arange(n), models[df["model_b"]]] = -math.log(10)
    y = np.zeros(n)
    y[(df["winner"] == "model_a").to_numpy()] = 1.0
    tie = (df["winner"] == "tie").to_numpy().copy()
    tie[len(tie) // 2 :] = False
    y[tie] = 1.0
    return x, y, models


def _v01_elo(battles: pd.DataFrame, anchor: str) -> pd.Series:
    from sklearn.linear_model import LogisticRegression

    x, y, models = _v01_design(battles)
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8)  # the script: penalty=None
    lr.fit(x, y)
    elo = 400 * lr.coef_[0] + 1000
    if anchor in models.index:
        elo += 1000 - elo[models[anchor]]
    return pd.Series(elo, index=models.index)


def _win_rate_vs(elo: pd.Series, baseline: str) -> pd.Series:
    """predict_win_rate's column for the baseline, in percent (the baseline's own: 50)."""
    rate = 100.0 / (1.0 + 10 ** ((elo[baseline] - elo) / 400))
    rate[baseline] = 50.0
    return rate


def _v01_table(point: pd.Series, boot: pd.DataFrame, baseline: str, level=(2.5, 97.5)) -> pd.DataFrame:
    models = sorted(point.index)
    if boot.empty:  # no bootstrap asked for (--n-boot 0): the score alone
        nan = pd.Series(np.nan, index=models)
        return pd.DataFrame({"score": _win_rate_vs(point[models], baseline), "lower": nan, "upper": nan})
    lower = pd.Series({m: np.percentile(boot[m], level[0]) for m in models})
    upper = pd.Series({m: np.percentile(boot[m], level[1]) for m in models})
    return pd.DataFrame(
        {
            "score": _win_rate_vs(point[models], baseline),
            "lower": _win_rate_vs(lower, baseline),
            "upper": _win_rate_vs(upper, baseline),
        }
    ).rename_axis("model")


def v01_plain(battles: pd.DataFrame, baseline: str, n_boot: int, seed: int) -> pd.DataFrame:
    point = _v01_elo(battles, baseline)
    rng = np.random.RandomState(seed)
    # get_bootstrap_result never passes the baseline on: each resample is anchored on gpt-4-0314
    boot = pd.DataFrame(
        [
            _v01_elo(battles.sample(frac=1.0, replace=True, random_state=rng), "gpt-4-0314")
            for _ in range(n_boot)
        ]
    )
    return _v01_table(point, boot, baseline)


def _v01_style_matrices(battles: pd.DataFrame, style: dict) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    x, y, models = _v01_design(battles)
    df = pd.concat([battles, battles], ignore_index=True)
    a = _style_rows(df["model_a"], df["question"], style)
    b = _style_rows(df["model_b"], df["question"], style)
    diff = (a - b).T.astype(float)
    total = (a + b).T.astype(float) + 1.0
    diff /= total
    scaled = (diff - diff.mean(axis=1)[:, None]) / diff.std(axis=1)[:, None]
    return np.hstack([x, scaled.T]), y, models


def _v01_fit_bt(x: np.ndarray, y: np.ndarray, models: pd.Series, baseline: str) -> pd.Series:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(fit_intercept=False)  # the script keeps sklearn's default L2 penalty, C=1
    lr.fit(x, y)
    elo = 400 * lr.coef_[0] + 1000
    elo += 1114 - elo[models[baseline]]
    return pd.Series(elo[: len(models)], index=models.index)


def v01_style(
    battles: pd.DataFrame, style: dict | None, baseline: str, n_boot: int, seed: int
) -> pd.DataFrame:
    x, y, models = _v01_style_matrices(battles, _need(style))
    point = _v01_fit_bt(x, y, models, baseline)
    k = len(battles)
    tie = (battles["winner"] == "tie").to_numpy()
    rng = np.random.RandomState(seed)
    elos = []
    for _ in range(n_boot):
        idx = rng.choice(k, size=k, replace=True)
        untied, tied = idx[~tie[idx]], idx[tie[idx]]
        tied = np.concatenate([tied, tied + k])  # a tie keeps its win and its loss copy
        rows = np.concatenate([untied, untied, tied])
        elos.append(_v01_fit_bt(x[rows], y[rows], models, baseline))
    return _v01_table(point, pd.DataFrame(elos), baseline)


# ---- v2 ---------------------------------------------------------------------------------------------


def v2_battles(judgments: pd.DataFrame) -> pd.DataFrame:
    """load_judgments: questions with both games judged; the model's scores, game 2's then game 1's."""
    kept = judgments[judgments[["game_1", "game_2"]].notna().all(axis=1)]
    rows = []
    for r in kept.itertuples(index=False):
        scores = V2_LABELS[r.game_2] + [1 - s for s in V2_LABELS[r.game_1]]
        rows += [(r.question, r.model.split("/")[-1], r.model, s) for s in scores]
    return pd.DataFrame(rows, columns=["question", "model", "answer_model", "scores"])


def v2_plain(battles: pd.DataFrame, baseline: str, n_boot: int, seed: int) -> pd.DataFrame:
    rng = np.random.RandomState(seed)
    frame = battles[["model", "scores"]]
    if n_boot == 0:  # the score alone: the mean the bootstrap means estimate
        table = frame.groupby("model")["scores"].mean().astype(float).to_frame("score") * 100
        table = table.assign(lower=np.nan, upper=np.nan)
        table.loc[baseline] = [50.0, np.nan, np.nan]
        return table.rename_axis("model").sort_index()
    boot = pd.concat(
        [
            frame.groupby("model").sample(frac=1.0, replace=True, random_state=rng).groupby("model").mean()
            for _ in range(n_boot)
        ]
    )
    boot["scores"] = boot["scores"].astype(float)
    by = boot.groupby("model")["scores"]
    table = pd.DataFrame({"score": by.mean(), "lower": by.quantile(0.05), "upper": by.quantile(0.95)}) * 100
    table.loc[baseline] = 50.0
    return table.rename_axis("model").sort_index()


def v2_features(battles: pd.DataFrame, style: dict, baseline: str) -> np.ndarray:
    """The normalised style features, in float32 as the script's tensors."""
    m = _style_rows(battles["answer_model"], battles["question"], style).astype(np.float32)
    b = _style_rows(pd.Series(baseline, index=battles.index), battles["question"], style).astype(np.float32)
    out = np.zeros_like(m)
    out[:, 0] = (m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0])
    md, bd = m[:, 1:] / (m[:, :1] + 1), b[:, 1:] / (b[:, :1] + 1)
    out[:, 1:] = (md - bd) / (md + bd + 1)
    return (out - out.mean(axis=0)) / out.std(axis=0, ddof=1)


def v2_style(
    battles: pd.DataFrame, style: dict | None, baseline: str, n_boot: int, seed: int
) -> pd.DataFrame:
    style = _need(style)
    models = sorted(set(battles["model"]) | {baseline})
    rng = np.random.RandomState(seed)
    boot_idxs = rng.randint(low=0, high=len(battles), size=(n_boot, len(battles)))
    if n_boot == 0:  # the score alone: one fit on every battle
        boot_idxs = np.arange(len(battles))[None, :]
    try:
        import torch  # noqa: F401  (the script's own computation, where torch is installed)
    except (ImportError, OSError):  # not installed, or its libraries broken: the numpy replay
        probs = _v2_numpy_probs(battles, style, baseline, models, boot_idxs)
    else:
        probs = _v2_torch_probs(battles, style, baseline, models, boot_idxs)
    probs = pd.DataFrame(probs, columns=models)
    lower, upper = (probs.quantile(0.05), probs.quantile(0.95)) if n_boot else (np.nan, np.nan)
    return (
        pd.DataFrame({"score": probs.quantile(0.5), "lower": lower, "upper": upper})
        .astype(float)
        .mul(100)
        .rename_axis("model")
    )


def _onehot(battles: pd.DataFrame, models: list[str], baseline: str) -> np.ndarray:
    """one_hot_encode: +1 for the battle's model, -1 for the baseline."""
    onehot = np.zeros((len(battles), len(models)), dtype=np.float32)
    onehot[np.arange(len(battles)), [models.index(m) for m in battles["model"]]] = 1
    onehot[:, models.index(baseline)] = -1
    return onehot


def _v2_numpy_probs(battles, style, baseline, models, boot_idxs) -> np.ndarray:
    """Without torch: the script's fits replayed in numpy float32 (torch_lbfgs_bt); each win rate to
    float32 and back, as the script's tolist() of a float32 tensor gives it."""
    x = np.hstack([_onehot(battles, models, baseline), v2_features(battles, style, baseline)])
    y = battles["scores"].to_numpy(np.float32)
    coefs = np.stack([torch_lbfgs_bt(x[i], y[i]) for i in boot_idxs])[:, : len(models)]
    base = coefs[:, models.index(baseline)]
    probs = np.exp(coefs) / (np.exp(coefs) + np.exp(base)[:, None])
    return probs.astype(np.float32).astype(np.float64)


def _v2_torch_probs(battles, style, baseline, models, boot_idxs) -> np.ndarray:
    """With torch: print_leaderboard_with_style_features's tensors and fit_pairwise_model's L-BFGS
    themselves, in the script's order of operations, so float32 rounds as it rounds there."""
    import torch
    import torch.nn.functional as F

    def tensor(model_names):
        return torch.tensor(
            _style_rows(model_names, battles["question"], style).tolist(), dtype=torch.float32
        )

    m, b = tensor(battles["answer_model"]), tensor(pd.Series(baseline, index=battles.index))
    f = torch.zeros_like(m)
    f[:, 0] = (m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0])
    md, bd = m[:, 1:] / (m[:, :1] + 1), b[:, 1:] / (b[:, :1] + 1)
    f[:, 1:] = (md - bd) / (md + bd + 1)
    f = (f - torch.mean(f, dim=0)) / torch.std(f, dim=0)  # the script's axis=0 (numpy's spelling)
    x = torch.cat([torch.tensor(_onehot(battles, models, baseline).tolist(), dtype=torch.float32), f], dim=1)
    y = torch.tensor(battles["scores"].tolist()).float()

    def fit(rows: np.ndarray):
        xs, ys = x[rows], y[rows]
        w = torch.nn.Parameter(torch.full((x.shape[1],), 0.5))
        opt = torch.optim.LBFGS([w], lr=0.1, max_iter=50, tolerance_grad=1e-9, tolerance_change=1e-9)

        def closure():
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(xs @ w, ys, reduction="sum")
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # fits this small run ~8x faster on one thread, to the same numbers
    try:
        coefs = torch.stack([fit(rows) for rows in boot_idxs])[:, : len(models)]
    finally:
        torch.set_num_threads(threads)
    exp, base = torch.exp(coefs), models.index(baseline)
    probs = torch.zeros(coefs.shape[0], coefs.shape[1])
    for j in range(len(models)):
        probs[:, j] = exp[:, j] / (exp[:, j] + exp[:, base])
    return np.array(probs.tolist())


def torch_lbfgs_bt(x: np.ndarray, y: np.ndarray, lr=0.1, tol=1e-9, max_iter=50) -> np.ndarray:
    """fit_pairwise_model's fit: torch.optim.LBFGS without line search (fixed step lr, history 100) on
    the summed binary cross-entropy, from all coefficients 0.5, in float32. It stops after 50
    iterations, usually before the optimum, so the optimum itself would not reproduce its numbers."""
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    w = np.full(x.shape[1], 0.5, np.float32)

    def closure(w):
        z = x @ w
        loss = np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), dtype=np.float32)
        return float(loss), x.T @ (_sigmoid32(z) - y)

    loss, g = closure(w)
    if np.abs(g).max() <= tol:
        return w
    dirs: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    ro: list[np.float32] = []
    h_diag = np.float32(1.0)
    d = -g
    t = np.float32(0)
    prev_g = g
    for n_iter in range(1, max_iter + 1):
        if n_iter > 1:
            yk, sk = g - prev_g, d * t
            ys = np.float32(yk @ sk)
            if ys > 1e-10:
                dirs.append(yk)
                steps.append(sk)
                ro.append(np.float32(1.0) / ys)
                h_diag = ys / np.float32(yk @ yk)
            q = -g
            al = [np.float32(0)] * len(dirs)
            for i in range(len(dirs) - 1, -1, -1):
                al[i] = np.float32(steps[i] @ q) * ro[i]
                q = q - al[i] * dirs[i]
            d = r = q * h_diag
            for i in range(len(dirs)):
                be_i = np.float32(dirs[i] @ r) * ro[i]
                r = r + (al[i] - be_i) * steps[i]
            d = r
        prev_g, prev_loss = g, loss
        t = np.float32(min(1.0, 1.0 / float(np.abs(g).sum())) * lr) if n_iter == 1 else np.float32(lr)
        if float(g @ d) > -tol:
            break
        w = (w + t * d).astype(np.float32)
        if n_iter != max_iter:
            loss, g = closure(w)
        if n_iter == max_iter or np.abs(g).max() <= tol:
            break
        if np.abs(d * t).max() <= tol or abs(loss - prev_loss) < tol:
            break
    return w


def _sigmoid32(z: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-z.astype(np.float64)))).astype(np.float32)


# ---- judgebench ---------------------------------------------------------------------------------------


def judgebench_scores(
    battles: pd.DataFrame, style: dict | None, baseline: str, style_control: bool, n_boot: int, seed: int
) -> pd.DataFrame:
    """v0.1's battles, scored by judgebench's own statistic (weights instead of repeated rows; the
    bootstrap resamples games)."""
    from judgebench.stats import arenahard

    games = battles.groupby(["question", "model_b", "winner"], sort=False).size().reset_index(name="weight")
    points = {"model_b": 1.0, "tie": 0.5, "model_a": 0.0}
    frame = pd.DataFrame(
        {
            "model": games["model_b"],
            "instruction": games["question"].astype(str),
            "score": games["winner"].map(points),
            "weight": games["weight"].astype(float),
        }
    )
    names = {"length": "token_len", "headers": "header_count", "lists": "list_count", "bold": "bold_count"}
    if style_control:
        style = _need(style)
        c = _style_rows(games["model_b"], games["question"], style)
        b = _style_rows(pd.Series(baseline, index=games.index), games["question"], style)
        for j, f in enumerate(names):
            frame[f"c_{f}"], frame[f"b_{f}"] = c[:, j], b[:, j]
    else:
        for f in names:
            frame[f"c_{f}"] = frame[f"b_{f}"] = 0
    table = arenahard.arena_hard_scores(frame, n_boot=n_boot, seed=seed, style=style_control)
    pick = (
        ("style_controlled", "sc_ci_low", "sc_ci_high") if style_control else ("score", "ci_low", "ci_high")
    )
    out = table.reindex(columns=list(pick)).set_axis(["score", "lower", "upper"], axis=1)  # n_boot 0: no CI
    out.loc[baseline] = 50.0
    return out.rename_axis("model").sort_index()


# ---- shared ---------------------------------------------------------------------------------------------


def _need(style: dict | None) -> dict:
    if style is None:
        raise InputError(
            "style control needs the models' answers", field="--answers", hint="pass --answers DIR"
        )
    return style


def _style_rows(models: pd.Series, questions: pd.Series, style: dict) -> np.ndarray:
    """The four style counts of each (model, question)'s answer."""
    out = np.zeros((len(models), len(STYLE_KEYS)), dtype=np.int64)
    for i, (m, q) in enumerate(zip(models, questions, strict=True)):
        try:
            meta = style[m][q]
        except KeyError:
            raise InputError(
                f"no answer of {m!r} to question {q!r} for style control",
                field="--answers",
                hint="the answers folder must hold every judged model's and the baseline's answers",
            ) from None
        out[i] = [meta[k] for k in STYLE_KEYS]
    return out
