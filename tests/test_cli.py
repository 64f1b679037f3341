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


def test_gamed_annotations_replace_the_shipped_stand_ins(tmp_path, alpaca_dir, cli_env):
    """--gamed takes annotation files of the verbose/concise baselines; their length difference is
    standardised per file (hand-checked here) and they change the LC, not the win rate."""
    rows = json.loads(gzip.decompress((alpaca_dir / "annotations" / "claude.json.gz").read_bytes()))
    gamed_files = []
    for name, factor, pref in (("verbose", 3, 1.7), ("concise", 0.5, 1.2)):
        g = [{"instruction": r["instruction"], "output_1": r["output_1"], "generator_1": r["generator_1"],
              "output_2": r["output_1"] * factor if factor > 1 else r["output_1"][: len(r["output_1"]) // 2],
              "generator_2": f"base_{name}", "preference": pref} for r in rows]
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(g))
        gamed_files.append(str(path))
    claude = str(alpaca_dir / "annotations" / "claude.json.gz")
    out_default, out_gamed = tmp_path / "a.csv", tmp_path / "b.csv"
    run(["leaderboard", "--annotations", claude, "--out", str(out_default), "--n-boot", "0"], cli_env)
    run(["leaderboard", "--annotations", claude, "--out", str(out_gamed), "--n-boot", "0", "--gamed", *gamed_files],
        cli_env)
    a, b = pd.read_csv(out_default, index_col=0), pd.read_csv(out_gamed, index_col=0)
    assert a.loc["claude", "win_rate"] == b.loc["claude", "win_rate"]
    # (the default LC also carries the shipped-inputs correction, which given gamed rows do not get)
    assert abs(a.loc["claude", "length_controlled_winrate"] - b.loc["claude", "length_controlled_winrate"]) > 0.2
    assert a.loc["claude", "lc_inputs"].startswith("judgebench estimate") and "given gamed" in b.loc["claude", "lc_inputs"]

    from judgebench.io import load_annotations
    from judgebench.stats.lc import gamed_rows_from_annotations

    g = gamed_rows_from_annotations(load_annotations(gamed_files[:1], keep_extra=False))
    delta = [len(r["output_1"]) - 3 * len(r["output_1"]) for r in rows]
    sd = pd.Series(delta).std()
    assert g["std_delta_len"].tolist() == pytest.approx([d / sd for d in delta])
