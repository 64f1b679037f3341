"""The transformers engine on CPU with a random-weight Llama and a tokenizer trained here:
the same text as plain `model.generate` on the same batch; over-long prompts fail alone."""

import asyncio

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from random_llama import random_llama, train_tokenizer  # noqa: E402

from judgebench.backends import BackendError, CompletionRequest, make_backend  # noqa: E402


@pytest.fixture(scope="module")
def tiny(alpaca_dir):
    import msgspec
    from isal import igzip

    rows = msgspec.json.decode(igzip.decompress((alpaca_dir / "eval_set.json.gz").read_bytes()))
    tok = train_tokenizer([r["instruction"] + " " + r["output"] for r in rows[:300]], vocab_size=1500)
    return tok, random_llama(tok, max_positions=256), [r["instruction"] for r in rows[:8]]


def test_batched_generation_equals_plain_generate(tiny):
    tok, model, instructions = tiny
    backend = make_backend("transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu",
                           batch_window=0.05)
    reqs = [CompletionRequest(({"role": "user", "content": i},), max_tokens=12, temperature=0.0) for i in instructions]

    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    ours = asyncio.run(go())
    texts = [tok.apply_chat_template([{"role": "user", "content": i}], tokenize=False, add_generation_prompt=True)
             for i in instructions]
    tok.padding_side = "left"
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        plain = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    for o, row in zip(ours, plain[:, enc["input_ids"].shape[1]:], strict=True):
        ids = row.tolist()
        if tok.eos_token_id in ids:
            ids = ids[: ids.index(tok.eos_token_id)]
        assert o.text == tok.decode(ids, skip_special_tokens=True)
        assert o.completion_tokens == len(ids) and o.finish_reason in ("stop", "length")


def test_top_logprobs_and_a_prompt_too_long(tiny):
    tok, model, instructions = tiny
    backend = make_backend("transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu")
    short = CompletionRequest(({"role": "user", "content": instructions[0]},), max_tokens=1, logprobs=True,
                              top_logprobs=5)
    long = CompletionRequest(({"role": "user", "content": "word " * 400},), max_tokens=4)

    async def go():
        return await asyncio.gather(backend.complete(short), backend.complete(long), return_exceptions=True)

    ok, failed = asyncio.run(go())
    assert len(ok.top_logprobs) == 1 and len(ok.top_logprobs[0]) == 5
    assert all(v <= 0 for v in ok.top_logprobs[0].values())
    assert isinstance(failed, BackendError) and "exceeds the model's context of 256" in str(failed)


def test_no_chat_template_is_refused(tiny):
    from judgebench.backends import FatalBackendError

    tok, model, _ = tiny
    bare = tok.__class__(tokenizer_object=tok.backend_tokenizer, eos_token="<|im_end|>", pad_token="<pad>")
    with pytest.raises(FatalBackendError, match="no chat template"):
        make_backend("transformers", model="tiny", model_object=model, tokenizer_object=bare, device="cpu")
