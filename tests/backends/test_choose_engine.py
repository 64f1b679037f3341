"""The engine for a model is chosen in one place (backends.choose_engine), from what each backend declares.

Expected engines are the rules the commands kept before there was one function (evaluate in-process,
the suite's dry run, evaluate on Ray), written out by hand per kind of model reference."""

import pytest

from judgebench.backends import REFERENCE_KINDS, REGISTRY, choose_engine, reference_kind
from judgebench.errors import ConfigError


@pytest.fixture
def hub_folder(tmp_path):
    """A model as the Hugging Face hub cache lays it out: models--ORG--NAME/snapshots/REVISION/."""
    folder = tmp_path / "hub" / "models--org--tiny" / "snapshots" / "0123abcd"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_each_kind_of_reference_in_this_process(tmp_path, hub_folder):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert choose_engine(str(gguf)) == "llamacpp"
    assert choose_engine(str(tmp_path / "not-yet.gguf")) == "llamacpp"  # it says "file not found" itself
    assert choose_engine(str(hub_folder)) == "transformers"
    assert choose_engine("my-model", base_url="http://127.0.0.1:8000/v1") == "openai"
    assert choose_engine(str(hub_folder), base_url="http://127.0.0.1:8000/v1") == "openai"  # served wins
    assert choose_engine(None) == "llamacpp"  # the embedded SmolLM2


def test_each_kind_of_reference_on_ray(tmp_path, hub_folder):
    assert choose_engine(str(tmp_path / "m.gguf"), purpose="ray") == "llamacpp"
    assert choose_engine(str(hub_folder), purpose="ray") == "vllm"  # the distributed default
    assert choose_engine("meta-llama/Llama-3.1-8B-Instruct", purpose="ray") == "vllm"
    assert choose_engine(None, purpose="ray") == "llamacpp"


def test_an_engine_the_user_names_is_taken_as_it_is(hub_folder):
    assert choose_engine(str(hub_folder), engine="vllm") == "vllm"
    assert choose_engine("anything", engine="transformers") == "transformers"
    with pytest.raises(ConfigError, match="unknown backend 'nope'.*llamacpp"):
        choose_engine("x.gguf", engine="nope")


def test_an_unknown_thing_is_one_clear_error(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()  # no config.json
    for model in ("org/some-hub-id", str(folder), str(tmp_path / "weights.bin")):
        with pytest.raises(ConfigError) as err:
            choose_engine(model)
        message = str(err.value)
        assert message.startswith(f"no engine runs model {model!r}") and "\n" not in message
        assert "a .gguf file (llamacpp)" in message and "--engine" in message


def test_reference_kinds_by_hand(tmp_path, hub_folder):
    assert reference_kind(None) == "default"
    assert reference_kind("a/b.gguf") == "gguf"
    assert reference_kind(hub_folder) == "hf-folder"
    assert reference_kind("gpt-4o", base_url="https://api.openai.com/v1") == "served"
    assert reference_kind("org/name") == "name"


def test_every_backend_declares_what_it_runs_and_no_kind_is_claimed_twice():
    for purpose in ("local", "ray"):
        claimed = [kind for entry in REGISTRY.values() for kind in getattr(entry, purpose)]
        assert len(claimed) == len(set(claimed)) and set(claimed) <= set(REFERENCE_KINDS), purpose
    assert {k for e in REGISTRY.values() for k in e.local} == {"default", "served", "gguf", "hf-folder"}
