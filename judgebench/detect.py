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

import numpy as np
import pandas as pd

NEAR_IDENTICAL_SHARE = 0.10  # flag when a tenth of the outputs (and at least 5) are (nearly) the same text
MIN_GROUP = 5
TEMPLATE_SHARE = 0.02  # ... when 2% of outputs (and at least 3) carry judge-template structure
RELEVANCE_AUC = 0.70  # ... when outputs are about their instructions hardly better than chance
MIN_FOR_RELEVANCE = 20
TEXT_CHARS = 600

# Kinds of judge-template structure: (words one of which must appear, lower-cased; the regex). The
# words are a cheap filter: most outputs contain none of them, and the regexes then never run.
TEMPLATE_MARKERS = {
    "ignore order": (("ignore",), r"\bignore (?:all |any )?(?:of )?(?:the |my )?(?:above|previous|prior|preceding)\b"),
    "identifier field": (("model_identifier",), r"[\"']?model_identifier[\"']?\s*:"),
    "output field": (("output",), r"[\"']output[\"']\s*:\s*(?:\"\"\"|\")"),
    "instruction field": (("instruction",), r"[\"']instruction[\"']\s*:\s*(?:\"\"\"|\")"),
    "prompt heading": (("#",), r"^#+\s*(?:model outputs?|instruction|task|evaluation)\s*$"),
    "answer tags": (("<answer", "</answer", "<request", "</request", "<response_", "<output_"),
                    r"</?(?:answer|request|response_[ab]|output_[12ab])\b[^>]*>"),
    "assistant answer block": (("'s answer]",), r"\[The (?:Start|End) of Assistant [AB]'s Answer\]"),
    "verdict token": (("[[",), r"\[\[(?:[ABC]|A>>B|A>B|A=B|B>A|B>>A|\d+(?:\.\d+)?)\]\]"),
}
_MARKERS = {kind: (words, re.compile(rx, re.IGNORECASE | re.MULTILINE)) for kind, (words, rx) in TEMPLATE_MARKERS.items()}


def template_markers(text: str) -> list[str]:
    """The kinds of judge-template structure found in one output."""
    low = text.lower()
    return [kind for kind, (words, rx) in _MARKERS.items() if any(w in low for w in words) and rx.search(text)]


def _suspicious(kinds: list[str]) -> bool:
    return len(kinds) >= 2 or (len(kinds) == 1 and kinds[0] == "ignore order")


def _near_identical(outputs: list[str], X) -> dict:
    """X: the outputs' TF-IDF rows (l2-normalised); exact copies are caught even without words."""
    S = (X @ X.T).tocsr()
    S.data = (S.data > 0.9).astype(np.int8)
    S.eliminate_zeros()
    group = np.maximum(np.asarray(S.sum(axis=1)).ravel(), 1)  # each output with words counts itself
    normalised = pd.Series([" ".join(o.lower().split()) for o in outputs])
    group = np.maximum(group, normalised.map(normalised.value_counts()).to_numpy())
    i = int(np.argmax(group))
    share = float(group[i] / len(outputs))
    return {"metric": share, "threshold": NEAR_IDENTICAL_SHARE,
            "flagged": bool(share >= NEAR_IDENTICAL_SHARE and group[i] >= MIN_GROUP),
            "evidence": {"largest_group": int(group[i]), "example": outputs[i][:300]}}


def _template_structure(outputs: list[str], instructions: list[str]) -> dict:
    hits = [(i, kinds) for i, o in enumerate(outputs) if _suspicious(kinds := template_markers(o))]
    share = len(hits) / len(outputs)
    flagged = share >= TEMPLATE_SHARE and len(hits) >= 3
    return {"metric": share, "threshold": TEMPLATE_SHARE, "flagged": flagged,
            "evidence": {"n_outputs": len(hits),
                         "examples": [{"instruction": instructions[i][:120], "markers": kinds,
                                       "output": outputs[i][:300]} for i, kinds in hits[:3]]}}


def _unrelated(instructions: list[str], Xi, Xo) -> dict:
    n = Xo.shape[0]
    if n < MIN_FOR_RELEVANCE:
        return {"metric": None, "threshold": RELEVANCE_AUC, "flagged": False,
                "evidence": {"skipped": f"needs at least {MIN_FOR_RELEVANCE} outputs"}}
    S = (Xi @ Xo.T).toarray()
    own = np.diag(S)[:, None]
    # per instruction: share of the other outputs less similar than its own (ties count half)
    auc = ((own > S).sum(1) + 0.5 * ((own == S).sum(1) - 1)) / (n - 1)
    worst = np.argsort(auc)[:3]
    metric = float(auc.mean())
    return {"metric": metric, "threshold": RELEVANCE_AUC, "flagged": metric < RELEVANCE_AUC,
            "evidence": {"least_related": [{"instruction": instructions[i][:120], "auc": float(auc[i])}
                                           for i in worst]}}


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
        X = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(instructions + heads).tocsr()
    except ValueError:  # not one content word in any text: nothing to compare but the texts themselves
        from scipy.sparse import csr_matrix

        X = csr_matrix((2 * len(texts), 1))
    Xi, Xo = X[: len(texts)], X[len(texts):]
    checks = {"near_identical": _near_identical(texts, Xo),
              "template_structure": _template_structure(texts, instructions),
              "unrelated": _unrelated(instructions, Xi, Xo)}
    reasons = [f"{name}: {c['metric']:.3f} (threshold {c['threshold']})" for name, c in checks.items() if c["flagged"]]
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
