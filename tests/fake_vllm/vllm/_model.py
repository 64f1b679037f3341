"""The stand-in's "model": a fixed vocabulary, a whitespace tokenizer and a fixed next-token table.

Two tokens decode to "M" (SentencePiece-style "▁M" and plain "M") and two to "m", so tests can check
that log-probs of tokens that decode alike are combined rather than overwritten.
"""

from __future__ import annotations

import math

EOS = 0
VOCAB = ["</s>", "▁M", "M", "▁m", "m", "▁the", "▁answer", "▁is", "▁yes"]
# log-probs of the first generated token (they sum to probability 1 over the vocabulary)
_FIRST = [0.005, 0.40, 0.25, 0.15, 0.10, 0.04, 0.03, 0.02, 0.005]  # by token id; they sum to 1
FIRST_LOGPROBS = {i: math.log(p) for i, p in enumerate(_FIRST)}
# after the first token the "model" says "the answer is yes" and stops
CONTINUATION = [5, 6, 7, 8, EOS]


def decode_one(token_id: int) -> str:
    piece = VOCAB[token_id]
    return piece[1:] if piece.startswith("▁") else piece


class Tokenizer:
    """Enough of a Hugging Face tokenizer for the backend: chat template, encode, decode, vocabulary."""

    eos_token_id = EOS

    def apply_chat_template(
        self, conversation, tokenize=True, add_generation_prompt=False, chat_template=None, **kwargs
    ):
        text = "".join(f"<{m['role']}> {m['content']} " for m in conversation)
        text += "<assistant>" if add_generation_prompt else ""
        return self.encode(text) if tokenize else text

    def encode(self, text, add_special_tokens=True):
        # one token per word; words outside the vocabulary get ids past it (never generated)
        return [VOCAB.index("▁" + w) if "▁" + w in VOCAB else len(VOCAB) + len(w) for w in text.split()]

    def decode(self, token_ids, skip_special_tokens=False):
        return "".join(
            (" " if VOCAB[t].startswith("▁") else "") + decode_one(t)
            for t in token_ids
            if t < len(VOCAB) and not (skip_special_tokens and t == EOS)
        ).lstrip()

    def get_vocab(self):
        return {piece: i for i, piece in enumerate(VOCAB)}

    def __len__(self):
        return len(VOCAB)
