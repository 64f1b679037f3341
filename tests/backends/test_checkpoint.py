"""Checkpoints as users have them: a LoRA adapter on a base model and vLLM's engine settings, from evaluate's
flags to the engine. vLLM runs as the stand-in (tests/fake_vllm), whose LLM(), chat() and LoRARequest are held
to vLLM 0.29.0's real signatures (tests/data/vllm_api_snapshot.json); the transformers path is tested for real
in tests/backends/test_transformers_lora.py."""

import json
import sys
from pathlib import Path

import pytest
from random_llama import lora_adapter_folder as adapter

from judgebench.backends.checkpoint import Checkpoint, resolve
from judgebench.cli.declared import flags_of
from judgebench.errors import ConfigError, InputError
from judgebench.runs.config import EvaluateConfig
from judgebench.runs.evaluate import generation_backend

TESTS = Path(__file__).resolve().parents[1]
SNAPSHOT = json.loads((TESTS / "data" / "vllm_api_snapshot.json").read_text())


def test_evaluate_has_one_flag_per_setting():
    assert {
        "--lora",
        "--tensor-parallel-size",
        "--max-model-len",
        "--gpu-memory-utilization",
        "--dtype",
        "--quantization",
    } <= flags_of(EvaluateConfig)
    with pytest.raises(
        ConfigError, match=r"gpu_memory_utilization \(--gpu-memory-utilization\) must be at most 1"
    ):
        Checkpoint(gpu_memory_utilization=1.5)
    with pytest.raises(ConfigError, match="must be above 0"):
        Checkpoint(gpu_memory_utilization=0.0)


def test_vllm_gets_the_settings_and_the_adapter_with_room_for_its_rank(vllm, tmp_path):
    lora = adapter(tmp_path / "my-adapter", rank=64)
    config = EvaluateConfig(
        model=str(lora),  # an adapter folder as --model: its config names the base
        engine="vllm",
        checkpoint=Checkpoint(
            tensor_parallel_size=2,
            max_model_len=60,
            gpu_memory_utilization=0.5,
            dtype="bfloat16",
            quantization="fp8",
        ),
    )
    backend = generation_backend(config)
    init = backend.llm.init_kwargs
    assert init["model"] == "base-model"
    assert {
        k: init[k] for k in ("tensor_parallel_size", "max_model_len", "gpu_memory_utilization", "dtype")
    } == {
        "tensor_parallel_size": 2,
        "max_model_len": 60,
        "gpu_memory_utilization": 0.5,
        "dtype": "bfloat16",
    }
    assert init["quantization"] == "fp8" and init["enable_lora"] is True
    assert init["max_lora_rank"] == 64  # vLLM's default (16) would refuse a rank-64 adapter
    # every keyword is one vLLM 0.29.0's LLM() takes (its own parameters, or EngineArgs fields)
    real = {p["name"] for p in SNAPSHOT["classes"]["LLM"]["methods"]["__init__"]}
    assert set(init) <= real | set(SNAPSHOT["classes"]["EngineArgs"]["fields"])
    assert backend.max_model_len == 60  # read back from the engine

    import asyncio

    from judgebench.backends import CompletionRequest

    r = asyncio.run(backend.complete(CompletionRequest(({"role": "user", "content": "hi"},), max_tokens=4)))
    assert r.text == "M the answer is"
    (used,) = backend.llm.lora_used
    assert used.lora_int_id == 1 and used.lora_path == str(lora.resolve())
    # the cache key's model names the adapter: the base model's answers are never reused for it
    assert backend.model != "base-model" and str(lora.resolve()) in backend.model


def test_an_adapter_of_a_rank_above_the_engines_is_refused_by_the_engine(vllm, tmp_path):
    """The guard the test above relies on: the stand-in refuses as vLLM does when max_lora_rank is too small."""
    lora = adapter(tmp_path / "a", rank=64)
    llm = vllm.LLM("base-model", enable_lora=True)
    request = vllm.lora.request.LoRARequest("a", 1, str(lora))
    with pytest.raises(ValueError, match="LoRA rank 64 is greater than max_lora_rank 16"):
        llm.chat([{"role": "user", "content": "x"}], vllm.SamplingParams(max_tokens=1), lora_request=request)
    with pytest.raises(vllm.exceptions.VLLMValidationError, match="LoRA is not enabled"):
        vllm.LLM("base-model").chat([{"role": "user", "content": "x"}], lora_request=request)


def test_the_stand_ins_lora_request_is_vllms():
    sys.path.insert(0, str(TESTS / "fake_vllm"))
    try:
        import dataclasses

        from vllm.lora.request import LoRARequest
    finally:
        sys.path.remove(str(TESTS / "fake_vllm"))
        for name in [m for m in sys.modules if m == "vllm" or m.startswith("vllm.")]:
            del sys.modules[name]
    ours = {
        f.name: (None if f.default is dataclasses.MISSING else repr(f.default))
        for f in dataclasses.fields(LoRARequest)
    }
    real = SNAPSHOT["classes"]["LoRARequest"]["fields"]
    assert set(ours) == set(real)
    assert all(ours[k] == v or (v or "").endswith(f"default={ours[k]})") for k, v in real.items())


def test_settings_an_engine_does_not_take_are_refused_by_name(tmp_path):
    with pytest.raises(
        ConfigError, match=r"--max-model-len, --quantization: the llamacpp engine does not take"
    ):
        generation_backend(
            EvaluateConfig(engine="llamacpp", checkpoint=Checkpoint(max_model_len=100, quantization="awq"))
        )
    with pytest.raises(
        ConfigError, match="--tensor-parallel-size: the transformers engine does not take this"
    ):
        Checkpoint(tensor_parallel_size=2).for_engine("transformers")
    assert Checkpoint(dtype="float32", lora="x").for_engine("transformers") == {
        "dtype": "float32",
        "lora": "x",
    }


def test_adapter_folders_are_read_and_bad_ones_named(tmp_path):
    lora = adapter(tmp_path / "ok", rank=8)
    assert resolve(str(lora), Checkpoint()) == ("base-model", Checkpoint(lora=str(lora)))
    # the base by its hub name or a local copy of it
    snapshot = "/cache/hub/models--org--base-model/snapshots/0123abc"
    for base in ("org/base-model", "/models/Base-Model/", snapshot):
        assert resolve(base, Checkpoint(lora=str(lora))) == (base, Checkpoint(lora=str(lora)))
    with pytest.raises(InputError, match="trained on base-model, not on --model some/base"):
        resolve("some/base", Checkpoint(lora=str(lora)))
    assert resolve("hub/name", Checkpoint()) == ("hub/name", Checkpoint())  # not a folder: left as it is
    with pytest.raises(InputError, match="no adapter_config.json there"):
        resolve("base", Checkpoint(lora=str(tmp_path)))
    with pytest.raises(InputError, match="needs --model"):
        resolve(None, Checkpoint(lora=str(lora)))
    nameless = adapter(tmp_path / "nameless", rank=8, base=None)
    with pytest.raises(InputError, match="field 'base_model_name_or_path': names no base model"):
        resolve(str(nameless), Checkpoint())


@pytest.mark.parametrize("where", [[], ["--ray-replicas", "2"]], ids=["in-process", "ray"])
def test_an_adapter_vllm_cannot_take_is_one_line_in_process_and_on_ray(vllm, tmp_path, capsys, where):
    """An adapter on another base (it would load wherever the shapes fit and generate garbage) and one above
    vLLM 0.29.0's largest max_lora_rank (512, vllm/config/lora.py) are refused before any engine or cluster
    starts, with the same line for both paths."""
    from conftest import assert_one_line_error, run_cli

    other = adapter(tmp_path / "other", rank=8)
    big = adapter(tmp_path / "big", rank=1024)
    argv = ["evaluate", "--engine", "vllm", "--max-instances", "2", "--out", str(tmp_path / "out"), *where]
    cases = [
        (
            ["--model", "other-model", "--lora", str(other)],
            "trained on base-model, not on --model other-model",
        ),
        (["--model", "base-model", "--lora", str(big)], "LoRA rank 1024 is above 512"),
        (["--model", str(big)], "LoRA rank 1024 is above 512"),
    ]
    for given, why in cases:
        code, _, err = run_cli([*argv, *given], capsys)
        assert why in assert_one_line_error(code, err), given
    assert not list((tmp_path / "out").glob("model_outputs*"))  # nothing generated
