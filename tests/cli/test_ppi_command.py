"""`judgebench ppi`: JSON fields, the one-line error contract, and the numbers against the stats layer."""

import json

import numpy as np
from conftest import assert_one_line_error, run_cli

from judgebench.stats.ppi import classical_mean


def _write(path, prefs, instructions, model="m"):
    rows = [
        {
            "instruction": i,
            "output_1": "base answer",
            "generator_1": "base",
            "output_2": "model answer " * (1 + k % 3),
            "generator_2": model,
            "preference": p,
        }
        for k, (i, p) in enumerate(zip(instructions, prefs, strict=True))
    ]
    path.write_text(json.dumps(rows))
    return str(path)


def test_ppi_json_and_bad_input(tmp_path, capsys):
    rng = np.random.default_rng(0)
    inst = [f"own instruction {j}" for j in range(300)]
    gold_all = 1 + (rng.random(300) < 0.3)
    cheap_all = np.where(rng.random(300) < 0.1, 3 - gold_all, gold_all)
    cheap = _write(tmp_path / "cheap.json", cheap_all.tolist(), inst)
    pick = rng.permutation(300)[:60]
    gold = _write(tmp_path / "gold.json", gold_all[pick].tolist(), [inst[j] for j in pick])

    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", gold, "--json"], capsys)
    assert code == 0, err
    r = json.loads(out)
    assert (r["n_gold"], r["n_cheap"]) == (60, 300)
    assert r["lower"] < r["win_rate"] < r["upper"] and 0 <= r["lambda"] <= 1
    g = classical_mean(gold_all[pick] - 1)  # the gold judge alone: a plain mean and CLT interval
    assert r["gold_only"]["win_rate"] == np.float64(100 * g["estimate"])
    assert r["upper"] - r["lower"] < r["gold_only"]["upper"] - r["gold_only"]["lower"]
    assert r["lc"]["lc_win_rate"] is None and "reason" in r["lc"]  # one model off the AlpacaEval set: no LC

    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", gold], capsys)
    assert code == 0 and "gold judge alone" in out and "no LC win rate" in out

    stranger = _write(tmp_path / "stranger.json", [2.0], ["an instruction the cheap judge never saw"])
    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", stranger], capsys)
    assert_one_line_error(code, err, names="no cheap judgment")
    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", gold, "--level", "1.5"], capsys)
    assert_one_line_error(code, err, names="--level")
    (tmp_path / "broken.json").write_text("[{")
    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", str(tmp_path / "broken.json")], capsys)
    assert_one_line_error(code, err, names="broken.json")


def test_report_shows_the_ppi_estimate(tmp_path, capsys):
    rng = np.random.default_rng(1)
    inst = [f"own instruction {j}" for j in range(200)]
    gold_all = 1 + (rng.random(200) < 0.4)
    cheap = _write(
        tmp_path / "cheap.json", np.where(rng.random(200) < 0.1, 3 - gold_all, gold_all).tolist(), inst
    )
    pick = rng.permutation(200)[:50]
    gold = _write(tmp_path / "gold.json", gold_all[pick].tolist(), [inst[j] for j in pick])
    code, out, err = run_cli(["ppi", "--cheap", cheap, "--gold", gold, "--json", "--no-lc"], capsys)
    assert code == 0, err
    (tmp_path / "ppi.json").write_text(out)
    r = json.loads(out)

    page = tmp_path / "r.html"
    code, _, err = run_cli(["report", "--ppi", str(tmp_path / "ppi.json"), "--out", str(page)], capsys)
    assert code == 0, err
    html = page.read_text()
    row = html[html.index('<h2 id="ppi">') :].split('data-model="m"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].removesuffix("</td>") for c in row.split("<td")[1:]]
    assert cells[2] == f"{r['win_rate']:.1f}" and cells[3].startswith(f"[{r['lower']:.1f}, {r['upper']:.1f}]")
    alone = 100 * np.mean(gold_all[pick] - 1)  # the gold judge alone: its mean, by hand
    assert cells[4] == f"{alone:.1f}" and cells[7] == "50 / 200"

    (tmp_path / "other.json").write_text(json.dumps({"win_rate": 3.0}))
    code, _, err = run_cli(["report", "--ppi", str(tmp_path / "other.json"), "--out", str(page)], capsys)
    assert_one_line_error(code, err, names="other.json")
