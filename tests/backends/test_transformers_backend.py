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
    backend = make_backend(
        "transformers",
        model="tiny",
        model_object=model,
        tokenizer_object=tok,
        device="cpu",
        batch_window=0.05,
    )
    reqs = [
        CompletionRequest(({"role": "user", "content": i},), max_tokens=12, temperature=0.0)
        for i in instructions
    ]

    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    ours = asyncio.run(go())
    texts = [
        tok.apply_chat_template([{"role": "user", "content": i}], tokenize=False, add_generation_prompt=True)
        for i in instructions
    ]
    tok.padding_side = "left"
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        plain = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    for o, row in zip(ours, plain[:, enc["input_ids"].shape[1] :], strict=True):
        ids = row.tolist()
        ended = tok.eos_token_id in ids
        if ended:  # the end id counts among the reply's tokens, as vLLM counts it; the padding after it not
            ids = ids[: ids.index(tok.eos_token_id) + 1]
        assert o.text == tok.decode(ids, skip_special_tokens=True)
        assert o.completion_tokens == len(ids) and o.finish_reason == ("stop" if ended else "length")


def test_top_logprobs_and_a_prompt_too_long(tiny):
    tok, model, instructions = tiny
    backend = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    short = CompletionRequest(
        ({"role": "user", "content": instructions[0]},), max_tokens=1, logprobs=True, top_logprobs=5
    )
    long = CompletionRequest(({"role": "user", "content": "word " * 400},), max_tokens=4)

    async def go():
        return await asyncio.gather(backend.complete(short), backend.complete(long), return_exceptions=True)

    ok, failed = asyncio.run(go())
    assert len(ok.top_logprobs) == 1 and len(ok.top_logprobs[0]) == 5
    assert all(v <= 0 for v in ok.top_logprobs[0].values())
    assert isinstance(failed, BackendError) and "no room to generate within the context of 256" in str(failed)


def test_no_chat_template_is_refused(tiny):
    from judgebench.backends import FatalBackendError

    tok, model, _ = tiny
    bare = tok.__class__(tokenizer_object=tok.backend_tokenizer, eos_token="<|im_end|>", pad_token="<pad>")
    with pytest.raises(FatalBackendError, match="no chat template"):
        make_backend("transformers", model="tiny", model_object=model, tokenizer_object=bare, device="cpu")


def _first_step_logprobs(model, tok, instruction):
    """Raw next-token log-probs after the chat prompt, from a plain forward pass (no generate, no padding)."""
    text = tok.apply_chat_template(
        [{"role": "user", "content": instruction}], tokenize=False, add_generation_prompt=True
    )
    ids = tok(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        return torch.log_softmax(model(ids).logits[0, -1].float(), dim=-1)


def test_logprobs_are_raw_not_after_temperature_or_top_k(tiny):
    tok, model, instructions = tiny
    backend = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    r = asyncio.run(
        backend.complete(
            CompletionRequest(
                ({"role": "user", "content": instructions[1]},),
                max_tokens=1,
                temperature=0.3,
                logprobs=True,
                top_logprobs=5,
                seed=1,
            )
        )
    )
    raw = _first_step_logprobs(model, tok, instructions[1])
    values, ids = raw.topk(5)
    expected = {}
    for v, t in zip(
        values.tolist(), ids.tolist(), strict=True
    ):  # tokens that decode alike: probabilities add
        text = tok.decode([t])
        expected[text] = float(
            torch.logaddexp(torch.tensor(expected.get(text, -float("inf"))), torch.tensor(v))
        )
    assert r.top_logprobs[0] == pytest.approx(expected, abs=1e-4)


def test_sampling_has_no_hidden_top_k(tiny):
    """transformers fills an unset top_k with 50; vLLM applies none. A random model's next-token distribution
    is nearly flat over 1500 tokens, so sampling without top-k picks tokens ranked past 50 almost always."""
    tok, model, instructions = tiny
    backend = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    reqs = [
        CompletionRequest(({"role": "user", "content": i},), max_tokens=1, temperature=1.0, seed=3)
        for i in instructions
    ]

    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    decoded = [tok.decode([i], skip_special_tokens=True) for i in range(len(tok))]
    ranks = []
    for instruction, r in zip(instructions, asyncio.run(go()), strict=True):
        raw = _first_step_logprobs(model, tok, instruction)
        order = raw.argsort(descending=True).tolist()
        # the sampled token's rank (the best rank among the ids that read as the reply)
        ranks.append(min(order.index(i) for i, text in enumerate(decoded) if text == r.text))
    assert max(ranks) > 50, ranks


def test_a_reply_ends_at_any_end_id_and_padding_is_not_counted(tiny):
    """Like Gemma (<eos> and <end_of_turn>): the generation config lists two end ids; a row that ends on the
    second one finishes with "stop", its end id counted (as vLLM counts it) and the padding after it not."""
    import copy

    tok, model, instructions = tiny
    model = copy.deepcopy(model)
    backend0 = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    reqs = [CompletionRequest(({"role": "user", "content": i},), max_tokens=8) for i in instructions[:4]]

    async def go(backend):
        return await asyncio.gather(*(backend.complete(r) for r in reqs))

    before = asyncio.run(go(backend0))
    # greedy replies: make the third token of the first reply an end-of-turn id
    first_ids = tok(before[0].text, add_special_tokens=False)["input_ids"]
    end_of_turn = first_ids[2]
    model.generation_config.eos_token_id = [tok.eos_token_id, end_of_turn]
    backend = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    after = asyncio.run(go(backend))
    assert after[0].finish_reason == "stop" and after[0].completion_tokens == 3  # two tokens and the end id
    assert after[0].text == tok.decode(first_ids[:2], skip_special_tokens=True)
    longest = max(after, key=lambda r: r.completion_tokens)
    assert longest.completion_tokens > 2  # the batch ran on past the first row's end: that row was padded


def test_exact_label_logprobs(tiny):
    tok, model, instructions = tiny
    backend = make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu"
    )
    labels = ("m", "M")
    r = asyncio.run(
        backend.complete(
            CompletionRequest(
                ({"role": "user", "content": instructions[2]},),
                max_tokens=1,
                logprobs=True,
                top_logprobs=2,
                labels=labels,
            )
        )
    )
    raw = _first_step_logprobs(model, tok, instructions[2])
    for label in labels:  # every vocabulary id whose decoding is exactly the label
        ids = [i for i in range(len(tok)) if tok.decode([i]) == label]
        assert ids and r.top_logprobs[0][label] == pytest.approx(
            float(torch.logsumexp(raw[ids], 0)), abs=1e-4
        )


def _backend(model, tok, **kw):
    return make_backend(
        "transformers", model="tiny", model_object=model, tokenizer_object=tok, device="cpu", **kw
    )


def _run(backend, requests):
    async def go():
        return await asyncio.gather(*(backend.complete(r) for r in requests), return_exceptions=True)

    return asyncio.run(go())


def _user(text, **kw):
    return CompletionRequest(({"role": "user", "content": text},), **{"max_tokens": 8, **kw})


def _prompt_ids(tok, text):
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
    )
    return tok(prompt, add_special_tokens=False)["input_ids"]


def test_at_the_context_end_a_reply_is_cut_with_length_as_vllm_does(tiny):
    """backends/finish.py, the rule vLLM applies: a prompt that fits is generated up to the context's end
    (prompt + reply = context) and finishes "length"; one that fills the context is refused."""
    tok, model, _ = tiny
    backend = _backend(model, tok)
    sizes = {k: len(_prompt_ids(tok, "the " * k)) for k in range(150, 300)}  # a token a word
    k_near = next(k for k, n in sizes.items() if 250 <= n <= 253)  # 3 to 6 tokens of room in 256
    k_full = next(k for k, n in sizes.items() if n >= 256)
    near, full = _run(backend, [_user("the " * k_near, max_tokens=50), _user("the " * k_full, max_tokens=1)])
    room = 256 - sizes[k_near]
    # the same prompt through plain generate with exactly that room, no end id reached
    ids = torch.tensor([_prompt_ids(tok, "the " * k_near)])
    with torch.inference_mode():
        plain = model.generate(ids, max_new_tokens=room, do_sample=False, pad_token_id=tok.pad_token_id)
    reply = plain[0, ids.shape[1] :].tolist()
    assert tok.eos_token_id not in reply and len(reply) == room
    assert not isinstance(near, Exception), near
    assert (near.completion_tokens, near.finish_reason) == (room, "length")
    assert near.text == tok.decode(reply, skip_special_tokens=True)
    assert isinstance(full, BackendError) and f"prompt of {sizes[k_full]} tokens leaves no room" in str(full)


def test_padding_after_a_stop_string_is_never_counted(tiny):
    """pad (<pad>) differs from the end id here: a row that stops on a stop string is padded while the others
    run on, and only the tokens up to the one that completed the stop string count, as transformers' own
    generate (one prompt, no padding) stops there."""
    tok, model, instructions = tiny
    assert tok.pad_token_id != tok.eos_token_id
    backend = _backend(model, tok, batch_window=0.05)
    free = _run(backend, [_user(i, max_tokens=12) for i in instructions[:4]])
    lengths = [r.completion_tokens for r in free]
    first = tok(free[0].text, add_special_tokens=False)["input_ids"]
    stop = tok.decode(first[2:4]).strip() or tok.decode(first[3:5]).strip()
    assert stop and all(stop not in r.text for r in free[1:]), (
        "the stop string must be the first reply's alone"
    )
    stopped = _run(backend, [_user(i, max_tokens=12, stop=(stop,)) for i in instructions[:4]])
    ids = torch.tensor([_prompt_ids(tok, instructions[0])])
    with torch.inference_mode():
        alone = model.generate(
            ids,
            max_new_tokens=12,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
            stop_strings=[stop],
            tokenizer=tok,
        )
    expected = alone.shape[1] - ids.shape[1]
    assert (
        expected < lengths[0] and max(lengths[1:]) > expected
    )  # the others ran on: the first row was padded
    assert (stopped[0].completion_tokens, stopped[0].finish_reason) == (expected, "stop")
    assert stop not in stopped[0].text and free[0].text.startswith(stopped[0].text)


def test_a_generation_config_asking_for_a_dict_is_handled(tiny):
    """A checkpoint whose generation_config sets return_dict_in_generate (generate then returns an output
    object, not a tensor) answers as any other."""
    import copy

    tok, model, instructions = tiny
    plain = _run(_backend(model, tok), [_user(instructions[0])])[0]
    odd = copy.deepcopy(model)
    odd.generation_config.return_dict_in_generate = True
    (r,) = _run(_backend(odd, tok), [_user(instructions[0])])
    assert not isinstance(r, Exception), r
    assert (r.text, r.completion_tokens, r.finish_reason) == (
        plain.text,
        plain.completion_tokens,
        plain.finish_reason,
    )
