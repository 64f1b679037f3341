"""What a judge rewards, property by property ("Dissecting Human and LLM Preferences", arXiv 2402.11296).

Each answer gets a few measured properties, each a small deterministic function of its text (and of the
instruction, for the language match and the questions back). For each judged pair the model's value minus
the baseline's is a feature; a logistic GLM of the judge's preference (p = preference - 1, soft labels as
quasi-binomial proportions) on those differences gives, per property, the change in log-odds of the
judge preferring an answer that has it, with intervals robust to the correlation of rows that share an
instruction (statsmodels' cluster-robust covariance, clustered by instruction).

The features are presence indicators (0/1), so a coefficient reads "+X log-odds for having a list", and
length enters as log2 of the token count, so its coefficient is "+X log-odds per doubling of length". A
per-model intercept (default) absorbs each model's overall quality, so the properties are compared within
a model's answers.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from judgebench.errors import ConfigError, InputError

STATS_EXTRA_HINT = "pip install 'judgebench[stats]' (statsmodels)"


def require_statsmodels():
    """statsmodels, or one line naming the extra that installs it."""
    try:
        import statsmodels.api as sm
    except ImportError:
        raise ConfigError(
            f"this statistic needs statsmodels, which is not installed -> {STATS_EXTRA_HINT}"
        ) from None
    return sm


# --- measurements of one text -------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?", re.UNICODE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+\S", re.MULTILINE)
_HEADER = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)[^*\n]+?(?<=\S)\*\*|__(?=\S)[^_\n]+?(?<=\S)__")  # CommonMark: no space inside
_CODE_BLOCK = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
_LINK = re.compile(r"https?://\S+|www\.\w\S*|\[[^\]\n]+\]\([^)\s]+\)")
_EMOJI = re.compile(
    "[\U0001f300-\U0001f5ff\U0001f600-\U0001f64f\U0001f680-\U0001f6ff\U0001f900-\U0001f9ff"
    "\U0001fa70-\U0001faff\u2600-\u26ff\u2700-\u27bf\U0001f1e6-\U0001f1ff]"
)


def _phrases(*words: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)


_APOS = "['\u2019]"
_REFUSAL = _phrases(
    rf"I(?:{_APOS}m| am) (?:sorry|afraid),? but I (?:can(?:not|{_APOS}t)|won{_APOS}t|am unable|(?:{_APOS}m) unable)",
    rf"I (?:can(?:not|{_APOS}t)|won{_APOS}t) (?:help|assist|provide|comply|fulfill|do that|create|write)",
    rf"I(?:{_APOS}m| am) (?:not able|unable) to (?:help|assist|provide|comply|fulfill)",
    r"as an AI(?: language model)?,? I (?:cannot|can't|do not|don't|am not)",
)
_HEDGE = _phrases(
    "might",
    "perhaps",
    "possibly",
    "probably",
    "it depends",
    "may or may not",
    rf"I(?:{_APOS}m| am) not (?:sure|certain)",
    "I think",
    "I believe",
    "it seems",
    "arguably",
    "generally",
    "typically",
)
_CONFIDENT = _phrases(
    "definitely",
    "certainly",
    "clearly",
    "undoubtedly",
    "absolutely",
    "without (?:a|any) doubt",
    "guaranteed",
    "always",
    "never fails",
    "of course",
)
_POLITE = _phrases(
    "please",
    "thank you",
    "thanks",
    "you(?:'re| are) welcome",
    "happy to help",
    "glad to help",
    "I hope (?:this|that|it) helps",
    "great question",
    "good question",
    "feel free",
)
_QUESTION_BACK = _phrases(
    "could you (?:please )?(?:clarify|provide|specify|tell me|share|give me)",
    "can you (?:please )?(?:clarify|provide|specify|tell me|share|give me)",
    "would you like",
    "do you want",
    "what (?:kind|type) of .{1,40} (?:are|do) you",
    "let me know if",
)

# A few stop words a language: enough to tell which of these a sentence is in, deterministically.
_STOP_WORDS = {
    "en": {"the", "and", "is", "are", "of", "to", "in", "that", "it", "you", "for", "with", "this", "what"},
    "es": {"el", "la", "los", "las", "de", "que", "y", "en", "es", "por", "para", "una", "con", "qué"},
    "fr": {"le", "la", "les", "de", "des", "et", "est", "que", "une", "pour", "dans", "vous", "je", "pas"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ein", "eine", "ich", "sie", "mit", "zu", "wie"},
    "it": {"il", "di", "che", "e", "è", "un", "una", "per", "non", "sono", "della", "gli", "con"},
    "pt": {"o", "os", "de", "que", "e", "é", "um", "uma", "para", "não", "com", "você", "do", "da"},
}
_SCRIPTS = (
    ("cyrillic", re.compile("[\u0400-\u04ff]")),
    ("cjk", re.compile("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")),
    ("arabic", re.compile("[\u0600-\u06ff]")),
    ("greek", re.compile("[\u0370-\u03ff]")),
    ("devanagari", re.compile("[\u0900-\u097f]")),
    ("hebrew", re.compile("[\u0590-\u05ff]")),
    ("latin", re.compile("[A-Za-z\u00c0-\u024f]")),
)


def tokens(text: str) -> int:
    """Words, numbers and punctuation marks: a tokenizer-free stand-in for a model's tokens."""
    return len(_TOKEN.findall(text))


def words(text: str) -> int:
    return len(_WORD.findall(text))


@functools.lru_cache(maxsize=4096)  # an instruction is asked of every model: measured once
def language(text: str) -> str:
    """The dominant script; for Latin script, the language whose stop words are most frequent ('en' on
    ties: most instructions are English). '' where it cannot tell (no letters, under two stop words)."""
    text = text[:1000]  # the opening tells the language; the rest only costs time
    counts = [(len(rx.findall(text)), name) for name, rx in _SCRIPTS]
    n, script = max(counts)
    if n == 0:
        return ""
    if script != "latin":
        return script
    found = [w.lower() for w in _WORD.findall(text)]
    votes = {lang: sum(w in stop for w in found) for lang, stop in _STOP_WORDS.items()}
    best = max(votes.values())
    if best < 2:  # too few stop words to tell (a name, a number, a URL): undetermined, so no mismatch
        return ""
    return "en" if votes["en"] == best else max(votes, key=votes.__getitem__)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


# name -> (function of (answer, instruction) -> 0/1, what it means)
PROPERTIES: dict[str, tuple[Callable[[str, str], float], str]] = {
    "list": (lambda a, i: float(len(_LIST_ITEM.findall(a)) >= 2), "two or more list items (-, *, 1.)"),
    "header": (lambda a, i: float(bool(_HEADER.search(a))), "a markdown header (# Title)"),
    "bold": (lambda a, i: float(bool(_BOLD.search(a))), "bold text (**x** or __x__)"),
    "code_block": (lambda a, i: float(len(_CODE_BLOCK.findall(a)) >= 2), "a fenced code block"),
    "link": (lambda a, i: float(bool(_LINK.search(a))), "a URL or markdown link"),
    "emoji": (lambda a, i: float(bool(_EMOJI.search(a))), "an emoji"),
    "refusal": (lambda a, i: float(bool(_REFUSAL.search(a))), "a refusal (I'm sorry, but I can't ...)"),
    "hedge": (lambda a, i: float(bool(_HEDGE.search(a))), "a hedge (might, perhaps, I think, ...)"),
    "confident": (lambda a, i: float(bool(_CONFIDENT.search(a))), "a confident word (definitely, clearly)"),
    "polite": (lambda a, i: float(bool(_POLITE.search(a))), "politeness (please, I hope this helps, ...)"),
    "question_back": (
        lambda a, i: float(_last_line(a).rstrip().endswith("?") or bool(_QUESTION_BACK.search(a))),
        "asks the user something back (ends with a question, 'would you like ...')",
    ),
    "language_match": (
        lambda a, i: float(language(a) in ("", language(i)) or language(i) == ""),
        "answers in the instruction's language (script, then stop words)",
    ),
}
LENGTH = "log2_tokens"
LENGTH_MEANING = "log2 of the answer's tokens (words and punctuation): the coefficient is per doubling"


def measure(answer: str, instruction: str = "") -> dict[str, float]:
    """Every property of one answer: {'tokens', 'words', 'log2_tokens', 'list', ...}."""
    n = tokens(answer)
    out = {"tokens": float(n), "words": float(words(answer)), LENGTH: math.log2(n + 1)}
    out.update({name: fn(answer, instruction) for name, (fn, _) in PROPERTIES.items()})
    return out


def measure_all(answers, instructions) -> pd.DataFrame:
    return pd.DataFrame([measure(a, i) for a, i in zip(answers, instructions, strict=True)])


# --- the pairs and the GLM ----------------------------------------------------------------------------

FEATURES = (LENGTH, *PROPERTIES)


def pair_differences(annotations: pd.DataFrame) -> pd.DataFrame:
    """Per judged pair: the model's property minus the baseline's, with `p` (P(model preferred)), the
    instruction and the model. Pairs of identical answers (never judged) and unjudged pairs are left out."""
    for col in ("instruction", "output_1", "output_2", "generator_2", "preference"):
        if col not in annotations:
            raise InputError(
                f"annotations lack the column '{col}'",
                field=col,
                hint="load them with the outputs kept (the property profile reads both answers)",
            )
    df = annotations[annotations["preference"].notna() & (annotations["output_1"] != annotations["output_2"])]
    if df.empty:
        raise InputError("no judged pairs of different answers", hint="give annotations with preferences")
    # the baseline's answers repeat across models: measure each distinct (instruction, answer) once
    base = {
        key: measure(key[1], key[0])
        for key in dict.fromkeys(zip(df["instruction"], df["output_1"], strict=True))
    }
    b = pd.DataFrame([base[k] for k in zip(df["instruction"], df["output_1"], strict=True)])
    m = measure_all(df["output_2"], df["instruction"])
    diff = m[list(FEATURES)].to_numpy() - b[list(FEATURES)].to_numpy()
    out = pd.DataFrame(diff, columns=list(FEATURES))
    out["p"] = df["preference"].to_numpy(float) - 1.0
    out["instruction"] = df["instruction"].to_numpy()
    out["model"] = df["generator_2"].to_numpy()
    for name in PROPERTIES:
        out[f"{name}_model"], out[f"{name}_baseline"] = m[name].to_numpy(), b[name].to_numpy()
    return out


def fit_profile(
    pairs: pd.DataFrame,
    features: tuple[str, ...] = FEATURES,
    model_effects: bool = True,
    level: float = 0.95,
) -> pd.DataFrame:
    """Logistic GLM of p on the feature differences, cluster-robust by instruction. A feature that never
    differs is left out of the fit (reported with n_differ 0 and no estimate). Returns one row a feature:
    log_odds, ci_low, ci_high, p_value, n_differ, and P(judge prefers the answer that has it) where
    exactly one answer has it (AlpacaEval's 'prefer lists' figure)."""
    sm = require_statsmodels()
    usable = [f for f in features if (pairs[f] != 0).any()]
    X = pairs[usable].astype(float)
    if model_effects and pairs["model"].nunique() > 1:
        X = X.join(pd.get_dummies(pairs["model"], prefix="model", dtype=float))
    else:
        X = X.assign(intercept=1.0)
    if len(pairs) <= X.shape[1]:
        raise InputError(
            f"{len(pairs)} judged pairs for {X.shape[1]} coefficients", hint="give more annotations"
        )
    groups = pd.factorize(pairs["instruction"])[0]
    with warnings.catch_warnings(record=True) as caught:  # kept for the table, not printed mid-output
        warnings.simplefilter("always")
        fit = sm.GLM(pairs["p"].to_numpy(float), X, family=sm.families.Binomial()).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
    ci = fit.conf_int(alpha=1 - level)
    rows = []
    for f in features:
        differ = pairs[f] != 0
        row = {"property": f, "n_differ": int(differ.sum())}
        if f in usable:
            row.update(
                log_odds=float(fit.params[f]),
                ci_low=float(ci.loc[f, 0]),
                ci_high=float(ci.loc[f, 1]),
                p_value=float(fit.pvalues[f]),
            )
        if f in PROPERTIES:
            one = pairs[f].abs() == 1
            row["p_prefer_having"] = (
                float(np.where(pairs.loc[one, f] > 0, pairs.loc[one, "p"], 1 - pairs.loc[one, "p"]).mean())
                if one.any()
                else None
            )
            if f"{f}_model" in pairs:
                row["share_model"] = float(pairs[f"{f}_model"].mean())
                row["share_baseline"] = float(pairs[f"{f}_baseline"].mean())
        row["meaning"] = LENGTH_MEANING if f == LENGTH else PROPERTIES[f][1]
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs.update(n_pairs=len(pairs), n_instructions=int(groups.max()) + 1, level=level)
    # e.g. separation (a property whose every pair the same side wins): its estimate is not to be trusted
    notes = sorted({str(w.message).splitlines()[0] for w in caught})
    if not fit.converged:
        notes.append("the GLM fit did not converge")
    if notes:
        table.attrs["warnings"] = notes
    return table


def property_profile(
    annotations: pd.DataFrame, model_effects: bool = True, level: float = 0.95
) -> pd.DataFrame:
    """The whole profile of the judge behind `annotations` (records with both outputs)."""
    pairs = pair_differences(annotations)
    table = fit_profile(pairs, model_effects=model_effects, level=level)
    table.attrs["n_models"] = int(pairs["model"].nunique())
    return table
