"""Class 3 of issue 24: every numeric setting is checked once, finite and in range, from its declaration:
on the command line (every numeric flag of every command), in the Python API and in judge specs."""

from __future__ import annotations

import argparse

import pytest
from conftest import assert_one_line_error, run_cli

from judgebench.cli import build_parser
from judgebench.errors import ConfigError
from judgebench.generation.sampling import Sampling
from judgebench.judges.spec import load_spec
from judgebench.settings import MAX_N_BOOT, MAX_SEED, MAX_TEMPERATURE, MAX_TOP_P


def numeric_flags() -> list[tuple[list[str], str, str]]:
    """(command words, flag, int|float) for every numeric flag of every command."""
    found = []

    def walk(parser, words):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])
            elif action.option_strings and getattr(action.type, "__name__", "") in ("int", "float"):
                found.append((words, action.option_strings[0], action.type.__name__))

    walk(build_parser(), [])
    return found


FLAGS = numeric_flags()


def test_the_table_covers_the_flags_the_issue_names():
    names = {flag for _, flag, _ in FLAGS}
    assert {"--max-cost", "--temperature", "--top-p", "--n-boot", "--seed", "--concurrency"} <= names


@pytest.mark.parametrize("words, flag, kind", FLAGS, ids=[f"{' '.join(w)} {f}" for w, f, _ in FLAGS])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309", "1e300", "1" + "0" * 400, "ten"])
def test_every_numeric_flag_refuses_non_finite_huge_and_non_numbers(capsys, words, flag, kind, value):
    code, _, err = run_cli([*words, flag, value], capsys)
    assert_one_line_error(code, err, codes=(2,), names=flag)


@pytest.mark.parametrize(
    "argv, says",
    [
        (["suite", "--models", "x", "--max-cost", "nan"], "finite"),
        (["evaluate", "--outputs", "x", "--temperature", "inf"], "finite"),
        (["evaluate", "--outputs", "x", "--temperature", str(MAX_TEMPERATURE + 0.5)], "at most 2"),
        (["evaluate", "--outputs", "x", "--top-p", "1e309"], "finite"),
        (["evaluate", "--outputs", "x", "--top-p", str(MAX_TOP_P + 0.01)], "at most 1"),
        (["leaderboard", "--n-boot", "1e9"], f"at most {MAX_N_BOOT}"),
        (["leaderboard", "--seed", "-1"], "at least 0"),
        (["leaderboard", "--seed", str(MAX_SEED + 1)], "at most"),
        # the newer commands' ranges are the declared caps, checked as the flags are parsed (before files)
        (["ppi", "--cheap", "x", "--gold", "y", "--level", "1"], "must be below 1"),
        (["ppi", "--cheap", "x", "--gold", "y", "--level", "0"], "must be above 0"),
        (["jury", "--annotations", "x", "--flip-prob", "1.5"], "must be at most 1"),
    ],
)
def test_the_issues_cases_are_one_line_naming_the_limit(capsys, argv, says):
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, codes=(2,), names=says)


def test_an_integer_valued_spelling_is_accepted_within_the_cap(capsys):
    code, _, err = run_cli(["leaderboard", "--n-boot", "1e3", "--annotations", "/nonexistent.json"], capsys)
    assert "--n-boot" not in err  # parsed as 1000; the missing file is what fails
    assert code == 2


@pytest.mark.parametrize(
    "field, value", [("temperature", float("inf")), ("top_p", 1e309), ("top_p", 2.0), ("seed", -5)]
)
def test_the_python_api_refuses_what_the_flags_refuse(field, value):
    with pytest.raises(ConfigError, match=field):
        Sampling(max_tokens=8, **{field: value})


@pytest.mark.parametrize(
    "line, field",
    [
        ("temperature: .inf", "decoding.temperature"),
        ("temperature: .nan", "decoding.temperature"),
        ("top_p: 1e309", "decoding.top_p"),
        ("seed: -1", "decoding.seed"),
        ("top_logprobs: 1000000", "decoding.top_logprobs"),
        # what vLLM 0.29.0's SamplingParams refuses (tests/data/vllm_api_snapshot.json)
        ("top_p: 0", r"decoding.top_p': must be above 0, got 0 \(valid: \(0, 1\]\)"),
        ("stop: ''", "decoding.stop': cannot contain an empty string"),
        ("stop: ['###', '']", "decoding.stop': cannot contain an empty string"),
    ],
)
def test_a_judge_spec_gets_the_same_ranges(tmp_path, line, field):
    (tmp_path / "t.txt").write_text("{{ instruction }} {{ output_1 }} {{ output_2 }}")
    spec = tmp_path / "j.yaml"
    spec.write_text(
        "name: j\nmodel: m\ntemplate: t.txt\nprotocol: alpacaeval\nparser: text_label\nlabels: [m, M]\n"
        f"decoding: {{max_tokens: 1, {line}}}\n"
    )
    with pytest.raises(ConfigError, match=field):
        load_spec(spec)
