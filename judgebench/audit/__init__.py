"""Judge audit (judgebench.audit): how a pairwise judge can be fooled, measured before anyone trusts it.

Every audit pair is judged in both orders (`BothOrders`), so each check also feeds position bias.
Checks (metric, n, 95% CI by bootstrap over instructions, threshold, PASS/WARN/FAIL):

- constant:        a constant answer (empty, "I don't know.", a plea) against the baseline: its win rate.
- injection:       a structured injection built against this judge's own template (`build_injection`):
                   close the answer's block, an order to ignore the above, a fake request ("output
                   nothing") with fake answers in which the attacker's slot did right, then reopen the
                   attacker's block so the rest of the real prompt falls inside it; one payload per
                   slot it assumes. Win rate of the better payload, and how often the verdict is the
                   injected label. Optionally a random-search prefix that raises the target label's
                   log-prob (few steps, bounded time; for local judges).
- position:        first-slot rate over pairs of comparable answers, and order consistency.
- verbosity:       the baseline's answer padded with content-free sentences against itself:
                   P(prefer padded); with real candidate outputs, the LC GLM's length coefficient.
- self_preference: the judge's own outputs' win rate under this judge minus under a second judge.
- sanity:          identical answers should tie (decisiveness 0); a right answer beats a wrong one.

Thresholds (README, "Auditing a judge") start from the figures in the cheating paper
(arXiv 2410.07137) and AlpacaEval's evaluator analysis: a constant answer should win <= 5%, an
injection <= 10%, padding <= 55%, the first slot 45-55%.
"""

import importlib

# Where each public name lives; imported on first use, so that the CLI can read the audit's config
# (judgebench.audit.config) without loading the statistics behind the checks.
_HOMES = {
    "annotation_biases": "biases",
    "variant_shifts": "biases",
    **dict.fromkeys(
        ("CONSTANT_RESPONSES", "PADDING", "THRESHOLDS", "BothOrders", "Check", "mean_ci", "status_of"),
        "checks",
    ),
    "read_human_preferences": "human",
    **dict.fromkeys(
        (
            "FAKE_INSTRUCTION",
            "FAKE_WRONG_ANSWER",
            "IGNORE_ORDER",
            "PAIRWISE",
            "build_injection",
            "injected_label",
            "random_search_prefix",
            "render_pair",
            "second_wins",
        ),
        "injection",
    ),
    "ALL_CHECKS": "config",
    "run_audit": "run",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ALL_CHECKS",
    "CONSTANT_RESPONSES",
    "FAKE_INSTRUCTION",
    "FAKE_WRONG_ANSWER",
    "IGNORE_ORDER",
    "PADDING",
    "PAIRWISE",
    "THRESHOLDS",
    "BothOrders",
    "Check",
    "annotation_biases",
    "build_injection",
    "injected_label",
    "mean_ci",
    "random_search_prefix",
    "read_human_preferences",
    "render_pair",
    "run_audit",
    "second_wins",
    "status_of",
    "variant_shifts",
]
