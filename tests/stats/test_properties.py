"""Answer properties on hand-checked texts; the property GLM against simulations whose coefficients are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgebench.stats import properties as P


def test_counts_by_hand():
    # tokens: Hello , world ! It ' s 42 . -> 9 ; words: Hello world It's -> 3
    assert P.tokens("Hello, world! It's 42.") == 9
    assert P.words("Hello, world! It's 42.") == 3
    assert P.measure("")["log2_tokens"] == 0.0
    assert P.measure("a b c")["log2_tokens"] == 2.0  # log2(3 + 1)


@pytest.mark.parametrize(
    ("text", "has"),
    [
        ("Steps:\n1. Boil water\n2. Add pasta", {"list"}),
        ("- only one item", set()),
        ("* a\n* b\n* c", {"list"}),
        ("# Title\nbody", {"header"}),
        ("#hashtag is not a header", set()),
        ("This is **very** important.", {"bold"}),
        ("2 ** 3 ** 4 is math", set()),
        ("```python\nprint(1)\n```", {"code_block"}),
        ("See https://example.org for more.", {"link"}),
        ("[docs](http://x.y)", {"link"}),
        ("Have fun \U0001f600", {"emoji"}),
        ("I'm sorry, but I can't help with that.", {"refusal"}),
        ("As an AI language model, I cannot browse the web.", {"refusal"}),
        ("It might rain tomorrow.", {"hedge"}),
        ("This is definitely the answer.", {"confident"}),
        ("I hope this helps!", {"polite"}),
        ("Which city do you mean?", {"question_back"}),
        ("Would you like a longer version.", {"question_back"}),
        ("Paris is the capital of France.", set()),
    ],
)
def test_properties_by_hand(text, has):
    measured = P.measure(text, "Tell me something.")
    flagged = {name for name in P.PROPERTIES if name != "language_match" and measured[name] == 1.0}
    assert flagged == has
    assert measured["language_match"] == 1.0


def test_language_match():
    assert P.language("What is the capital of France and why is it there?") == "en"
    assert P.language("¿Cuál es la capital de Francia y por qué es la capital?") == "es"
    assert P.language("Quelle est la capitale de la France? Je ne sais pas") == "fr"
    assert P.language("Какая столица Франции?") == "cyrillic"
    assert P.language("法国的首都是哪里？") == "cjk"
    q = "¿Cuál es la capital de Francia y por qué?"
    assert P.measure("La capital de Francia es París, y es la ciudad más grande.", q)["language_match"] == 1
    assert P.measure("The capital of France is Paris, and it is the largest city.", q)["language_match"] == 0


def _simulated_pairs(rng, n_instr, n_models, beta, sd_instr=1.0):
    """Feature differences drawn at random, an instruction effect shared by every model's pair (what the
    cluster-robust covariance is for), a per-model intercept, and a Bernoulli verdict from the true GLM."""
    n = n_instr * n_models
    instr = np.repeat(np.arange(n_instr), n_models)
    model = np.tile(np.arange(n_models), n_instr)
    X = {f: rng.choice([-1.0, 0.0, 1.0], n, p=[0.25, 0.5, 0.25]) for f in beta if f != P.LENGTH}
    X[P.LENGTH] = rng.normal(0, 1.0, n)
    eta = sum(beta[f] * X[f] for f in beta) + np.linspace(-1, 0.5, n_models)[model]
    eta = eta + rng.normal(0, sd_instr, n_instr)[instr]
    df = pd.DataFrame(X)
    df["p"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["instruction"], df["model"] = instr.astype(str), model.astype(str)
    return df


BETA = {P.LENGTH: 0.5, "list": 0.3, "bold": 1.0, "refusal": -1.3, "emoji": 0.0}


def test_glm_recovers_known_coefficients(statsmodels):
    pairs = _simulated_pairs(np.random.default_rng(1), 2000, 4, BETA)
    table = P.fit_profile(pairs, features=tuple(BETA)).set_index("property")
    for f, b in BETA.items():
        est, lo, hi = table.loc[f, ["log_odds", "ci_low", "ci_high"]]
        # attenuated by the unmodelled instruction effect (a marginal fit of a conditional truth), so
        # compared at the marginal scale: 1/sqrt(1 + 0.346 * sd^2) (Zeger, Liang & Albert 1988)
        assert abs(est - b / np.sqrt(1 + 0.346)) < 0.12, (f, est, b)
        assert lo < est < hi


def test_cluster_robust_intervals_cover(statsmodels):
    """Over many draws without an instruction effect the 95% intervals hold the true coefficients."""
    rng = np.random.default_rng(7)
    beta = {P.LENGTH: 0.5, "list": 0.4, "bold": -0.6}
    hits = []
    for _ in range(40):
        table = P.fit_profile(_simulated_pairs(rng, 300, 2, beta, sd_instr=0.0), features=tuple(beta))
        table = table.set_index("property")
        hits += [table.loc[f, "ci_low"] <= b <= table.loc[f, "ci_high"] for f, b in beta.items()]
    assert 0.88 <= np.mean(hits) <= 1.0, np.mean(hits)


def test_profile_end_to_end_from_texts(statsmodels):
    """Answers built with known properties, a judge that rewards bold (+1.5) and punishes refusals (-2):
    measuring the texts and fitting recovers both, and finds nothing for lists."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(1500):
        instruction = f"Explain topic number {i}."
        texts, scores = [], []
        for _ in range(2):
            bold, refusal, lst = rng.random(3) < [0.4, 0.1, 0.5]
            bold, lst = bold and not refusal, lst and not refusal
            body = "Here is an explanation of the topic with a few plain sentences."
            if bold:
                body = body.replace("explanation", "**explanation**")
            if lst:
                body += "\n- first point\n- second point"
            if refusal:
                body = "I'm sorry, but I can't help with that."
            texts.append(body)
            scores.append(1.5 * bold - 2.0 * refusal)
        p_model = 1 / (1 + np.exp(-(scores[1] - scores[0])))
        rows.append(
            {
                "instruction": instruction,
                "output_1": texts[0],
                "output_2": texts[1],
                "generator_1": "base",
                "generator_2": "model",
                "preference": 1.0 + p_model,  # a soft preference: the judge's probability
            }
        )
    table = P.property_profile(pd.DataFrame(rows)).set_index("property")
    assert table.loc["bold", "log_odds"] == pytest.approx(1.5, abs=0.05)
    assert table.loc["refusal", "log_odds"] == pytest.approx(-2.0, abs=0.1)
    assert abs(table.loc["list", "log_odds"]) < 0.1
    assert table.attrs["n_pairs"] == 1500 - sum(r["output_1"] == r["output_2"] for r in rows)


def test_separation_is_reported_not_printed(statsmodels):
    """A property that decides every verdict: the estimate runs off, and the table says so."""
    rng = np.random.default_rng(0)
    pairs = pd.DataFrame({"bold": rng.choice([-1.0, 1.0], 200), P.LENGTH: rng.normal(size=200)})
    pairs["p"] = (pairs["bold"] > 0).astype(float)
    pairs["instruction"], pairs["model"] = [str(i) for i in range(200)], "m"
    table = P.fit_profile(pairs, features=(P.LENGTH, "bold"))
    assert any("separation" in w for w in table.attrs["warnings"])
