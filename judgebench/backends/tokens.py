"""Tokenizers: how many tokens a text or a chat prompt is for a given model.

tiktoken for OpenAI models (its encoding file must be cached or downloadable; else a labelled
approximation, 4 characters a token), the GGUF's chat template and vocabulary for llama.cpp, the
tokenizer's chat template for a transformers folder. Cost estimates count a judge's prompts with them;
style control counts answer lengths.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

APPROX_CHARS_PER_TOKEN = 4


@dataclass
class Tokenizer:
    name: str
    count_text: Callable[[str], int]
    count_messages: Callable[[list[dict]], int]
    exact: bool = True


def _approximate(name: str) -> Tokenizer:
    def text(s: str) -> int:
        return -(-len(s) // APPROX_CHARS_PER_TOKEN)

    return Tokenizer(
        f"approximate ({APPROX_CHARS_PER_TOKEN} characters a token; {name} unavailable)",
        text,
        lambda msgs: sum(4 + text(m["content"]) for m in msgs) + 3,
        exact=False,
    )


def _tiktoken_encoding(model: str):
    """tiktoken's encoding for the model, or None when tiktoken or its encoding file cannot be had
    (offline with an empty cache: the download is bounded by a 10 s socket timeout)."""
    try:
        import tiktoken
    except ImportError:
        return None
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        try:
            return tiktoken.encoding_for_model(model)
        except KeyError:  # a model tiktoken does not know: the current OpenAI encoding
            return tiktoken.get_encoding("o200k_base")
    except Exception:  # network or cache trouble: fall back, labelled
        return None
    finally:
        socket.setdefaulttimeout(previous)


def openai_tokenizer(model: str) -> Tokenizer:
    enc = _tiktoken_encoding(model)
    if enc is None:
        return _approximate(f"tiktoken for {model}")

    def text(s: str) -> int:
        return len(enc.encode(s, disallowed_special=()))

    # OpenAI's chat format: about 3 tokens of framing per message and 3 to prime the reply.
    return Tokenizer(
        f"tiktoken {enc.name}", text, lambda msgs: sum(3 + text(m["content"]) + 1 for m in msgs) + 3
    )


def llama_tokenizer(gguf: str | Path) -> Tokenizer:
    """The GGUF's own vocabulary and chat template (what llama.cpp will feed the model)."""
    from judgebench.backends.llamacpp import open_engine

    engine = open_engine(Path(gguf), n_ctx=256, n_threads=1)

    def text(s: str) -> int:
        return len(engine.tokenize(s, special=False))

    if not engine.chat_template():
        return Tokenizer(
            f"{Path(gguf).name} (no chat template)", text, lambda msgs: sum(text(m["content"]) for m in msgs)
        )

    def messages(msgs: list[dict]) -> int:
        return len(engine.tokenize(engine.apply_template(list(msgs)), special=True))

    return Tokenizer(f"{Path(gguf).name} chat template", text, messages)


def hf_tokenizer(folder: str | Path) -> Tokenizer:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    return Tokenizer(
        f"{Path(folder).name} chat template",
        lambda s: len(tok.encode(s, add_special_tokens=False)),
        lambda msgs: len(tok.apply_chat_template(list(msgs), tokenize=True, add_generation_prompt=True)),
    )
