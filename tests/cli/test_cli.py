"""`judgebench leaderboard` and `judgebench compare` as a user runs them."""

import gzip
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import judgebench_exe

from judgebench.leaderboard.board import ALPACAEVAL_COLUMNS

MODELS = ["claude", "vicuna-7b", "alpaca-7b_verbose"]


def run(args, env, check=True):
    return subprocess.run([judgebench_exe(), *args], env=env, capture_output=True, text=True, check=check)


def test_leaderboard_csv_has_alpacaeval_columns_and_official_values(
    tmp_path, alpaca_dir, official_board, cli_env
):
    files = [str(alpaca_dir / "annotations" / f"{m}.json.gz") for m in MODELS]
    out = tmp_path / "board.csv"
    res = run(["leaderboard", "--annotations", *files, "--out", str(out), "--n-boot", "200"], cli_env)
    board = pd.read_csv(out, index_col=0)
    assert list(board.columns[: len(ALPACAEVAL_COLUMNS)]) == ALPACAEVAL_COLUMNS
    assert {"win_rate_ci_low", "win_rate_ci_high", "lc_ci_low", "lc_ci_high", "n_missing"} <= set(
        board.columns
    )
    assert sorted(board.index) == sorted(MODELS)
    assert board["length_controlled_winrate"].is_monotonic_decreasing
    for m in MODELS:
        assert board.loc[m, "win_rate"] == pytest.approx(official_board.loc[m, "win_rate"], abs=1e-6)
        assert (
            board.loc[m, "lc_ci_low"] < board.loc[m, "length_controlled_winrate"] < board.loc[m, "lc_ci_high"]
        )
        assert board.loc[m, "win_rate_ci_low"] < board.loc[m, "win_rate"] < board.loc[m, "win_rate_ci_high"]
        assert m in res.stdout
    assert "AlpacaEval 2.0 estimate" in res.stdout


def test_adding_a_model_does_not_refit_the_others(tmp_path, alpaca_dir, cli_env):
    out = tmp_path / "board.csv"
    first = [str(alpaca_dir / "annotations" / f"{m}.json.gz") for m in MODELS[:2]]
    run(["leaderboard", "--annotations", *first, "--out", str(out), "--n-boot", "0"], cli_env)
    board = pd.read_csv(out, index_col=0)
    board.loc["claude", "length_controlled_winrate"] = 12.345  # a refit would overwrite this
    board.to_csv(out)
    added = str(alpaca_dir / "annotations" / "phi-2.json.gz")
    res = run(
        ["leaderboard", "--annotations", *first, added, "--out", str(out), "--update", "--n-boot", "0"],
        cli_env,
    )
    after = pd.read_csv(out, index_col=0)
    assert after.loc["claude", "length_controlled_winrate"] == 12.345
    assert sorted(after.index) == sorted(["claude", "vicuna-7b", "phi-2"])
    assert "1 fitted now" in res.stdout


def test_missing_preferences_are_counted_not_dropped(tmp_path, alpaca_dir, cli_env):
    rows = json.loads(gzip.decompress((alpaca_dir / "annotations" / "claude.json.gz").read_bytes()))
    for r in rows[:7]:
        r["preference"] = None
    path = tmp_path / "claude_partial.json"
    path.write_text(json.dumps(rows))
    out = tmp_path / "b.csv"
    res = run(["leaderboard", "--annotations", str(path), "--out", str(out), "--n-boot", "0"], cli_env)
    board = pd.read_csv(out, index_col=0)
    assert board.loc["claude", "n_missing"] == 7 and board.loc["claude", "n_total"] == 798
    assert "rows without a preference" in res.stdout and "claude 7" in res.stdout


def test_bad_input_exits_2_naming_file_row_and_field(tmp_path, cli_env):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {
                    "instruction": "q",
                    "output_1": "a",
                    "generator_1": "b",
                    "output_2": "c",
                    "generator_2": "m",
                    "preference": 7,
                }
            ]
        )
    )
    res = run(
        ["leaderboard", "--annotations", str(bad), "--out", str(tmp_path / "x.csv")], cli_env, check=False
    )
    assert res.returncode == 2
    assert "bad.json" in res.stderr and "row 0" in res.stderr and "'preference'" in res.stderr
    assert not (tmp_path / "x.csv").exists()  # nothing written half-way


def test_compare_json(alpaca_dir, cli_env):
    files = [str(alpaca_dir / "annotations" / f"{m}.json.gz") for m in ("vicuna-7b", "claude")]
    res = run(
        [
            "compare",
            "--annotations",
            *files,
            "--a",
            "vicuna-7b",
            "--b",
            "claude",
            "--n-boot",
            "300",
            "--json",
        ],
        cli_env,
    )
    r = json.loads(res.stdout)
    assert r["n_common"] == 805
    assert r["win_rate"]["difference"] > 0 and r["win_rate"]["p_value"] < 1e-6
    assert r["length_controlled_winrate"]["ci_low"] > 0


def test_gamed_annotations_replace_the_shipped_stand_ins(tmp_path, alpaca_dir, cli_env):
    """--gamed takes annotation files of the verbose/concise baselines; their length difference is
    standardised per file (hand-checked here) and they change the LC, not the win rate."""
    rows = json.loads(gzip.decompress((alpaca_dir / "annotations" / "claude.json.gz").read_bytes()))
    gamed_files = []
    for name, factor, pref in (("verbose", 3, 1.7), ("concise", 0.5, 1.2)):
        g = [
            {
                "instruction": r["instruction"],
                "output_1": r["output_1"],
                "generator_1": r["generator_1"],
                "output_2": r["output_1"] * factor
                if factor > 1
                else r["output_1"][: len(r["output_1"]) // 2],
                "generator_2": f"base_{name}",
                "preference": pref,
            }
            for r in rows
        ]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(g))
        gamed_files.append(str(path))
    claude = str(alpaca_dir / "annotations" / "claude.json.gz")
    out_default, out_gamed = tmp_path / "a.csv", tmp_path / "b.csv"
    run(["leaderboard", "--annotations", claude, "--out", str(out_default), "--n-boot", "0"], cli_env)
    run(
        [
            "leaderboard",
            "--annotations",
            claude,
            "--out",
            str(out_gamed),
            "--n-boot",
            "0",
            "--gamed",
            *gamed_files,
        ],
        cli_env,
    )
    a, b = pd.read_csv(out_default, index_col=0), pd.read_csv(out_gamed, index_col=0)
    assert a.loc["claude", "win_rate"] == b.loc["claude", "win_rate"]
    # (the default LC also carries the shipped-inputs correction, which given gamed rows do not get)
    assert (
        abs(a.loc["claude", "length_controlled_winrate"] - b.loc["claude", "length_controlled_winrate"]) > 0.2
    )
    assert (
        a.loc["claude", "lc_inputs"].startswith("judgebench estimate")
        and "given gamed" in b.loc["claude", "lc_inputs"]
    )

    from judgebench.files.records import load_annotations
    from judgebench.stats.lc import gamed_rows_from_annotations

    g = gamed_rows_from_annotations(load_annotations(gamed_files[:1], keep_extra=False))
    delta = [len(r["output_1"]) - 3 * len(r["output_1"]) for r in rows]
    sd = pd.Series(delta).std()
    assert g["std_delta_len"].tolist() == pytest.approx([d / sd for d in delta])


# --- the command line as a package: its parser, option groups and the limits it hands to the API ---


def _options(parser, path=()):
    """(command path, action) for every option of every command and sub-command."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, (*path, name))
        elif not isinstance(action, argparse._HelpAction):
            yield path, action


def test_every_option_of_every_command_has_help():
    from judgebench.cli import build_parser

    options = list(_options(build_parser()))
    commands = {path[0] for path, _ in options if path}
    assert {
        "leaderboard",
        "compare",
        "annotate",
        "evaluate",
        "audit",
        "report",
        "detect",
        "tiny",
        "difficulty",
        "import-annotations",
        "store",
        "suite",
    } <= commands
    assert ("tiny", "fit") in {path for path, _ in options} and ("store", "copy") in {
        path for path, _ in options
    }
    bare = [
        f"{' '.join(path)} {'/'.join(a.option_strings) or a.dest}"
        for path, a in options
        if not (a.help and a.help.strip())
    ]
    assert bare == []


def test_help_shows_the_description_and_exit_codes_not_a_docstring(cli_env):
    import sys

    import judgebench.cli

    for cmd in ([judgebench_exe(), "--help"], [sys.executable, "-m", "judgebench.cli", "--help"]):
        res = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, check=True)
        assert "an LLM-judge evaluation harness" in res.stdout, cmd
        assert "exit codes: 0 success" in res.stdout and "70 internal error" in res.stdout
        assert judgebench.cli.__doc__.splitlines()[0] not in res.stdout
        for command in ("leaderboard", "evaluate", "annotate", "audit", "suite", "tiny"):
            assert command in res.stdout


def test_backend_choices_are_the_registry():
    """`annotate --backend` and `evaluate --engine` offer exactly the registered backends (transformers too)."""
    from judgebench.backends import REGISTRY
    from judgebench.cli import build_parser

    choices = {
        (path, a.dest): a.choices for path, a in _options(build_parser()) if a.dest in ("backend", "engine")
    }
    assert choices == {
        (("annotate",), "backend"): sorted(REGISTRY),
        (("evaluate",), "engine"): sorted(REGISTRY),
    }
    assert "transformers" in choices[(("annotate",), "backend")]


def test_shared_options_are_defined_once():
    """--out, --annotations and --store of the commands without a config are spelled in cli/options.py only;
    the flags of the commands that call a model (limits, key, progress) are spelled in no CLI module at all:
    they are made from the configs' declarations."""
    from pathlib import Path

    import judgebench.cli

    package = Path(judgebench.cli.__file__).parent
    for flag in ('"--out"', '"--annotations"', '"--store"'):
        where = [p.name for p in package.glob("*.py") if flag in p.read_text()]
        assert where == ["options.py"], (flag, where)
    for flag in (
        '"--rpm"',
        '"--timeout"',
        '"--max-retries"',
        '"--no-progress"',
        '"--allow-key-to"',
        '"--api-key-env"',
        '"--concurrency"',
    ):
        where = [p.name for p in package.glob("*.py") if flag in p.read_text()]
        assert where == [], (flag, where)


def test_every_command_that_calls_a_model_takes_the_same_limit_and_key_flags():
    """For annotate, evaluate, audit and suite, the endpoint-key and call-limit flags are exactly the
    declared groups' (nothing missing, nothing extra spelled beside them)."""
    from judgebench.annotation.pipeline import CallLimits, KeyAccess
    from judgebench.cli import build_parser
    from judgebench.cli.declared import flags_of

    key_flags = {"--api-key-env", "--allow-key-to"}
    limit_flags = {
        "--concurrency",
        "--rpm",
        "--requests-per-minute",
        "--tpm",
        "--tokens-per-minute",
        "--timeout",
        "--max-retries",
    }
    assert flags_of(KeyAccess) == key_flags and flags_of(CallLimits) == limit_flags  # by hand, from the issue
    per_group: dict = {}
    for path, a in _options(build_parser()):
        group = a.dest.split(".")[0] if "." in a.dest else None
        per_group.setdefault((path, group), set()).update(a.option_strings)
    for command in ("annotate", "evaluate", "audit", "suite"):
        assert per_group[((command,), "key")] == key_flags, command
        assert per_group[((command,), "limits")] == limit_flags, command
        loose = per_group[((command,), None)]
        assert not loose & (key_flags | limit_flags), command  # none spelled again beside the groups


def test_flags_are_checked_as_declared(capsys):
    """Counts are whole numbers, a finite number is meant where one is asked for, ranges hold: one line,
    exit 2, naming the flag."""
    from judgebench.cli import main

    cases = [
        (["evaluate", "--max-tokens", "0"], "argument --max-tokens: must be at least 1, got 0"),
        (["evaluate", "--temperature", "nan"], "argument --temperature: must be a finite number, got nan"),
        (["evaluate", "--top-p", "-0.5"], "argument --top-p: must be above 0, got -0.5 (valid: (0, 1])"),
        (["evaluate", "--timeout", "inf"], "argument --timeout: must be a finite number, got inf"),
        (["annotate", "--rpm", "0"], "argument --rpm/--requests-per-minute: must be above 0, got 0.0"),
        (["audit", "--concurrency", "2.5"], "argument --concurrency: must be a whole number, got '2.5'"),
        (["suite", "--max-cost", "nan"], "argument --max-cost: must be a finite number, got nan"),
        (["suite", "--max-cost", "-1"], "argument --max-cost: must be at least 0, got -1.0"),
        (["leaderboard", "--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["tiny", "fit", "--dim", "0"], "argument --dim: must be at least 1, got 0"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit) as exit:
            main(argv)
        err = capsys.readouterr().err
        assert (
            exit.value.code == 2 and err.startswith(f"judgebench: error: {message}") and err.count("\n") == 1
        )


# vLLM 0.29.0's SamplingParams checks (tests/data/vllm_api_snapshot.json, "checks"/"sampling_params"): the
# values it refuses, which every command taking the flag refuses before anything runs
REFUSED_SAMPLING = [
    ("--top-p", "0", "must be above 0, got 0.0 (valid: (0, 1])"),
    ("--top-p", "1.5", "must be at most 1, got 1.5 (valid: (0, 1])"),
    ("--temperature", "-0.5", "must be at least 0, got -0.5 (valid: [0, 2])"),
    ("--temperature", "2.5", "must be at most 2, got 2.5 (valid: [0, 2])"),
]


def test_sampling_values_vllm_refuses_are_refused_by_every_command_that_takes_them(capsys):
    from conftest import assert_one_line_error, run_cli

    from judgebench.cli import build_parser

    snapshot = json.loads((Path(__file__).parents[1] / "data" / "vllm_api_snapshot.json").read_text())
    refused_by_vllm = {
        (k, v)
        for probe in snapshot["checks"]["sampling_params"]
        if "raises" in probe
        for k, v in probe["kwargs"].items()
        if k in ("top_p", "temperature")
    }
    assert {("top_p", 0.0), ("top_p", 1.5), ("temperature", -0.5), ("temperature", 2.5)} <= refused_by_vllm
    commands = {path for path, a in _options(build_parser()) if "--top-p" in a.option_strings}
    assert {("evaluate",), ("suite",)} <= commands
    for path in commands:
        for flag, value, why in REFUSED_SAMPLING:
            code, _, err = run_cli([*path, flag, value], capsys)
            line = assert_one_line_error(code, err)
            assert line.startswith(f"judgebench: error: argument {flag}: {why}"), path
    # the edges vLLM takes are taken: the parser gives them through
    for flag, value in [
        ("--top-p", "1"),
        ("--top-p", "1e-6"),
        ("--temperature", "0"),
        ("--temperature", "2"),
    ]:
        code, _, err = run_cli(["evaluate", flag, value, "--max-instances", "x"], capsys)
        assert "--max-instances" in err and flag not in err


def test_the_python_api_refuses_what_the_flags_refuse():
    from judgebench.annotation.pipeline import CallLimits
    from judgebench.errors import ConfigError
    from judgebench.generation.sampling import Sampling
    from judgebench.runs.config import EvaluateConfig, SuiteConfig

    with pytest.raises(ConfigError, match=r"^max_cost \(--max-cost\) must be a finite number, got nan$"):
        SuiteConfig(max_cost=float("nan"))
    with pytest.raises(
        ConfigError, match=r"^top_p \(--top-p\) must be above 0, got 0.0 \(valid: \(0, 1\]\)$"
    ):
        Sampling(max_tokens=8, top_p=0.0)
    with pytest.raises(ConfigError, match=r"^n_boot \(--n-boot\) must be a whole number"):
        EvaluateConfig(n_boot=10.5)
    with pytest.raises(ConfigError, match=r"^concurrency \(--concurrency\) must be at least 1"):
        CallLimits(concurrency=0)
    assert EvaluateConfig(model="m.gguf", out="x").limits == CallLimits()  # built with keywords


class _Stop(Exception):
    pass


def test_limits_reach_the_api_as_given(monkeypatch, tmp_path, capsys):
    """Given: in the config's limits. Not given: the declared defaults (the API's own)."""
    import judgebench.runs.evaluate
    from judgebench.annotation.pipeline import CallLimits
    from judgebench.cli import main
    from judgebench.errors import ConfigError

    seen = []

    def evaluate(config):
        seen.append(config)
        raise ConfigError("stopped by the test")

    monkeypatch.setattr(judgebench.runs.evaluate, "evaluate", evaluate)
    common = ["evaluate", "--outputs", "x.json", "--out", str(tmp_path / "run")]
    assert main(common) == 2
    given = ["--rpm", "30", "--tpm", "9000", "--timeout", "5", "--max-retries", "2", "--concurrency", "3"]
    assert main([*common, *given, "--allow-key-to", "h.example", "--api-key-env", "MY_KEY"]) == 2
    assert "stopped by the test" in capsys.readouterr().err
    assert seen[0].limits == CallLimits(concurrency=8, timeout=120.0, max_retries=6)
    assert seen[1].limits == CallLimits(
        concurrency=3, requests_per_minute=30.0, tokens_per_minute=9000.0, timeout=5.0, max_retries=2
    )
    assert seen[1].key.allow_key_to == ("h.example",) and seen[1].key.api_key_env == "MY_KEY"


def test_tiny_anchors_missing_from_the_eval_set_is_one_line(tmp_path, capsys):
    """`tiny anchors` on an eval set without the tiny file's anchors: exit 2, one line, nothing written."""
    from judgebench.cli import main
    from judgebench.stats.difficulty import instruction_key
    from judgebench.stats.irt import FORMAT_VERSION, TinyModel

    rows = [{"instruction": f"question {i}?", "output": f"answer {i}", "generator": "base"} for i in range(4)]
    tiny = TinyModel(
        version=FORMAT_VERSION,
        item_keys=[instruction_key(r["instruction"]) for r in rows],
        dim=1,
        a=[[1.0]] * 4,
        b=[0.0] * 4,
        anchors=[3, 1],
        anchor_keys=[instruction_key("question 3?"), instruction_key("question 1?")],
        weights=[0.5, 0.5],
        stratum_of=[1, 1, 0, 0],
        interval_z=2.0,
        eval_set_hash="by hand",
    )
    tiny.save(tmp_path / "tiny.json")
    full, partial = tmp_path / "full.json", tmp_path / "partial.json"
    full.write_text(json.dumps(rows))
    partial.write_text(json.dumps(rows[:2]))
    out = tmp_path / "anchors.json"

    def anchors(eval_set):
        return main(
            [
                "tiny",
                "anchors",
                "--tiny",
                str(tmp_path / "tiny.json"),
                "--eval-set",
                str(eval_set),
                "--out",
                str(out),
            ]
        )

    assert anchors(partial) == 2
    err = capsys.readouterr().err
    assert (
        "1 anchors of the tiny file are not in eval set" in err and err.count("\n") == 1 and not out.exists()
    )
    assert anchors(full) == 0
    assert [r["instruction"] for r in json.loads(out.read_text())] == [
        "question 1?",
        "question 3?",
    ]  # set order


def test_audit_strict_exits_1_after_printing_the_checks(monkeypatch, tmp_path, capsys):
    import judgebench.audit
    from judgebench.cli import main

    def run_audit(config):
        judge = config.judge
        check = {"metric": 0.9, "ci_low": 0.8, "ci_high": 0.95, "n": 20, "threshold": "< 0.6"}
        return {
            "judge": judge,
            "model": "m",
            "n": 20,
            "eval_set": "alpaca_eval",
            "checks": [
                {**check, "name": "position", "status": "FAIL"},
                {**check, "name": "constant", "status": "PASS"},
            ],
        }

    monkeypatch.setattr(judgebench.audit, "run_audit", run_audit)
    args = ["audit", "--judge", "x", "--out", str(tmp_path / "a")]
    assert main(args) == 0
    assert "FAIL  position" in capsys.readouterr().out
    assert main([*args, "--strict"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  position" in captured.out and "PASS  constant" in captured.out
    assert (
        captured.err == "judgebench: error: --strict: FAIL in position (see the table above or audit.json)\n"
    )


def test_every_command_describes_itself_atop_its_help():
    import argparse

    from judgebench.cli import build_parser

    def parsers(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield (*path, name), sub
                    yield from parsers(sub, (*path, name))

    found = dict(parsers(build_parser()))
    assert len(found) >= 16  # 12 commands, tiny's three actions, store copy
    assert [path for path, p in found.items() if not p.description] == []
    assert "generate, judge and score" in (found[("evaluate",)].format_help())
