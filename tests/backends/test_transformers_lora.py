"""A LoRA adapter on the transformers engine, for real on CPU: a random-weight Llama saved in hub layout, an
adapter made with peft and saved as PEFT saves it, and `evaluate --model ADAPTER` (its config names the base)
generating what peft's own unmerged model generates."""

import asyncio
import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from random_llama import random_llama, train_tokenizer  # noqa: E402

from judgebench.backends import CompletionRequest  # noqa: E402
from judgebench.runs.config import EvaluateConfig  # noqa: E402
from judgebench.runs.evaluate import generation_backend  # noqa: E402

PROMPTS = ["What is two plus two?", "Name a colour.", "Say hello to the reader."]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lora")
    tok = train_tokenizer(PROMPTS * 10 + ["the answer is yes, four, blue, hello"] * 10, vocab_size=400)
    base = random_llama(tok, max_positions=128)
    base.save_pretrained(folder / "base")
    tok.save_pretrained(folder / "base")
    adapted = peft.get_peft_model(
        random_llama(tok, max_positions=128),  # the same weights (seed 0)
        peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    adapted.save_pretrained(folder / "adapter")
    config = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(folder / "base")  # where the user's base model is
    (folder / "adapter" / "adapter_config.json").write_text(json.dumps(config))
    return folder, tok


def _greedy(lm, tok, prompt):
    text = tok.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        out = lm.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, ids.shape[1] :].tolist(), skip_special_tokens=True)


def test_evaluate_generates_with_the_adapter_as_peft_does(checkpoint):
    from transformers import AutoModelForCausalLM

    folder, tok = checkpoint
    backend = generation_backend(EvaluateConfig(model=str(folder / "adapter"), engine="transformers"))

    async def go():
        return await asyncio.gather(
            *(
                backend.complete(CompletionRequest(({"role": "user", "content": p},), max_tokens=6))
                for p in PROMPTS
            )
        )

    ours = [r.text for r in asyncio.run(go())]
    reference = peft.PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(folder / "base"), folder / "adapter"
    )
    base = AutoModelForCausalLM.from_pretrained(folder / "base")
    assert ours == [_greedy(reference.eval(), tok, p) for p in PROMPTS]
    assert ours != [_greedy(base.eval(), tok, p) for p in PROMPTS]  # the adapter changes the answers
    assert str((folder / "adapter").resolve()) in backend.model  # its own cache key, apart from the base's
