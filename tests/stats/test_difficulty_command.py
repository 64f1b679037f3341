"""`judgebench difficulty` on files from a world whose instruction difficulties are known: it writes
every instruction's difficulty, close to the truth, and says what it wrote."""

import json

import numpy as np
import pandas as pd
from conftest import run_cli
from scipy.special import expit


def test_difficulty_command_recovers_known_difficulties(tmp_path, capsys):
    rng = np.random.default_rng(21)
    n_models, n_inst = 12, 150
    truth = pd.Series(rng.normal(0, 1.5, n_inst), index=[f"Question {i}?" for i in range(n_inst)])
    files = []
    for m in range(n_models):
        w_len, w_diff, w_ng = rng.normal(-1.5, 0.3), rng.uniform(0.6, 1.2), rng.normal(-1.0, 1.0)
        u = rng.normal(0.3, 1, n_inst)
        p = expit(w_len * np.tanh(u) + w_diff * truth.to_numpy() + w_ng + rng.normal(0, 0.7, n_inst))
        rows = [
            {
                "instruction": q,
                "output_1": "b" * int(1000 + 300 * u[i]),
                "generator_1": "base",
                "output_2": "c" * 1000,
                "generator_2": f"model-{m}",
                "preference": 1 + float(p[i]),
            }
            for i, q in enumerate(truth.index)
        ]
        files.append(tmp_path / f"model-{m}.json")
        files[-1].write_text(json.dumps(rows))
    out = tmp_path / "difficulty.csv"
    code, stdout, err = run_cli(["difficulty", "--annotations", *map(str, files), "--out", str(out)], capsys)
    assert code == 0, err
    got = pd.read_csv(out)
    assert list(got.columns) == ["instruction", "instruction_difficulty"]
    assert sorted(got["instruction"]) == sorted(truth.index) and got["instruction_difficulty"].notna().all()
    est = got.set_index("instruction")["instruction_difficulty"]
    assert np.corrcoef(est.loc[truth.index], truth)[0, 1] > 0.85
    d = got["instruction_difficulty"]
    assert stdout.strip() == f"wrote {out}: {n_inst} instructions, mean {d.mean():.3f}, sd {d.std():.3f}"
