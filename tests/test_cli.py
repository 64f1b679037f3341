"""`judgebench leaderboard` and `judgebench compare` as a user runs them."""

import gzip
import json
import subprocess

import pandas as pd
import pytest
from conftest import judgebench_exe

from judgebench.leaderboard import ALPACAEVAL_COLUMNS

MODELS = ["claude", "vicuna-7b", "alpaca-7b_verbose"]


def run(args, env, check=True):
    return subprocess.run([judgebench_exe(), *args], env=env, capture_output=True, text=True, check=check)


def test_leaderboard_csv_has_alpacaeval_columns_and_official_values(tmp_path, alpaca_dir, official_board, cli_env):
    files = [str(alpaca_dir / "annotations" / f"{m}.json.gz") for m in MODELS]
    out = tmp_path / "board.csv"
    res = run(["leaderboard", "--annotations", *files, "--out", str(out), "--n-boot", "200"], cli_env)
    board = pd.read_csv(out, index_col=0)
    assert list(board.columns[: len(ALPACAEVAL_COLUMNS)]) == ALPACAEVAL_COLUMNS
    assert {"win_rate_ci_low", "win_rate_ci_high", "lc_ci_low", "lc_ci_high", "n_missing"} <= set(board.columns)
    assert sorted(board.index) == sorted(MODELS)
    assert board["length_controlled_winrate"].is_monotonic_decreasing
    for m in MODELS:
        assert board.loc[m, "win_rate"] == pytest.approx(official_board.loc[m, "win_rate"], abs=1e-6)
        assert board.loc[m, "lc_ci_low"] < board.loc[m, "length_controlled_winrate"] < board.loc[m, "lc_ci_high"]
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
    res = run(["leaderboard", "--annotations", *first, added, "--out", str(out), "--update", "--n-boot", "0"], cli_env)
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
    bad.write_text(json.dumps([{"instruction": "q", "output_1": "a", "generator_1": "b", "output_2": "c",
                                "generator_2": "m", "preference": 7}]))
    res = run(["leaderboard", "--annotations", str(bad), "--out", str(tmp_path / "x.csv")], cli_env, check=False)
    assert res.returncode == 2
    assert "bad.json" in res.stderr and "row 0" in res.stderr and "'preference'" in res.stderr
    assert not (tmp_path / "x.csv").exists()  # nothing written half-way


def test_compare_json(alpaca_dir, cli_env):
    files = [str(alpaca_dir / "annotations" / f"{m}.json.gz") for m in ("vicuna-7b", "claude")]
    res = run(["compare", "--annotations", *files, "--a", "vicuna-7b", "--b", "claude", "--n-boot", "300", "--json"],
              cli_env)
    r = json.loads(res.stdout)
    assert r["n_common"] == 805
    assert r["win_rate"]["difference"] > 0 and r["win_rate"]["p_value"] < 1e-6
    assert r["length_controlled_winrate"]["ci_low"] > 0
