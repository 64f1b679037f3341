"""Cheating detection on a submission's outputs, before anyone trusts its win rate.

A null model (arXiv 2410.07137) answers every instruction with one string that hijacks the judge's
template; length control does nothing against it. Three checks catch that family without a judge:

- near_identical: the largest group of near-identical outputs (cosine > 0.9 between their TF-IDF
  word vectors, or equal after normalising case and spaces), as a share of all outputs. Real models
  repeat a refusal a few times.
- template_structure: outputs that carry judge-prompt structure: "ignore the above", identifier
  fields, fake instruction or output blocks, verdict tokens. One marker can be innocent (an HTML
  answer has tags); an output counts when it shows two different kinds, or an "ignore" order.
- unrelated: how well each output is told apart from the others by its own instruction: the share
  of other outputs less similar (TF-IDF words) to the instruction than its own output, averaged
  (an AUC: 1 = every output is about its instruction, 0.5 = outputs carry no trace of it).

Thresholds are set well clear of every real model in the shared AlpacaEval data (README: measured
false positives); each check reports its metric and evidence, so a flag can be argued with.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

NEAR_IDENTICAL_SHARE = 0.10  # flag when a tenth of the outputs (and at least 5) are (nearly) the same text
MIN_GROUP = 5
TEMPLATE_SHARE = 0.02  # ... when 2% of outputs (and at least 3) carry judge-template structure
RELEVANCE_AUC = 0.70  # ... when outputs are about their instructions hardly better than chance
MIN_FOR_RELEVANCE = 20
TEXT_CHARS = 600
# Bounded resources (a 100k-row file is a normal preference dataset): exact comparisons up to EXACT_UP_TO
# outputs, a fixed-seed sample of SAMPLED beyond (errors stated in the checks' docstrings and evidence);
# similarity blocks of about CELLS_PER_BLOCK cells at a time.
EXACT_UP_TO = 5000
SAMPLED = 2000
CELLS_PER_BLOCK = 4_000_000

# Kinds of judge-template structure: (words one of which must appear, lower-cased; the regex). The
# words are a cheap filter: most outputs contain none of them, and the regexes then never run.
TEMPLATE_MARKERS = {
    "ignore order": (
        ("ignore",),
        r"\bignore (?:all |any )?(?:of )?(?:the |my )?(?:above|previous|prior|preceding)\b",
    ),
    "identifier field": (("model_identifier",), r"[\"']?model_identifier[\"']?\s*:"),
    "output field": (("output",), r"[\"']output[\"']\s*:\s*(?:\"\"\"|\")"),
    "instruction field": (("instruction",), r"[\"']instruction[\"']\s*:\s*(?:\"\"\"|\")"),
    "prompt heading": (("#",), r"^#+\s*(?:model outputs?|instruction|task|evaluation)\s*$"),
    "answer tags": (
        ("<answer", "</answer", "<request", "</request", "<response_", "<output_"),
        r"</?(?:answer|request|response_[ab]|output_[12ab])\b[^>]*>",
    ),
    "assistant answer block": (("'s answer]",), r"\[The (?:Start|End) of Assistant [AB]'s Answer\]"),
    "verdict token": (("[[",), r"\[\[(?:[ABC]|A>>B|A>B|A=B|B>A|B>>A|\d+(?:\.\d+)?)\]\]"),
}
_MARKERS = {
    kind: (words, re.compile(rx, re.IGNORECASE | re.MULTILINE))
    for kind, (words, rx) in TEMPLATE_MARKERS.items()
}


def template_markers(text: str) -> list[str]:
    """The kinds of judge-template structure found in one output."""
    low = text.lower()
    return [
        kind for kind, (words, rx) in _MARKERS.items() if any(w in low for w in words) and rx.search(text)
    ]


def _suspicious(kinds: list[str]) -> bool:
    return len(kinds) >= 2 or (len(kinds) == 1 and kinds[0] == "ignore order")


def _chunks(n_rows: int, width: int):
    """Row slices whose similarity block (rows x width) stays about CELLS_PER_BLOCK cells: memory is bounded."""
    step = max(1, CELLS_PER_BLOCK // max(width, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _anchors(n: int) -> np.ndarray:
    """All rows up to EXACT_UP_TO (exact answers), else a fixed-seed sample of SAMPLED rows (linear time)."""
    if n <= EXACT_UP_TO:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, SAMPLED, replace=False))


def _near_identical(outputs: list[str], X) -> dict:
    """X: the outputs' TF-IDF rows (l2-normalised); exact copies are caught even without words.

    Each anchor's group is counted exactly against every output. Up to EXACT_UP_TO outputs every output is an
    anchor; beyond, SAMPLED random anchors: a group holding a share s of the outputs has no member among them
    with probability (1 - s)^SAMPLED (< 1e-90 at the 10% threshold), so time and memory grow linearly."""
    n = len(outputs)
    anchors = _anchors(n)
    group = np.ones(n, dtype=np.int64)  # each output with words counts itself
    XT = X.T.tocsc()
    for part in _chunks(len(anchors), n):
        S = (X[anchors[part]] @ XT).tocsr()
        S.data = (S.data > 0.9).astype(np.int8)
        S.eliminate_zeros()
        group[anchors[part]] = np.maximum(np.diff(S.indptr), 1)
    normalised = pd.Series([" ".join(o.lower().split()) for o in outputs])
    group = np.maximum(group, normalised.map(normalised.value_counts()).to_numpy())
    i = int(np.argmax(group))
    share = float(group[i] / n)
    evidence = {"largest_group": int(group[i]), "example": outputs[i][:300]}
    if len(anchors) < n:
        evidence["sampled_anchors"] = len(anchors)
    return {
        "metric": share,
        "threshold": NEAR_IDENTICAL_SHARE,
        "flagged": bool(share >= NEAR_IDENTICAL_SHARE and group[i] >= MIN_GROUP),
        "evidence": evidence,
    }


def _template_structure(outputs: list[str], instructions: list[str]) -> dict:
    hits = [(i, kinds) for i, o in enumerate(outputs) if _suspicious(kinds := template_markers(o))]
    share = len(hits) / len(outputs)
    flagged = share >= TEMPLATE_SHARE and len(hits) >= 3
    return {
        "metric": share,
        "threshold": TEMPLATE_SHARE,
        "flagged": flagged,
        "evidence": {
            "n_outputs": len(hits),
            "examples": [
                {"instruction": instructions[i][:120], "markers": kinds, "output": outputs[i][:300]}
                for i, kinds in hits[:3]
            ],
        },
    }


def _unrelated(instructions: list[str], Xi, Xo) -> dict:
    """Up to EXACT_UP_TO outputs each instruction is compared with every other output (exact); beyond, with
    the same SAMPLED random outputs: the mean AUC is then a mean of SAMPLED draws of values in [0, 1], so its
    standard error is at most 0.5 / sqrt(SAMPLED) (0.011), reported with the metric."""
    n = Xo.shape[0]
    if n < MIN_FOR_RELEVANCE:
        return {
            "metric": None,
            "threshold": RELEVANCE_AUC,
            "flagged": False,
            "evidence": {"skipped": f"needs at least {MIN_FOR_RELEVANCE} outputs"},
        }
    ref = _anchors(n)
    XoT = Xo[ref].T.tocsc()
    auc = np.empty(n)
    for part in _chunks(n, len(ref)):
        S = (Xi[part] @ XoT).toarray()
        own = np.asarray(Xi[part].multiply(Xo[part]).sum(axis=1))  # (rows, 1)
        rows = np.arange(part.start, part.stop)
        is_self = ref[None, :] == rows[:, None]  # an output is not compared with itself
        others = len(ref) - is_self.sum(axis=1)
        # per instruction: share of the other outputs less similar than its own (ties count half)
        less = ((own > S) & ~is_self).sum(axis=1)
        ties = ((np.isclose(own, S, rtol=0, atol=1e-12)) & ~is_self & ~(own > S)).sum(axis=1)
        auc[part] = (less + 0.5 * ties) / others
    worst = np.argsort(auc, kind="stable")[:3]
    metric = float(auc.mean())
    evidence: dict[str, Any] = {
        "least_related": [{"instruction": instructions[i][:120], "auc": float(auc[i])} for i in worst]
    }
    if len(ref) < n:
        evidence.update(sampled_outputs=len(ref), standard_error_at_most=round(0.5 / np.sqrt(len(ref)), 4))
    return {
        "metric": metric,
        "threshold": RELEVANCE_AUC,
        "flagged": metric < RELEVANCE_AUC,
        "evidence": evidence,
    }


def detect(outputs: pd.DataFrame, model: str | None = None) -> dict:
    """Run the three checks on one model's outputs (`instruction`, `output` columns)."""
    texts = ["" if o is None else str(o) for o in outputs["output"]]
    instructions = [str(t) for t in outputs["instruction"]]
    if model is None and "generator" in outputs:
        model = str(outputs["generator"].iloc[0])
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Words of the first TEXT_CHARS characters: enough to tell what an output is about, and cheap.
    heads = [t[:TEXT_CHARS] for t in texts]
    try:
        X = (
            TfidfVectorizer(stop_words="english", sublinear_tf=True)
            .fit_transform(instructions + heads)
            .tocsr()
        )
    except ValueError:  # not one content word in any text: nothing to compare but the texts themselves
        from scipy.sparse import csr_matrix

        X = csr_matrix((2 * len(texts), 1))
    Xi, Xo = X[: len(texts)], X[len(texts) :]
    checks = {
        "near_identical": _near_identical(texts, Xo),
        "template_structure": _template_structure(texts, instructions),
        "unrelated": _unrelated(instructions, Xi, Xo),
    }
    reasons = [
        f"{name}: {c['metric']:.3f} (threshold {c['threshold']})"
        for name, c in checks.items()
        if c["flagged"]
    ]
    return {"model": model, "n": len(texts), "flagged": bool(reasons), "reasons": reasons, "checks": checks}


def detect_annotations(annotations: pd.DataFrame) -> dict[str, dict]:
    """detect() for every candidate in an annotation frame (needs `output_2`)."""
    out = {}
    for model, part in annotations.groupby("generator_2", sort=False):
        if (part["generator_1"] == model).all():
            continue  # the baseline against itself
        out[model] = detect(part.rename(columns={"output_2": "output"}), model)
    return out


def flag_summary(result: dict) -> str:
    """One short cell for a leaderboard: '' or the names of the checks that flagged."""
    return ",".join(name for name, c in result["checks"].items() if c["flagged"])
