"""Juries: several judges (or one judge with several prompts or seeds) as one (AlpacaFarm's annotator pools).

Members' annotations of the same pairs are aligned by (model, instruction). The jury's preference is the
members' mean preference (soft) or their majority vote (hard labels; no strict majority is a tie).
Agreement between members: Cohen's kappa for each two and Fleiss' kappa for all
(statsmodels) on hard labels (baseline / tie / model), with percentile intervals from resampling
instructions (all of an instruction's pairs together: they share the instruction's difficulty).
Agreement with humans uses AlpacaEval's rule: 1 when the verdicts match, 0.5 when one is a tie, else 0.

`flip_labels` adds AlpacaFarm's label noise (each verdict reversed with a given probability) for people
simulating a noisy preference signal, as AlpacaFarm's simulated annotators do.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from judgebench.errors import ConfigError, InputError
from judgebench.files.textforms import nfc_instructions

AGGREGATES = ("mean", "majority")
CATEGORIES = (1.0, 1.5, 2.0)  # baseline better, tie, model better


def hard(pref) -> np.ndarray:
    """1 (baseline), 1.5 (tie) or 2 (model) from soft preferences; NaN stays NaN."""
    p = np.asarray(pref, float)
    return np.where(np.isnan(p), np.nan, np.where(p < 1.5, 1.0, np.where(p > 1.5, 2.0, 1.5)))


def align(members: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """One column of preferences a member, one row a (model, instruction) pair judged by every member.
    The members must have judged the same answers; pairs some member lacks or left unjudged are counted
    in the returned notes, not dropped silently."""
    if len(members) < 2:
        raise InputError(
            f"a jury needs at least two members, got {len(members)}", hint="give two or more annotation files"
        )
    cols = {}
    outputs = None
    for name, df in members.items():
        df = nfc_instructions(df, f"jury member '{name}'")  # paired on instruction text
        key = pd.MultiIndex.from_arrays(
            [df["generator_2"], df["instruction"]], names=["model", "instruction"]
        )
        cols[name] = pd.Series(df["preference"].to_numpy(float), index=key)
        if "output_2" in df:
            out = pd.Series(df["output_2"].to_numpy(), index=key)
            if outputs is not None:
                common = outputs.index.intersection(out.index)
                differ = common[outputs.loc[common].to_numpy() != out.loc[common].to_numpy()]
                if len(differ):
                    raise InputError(
                        f"member '{name}' judged another answer of model '{differ[0][0]}' to "
                        f"'{str(differ[0][1])[:60]}' than the first member",
                        field="output_2",
                        hint="a jury's members must judge the same pairs",
                    )
            outputs = out
    wide = pd.DataFrame(cols)
    notes = {
        "n_pairs_any": len(wide),
        "missing_by_member": {m: int(wide[m].isna().sum()) for m in wide},
    }
    wide = wide.dropna()
    if wide.empty:
        raise InputError(
            "no pair is judged by every member", hint="annotate the same models' answers with every judge"
        )
    notes["n_pairs"] = len(wide)
    return wide, notes


def aggregate(wide: pd.DataFrame, how: str = "mean") -> pd.Series:
    """The jury's preference per pair: mean of the members' preferences, or the majority of their hard
    labels (1 or 2 with more votes than each other label; otherwise a tie, 1.5)."""
    if how == "mean":
        return wide.mean(axis=1)
    if how != "majority":
        raise ConfigError(f"unknown aggregate {how!r} -> use one of {', '.join(AGGREGATES)}")
    labels = hard(wide.to_numpy())
    votes = np.stack([(labels == c).sum(axis=1) for c in CATEGORIES], axis=1)
    top = votes.max(axis=1)
    unique_top = (votes == top[:, None]).sum(axis=1) == 1
    winner = np.array(CATEGORIES)[votes.argmax(axis=1)]
    return pd.Series(np.where(unique_top, winner, 1.5), index=wide.index)


def flip_labels(pref, flip_prob: float, rng: np.random.Generator) -> np.ndarray:
    """AlpacaFarm's label noise: each preference reversed (p -> 3 - p) with probability `flip_prob`."""
    if not 0.0 <= flip_prob <= 1.0:
        raise ConfigError(f"flip probability {flip_prob} is outside [0, 1]")
    p = np.asarray(pref, float)
    return np.where(rng.random(p.shape) < flip_prob, 3.0 - p, p)


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two members' hard labels (equal to scikit-learn's cohen_kappa_score; computed from
    the 3x3 table here because the bootstrap asks for it thousands of times). NaN where it is undefined
    (both members always give one and the same label)."""
    ia, ib = (np.rint(2 * hard(x) - 2).astype(int) for x in (a, b))  # 1, 1.5, 2 -> 0, 1, 2
    table = np.zeros((3, 3))
    np.add.at(table, (ia, ib), 1.0)
    n = table.sum()
    observed = np.trace(table) / n
    expected = table.sum(axis=1) @ table.sum(axis=0) / n**2
    return float("nan") if expected == 1.0 else float((observed - expected) / (1.0 - expected))


def fleiss_kappa(labels: np.ndarray) -> float:
    """Fleiss' kappa of hard labels, one row a pair, one column a member (statsmodels)."""
    from judgebench.stats.properties import require_statsmodels

    require_statsmodels()
    from statsmodels.stats.inter_rater import fleiss_kappa as fk

    h = hard(labels)
    table = np.stack([(h == c).sum(axis=1) for c in CATEGORIES], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(fk(table, method="fleiss"))


def _human_agreement(pref, humans: list[list[float]]) -> float:
    a = hard(pref)
    scores = []
    for x, labels in zip(a, humans, strict=True):
        h = hard(labels)
        scores.append(np.mean(np.where(h == x, 1.0, np.where((h == 1.5) | (x == 1.5), 0.5, 0.0))))
    return float(np.mean(scores))


def jury_statistics(
    wide: pd.DataFrame,
    how: str = "mean",
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    humans: pd.Series | None = None,
) -> dict:
    """Agreement within the jury (pairwise Cohen's kappa, Fleiss' kappa, with bootstrap intervals over
    instructions), each member's and the jury's win rate, and agreement with humans where `humans` holds
    a list of human labels for some pairs (same index as `wide`)."""
    pool = aggregate(wide, how)
    members = list(wide.columns)
    codes = pd.factorize(wide.index.get_level_values("instruction"))[0]
    rows_of = [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]
    rng = np.random.default_rng(seed)
    values = wide.to_numpy()

    def stats_of(idx):
        v = values[idx]
        out = {
            f"{a} ~ {b}": cohen_kappa(v[:, i], v[:, j])
            for (i, a), (j, b) in itertools.combinations(enumerate(members), 2)
        }
        out["fleiss"] = fleiss_kappa(v)
        return out

    point = stats_of(np.arange(len(wide)))
    boot = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(rows_of), len(rows_of))
        boot.append(stats_of(np.concatenate([rows_of[k] for k in pick])))
    alpha = (1 - level) / 2

    def interval(name):
        draws = np.array([b[name] for b in boot], float)
        draws = draws[~np.isnan(draws)]
        if not len(draws):
            return None, None
        return float(np.quantile(draws, alpha)), float(np.quantile(draws, 1 - alpha))

    kappas = {}
    for name, value in point.items():
        lo, hi = interval(name) if n_boot else (None, None)
        kappas[name] = {"kappa": value, "ci_low": lo, "ci_high": hi}
    result = {
        "aggregate": how,
        "members": members,
        "n_pairs": len(wide),
        "n_instructions": len(rows_of),
        "level": level,
        "fleiss_kappa": kappas.pop("fleiss"),
        "cohen_kappa": kappas,
        "win_rate": {
            **{m: float(100 * (wide[m].mean() - 1)) for m in members},
            "jury": float(100 * (pool.mean() - 1)),
        },
        "agreement_with_jury": {m: float(np.mean(hard(wide[m]) == hard(pool))) for m in members},
    }
    if humans is not None:
        have = humans.dropna()
        have = have[have.index.isin(wide.index)]
        if len(have):
            labels = list(have)
            result["human_agreement"] = {
                "n_pairs": len(have),
                **{m: _human_agreement(wide.loc[have.index, m], labels) for m in members},
                "jury": _human_agreement(pool.loc[have.index], labels),
            }
    return result


# --- human labels, matched to the jury's pairs -----------------------------------------------------------

MTBENCH_HUMAN_FIELDS = ("question_id", "model_a", "model_b", "winner")


def human_labels(path, annotations: pd.DataFrame) -> pd.Series:
    """Human labels for the pairs in `annotations` (one member's records), as a Series of label lists
    indexed like `align`'s rows. Two schemas:
    - AlpacaEval's: instruction, output_1, output_2, preference (one row a human judgment; a pair given in
      the other order counts with its label reversed);
    - MT-Bench's human judgments (lmsys/mt_bench_human_judgments): question_id, model_a, model_b, winner
      (model_a / model_b / tie ...), turn, matched to annotations that carry question_id (and turn).
    Unmatched human rows are counted in the Series' attrs, not dropped silently."""
    from judgebench.files.records import parse_preference, read_records

    rows = read_records(path)
    if not rows:
        raise InputError("no rows", path=path, hint="the human label file is empty")
    key_of = pd.MultiIndex.from_arrays(
        [annotations["generator_2"], annotations["instruction"]], names=["model", "instruction"]
    )
    found: dict[tuple, list[float]] = {}
    if all(f in rows[0] for f in MTBENCH_HUMAN_FIELDS):
        if "question_id" not in annotations:
            raise InputError(
                "MT-Bench human judgments are matched by question_id, which the annotations lack",
                path=path,
                hint="give annotations that carry question_id (and turn) for each pair",
            )
        turns = annotations["turn"] if "turn" in annotations else pd.Series(1, index=annotations.index)
        lookup: dict[tuple, tuple] = {}
        for k, q, t, g1, g2 in zip(
            key_of,
            annotations["question_id"],
            turns,
            annotations["generator_1"],
            annotations["generator_2"],
            strict=True,
        ):
            lookup[(str(q), str(t), g1, g2)] = (k, False)
            lookup[(str(q), str(t), g2, g1)] = (k, True)
        unmatched = 0
        for i, r in enumerate(rows):
            winner = str(r["winner"])
            if winner not in ("model_a", "model_b") and not winner.startswith("tie"):
                raise InputError(
                    f"winner {winner!r} is not model_a, model_b or tie", path=path, row=i, field="winner"
                )
            hit = lookup.get((str(r["question_id"]), str(r.get("turn", 1)), r["model_a"], r["model_b"]))
            if hit is None:
                unmatched += 1
                continue
            label = 1.0 if winner == "model_a" else 2.0 if winner == "model_b" else 1.5
            found.setdefault(hit[0], []).append(3.0 - label if hit[1] else label)
    else:
        from judgebench.files.records import _require_fields

        _require_fields(rows, ("instruction", "output_1", "output_2", "preference"), path)
        prefs = parse_preference(pd.Series([r["preference"] for r in rows]), path)
        alpaca: dict[tuple, tuple] = {}
        for k, i_, o1, o2 in zip(
            key_of, annotations["instruction"], annotations["output_1"], annotations["output_2"], strict=True
        ):
            alpaca[(i_, o1, o2)] = (k, False)
            alpaca.setdefault((i_, o2, o1), (k, True))
        unmatched = 0
        for i, (r, p) in enumerate(zip(rows, prefs, strict=True)):
            if np.isnan(p):
                raise InputError("no preference", path=path, row=i, field="preference")
            hit = alpaca.get((r["instruction"], r["output_1"], r["output_2"]))
            if hit is None:
                unmatched += 1
                continue
            found.setdefault(hit[0], []).append(3.0 - p if hit[1] else float(p))
    if not found:
        raise InputError(
            f"none of the {len(rows)} human judgments matches a judged pair",
            path=path,
            hint="the humans must have judged the same answers as the jury",
        )
    out = pd.Series(list(found.values()), index=pd.MultiIndex.from_tuples(list(found), names=key_of.names))
    out.attrs.update(n_rows=len(rows), n_unmatched=unmatched)
    return out
