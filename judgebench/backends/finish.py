"""Where a reply ends and why: one rule for every in-process engine and the Ray path.

It is vLLM 0.29.0's (vllm/v1/core/sched/utils.py `check_stop`, and the prompt-length check of
vllm/v1/engine/input_processor.py), so an answer has the same length and finish reason whichever engine
wrote it:
- a prompt that leaves no room for one token within the context is refused;
- a reply grows until max_tokens or the end of the context (prompt + reply = context), whichever is first;
- it finishes "stop" when its last token is an end id or it produced a stop string, even on the last
  position allowed; otherwise it was cut and finishes "length";
- the end token counts among the reply's tokens (vLLM returns it in token_ids); padding never does.
"""

from __future__ import annotations

from collections.abc import Iterable


def no_room(prompt_tokens: int, context: int | None) -> str | None:
    """Why a prompt cannot be generated from (None when it can)."""
    if context is not None and prompt_tokens >= context:
        return f"prompt of {prompt_tokens} tokens leaves no room to generate within the context of {context}"
    return None


def room(prompt_tokens: int, max_tokens: int, context: int | None) -> int:
    """How many tokens the reply may have."""
    return max_tokens if context is None else max(0, min(max_tokens, context - prompt_tokens))


def finish_reason(ended: bool) -> str:
    """ "stop" for a reply that ended itself (an end id or a stop string), "length" for one that was cut."""
    return "stop" if ended else "length"


def reply_tokens(ids: list[int], end_ids: set[int]) -> tuple[list[int], bool]:
    """A generated row up to and including its first end id (what follows is padding), and whether it ended."""
    for k, t in enumerate(ids):
        if t in end_ids:
            return ids[: k + 1], True
    return ids, False


def end_ids(tokenizer_eos: int | None, configured: int | Iterable[int] | None) -> set[int]:
    """Every id that ends a reply: the tokenizer's end id and the generation config's (Gemma: <eos> and
    <end_of_turn>), as vLLM adds the generation config's to the request's stop ids."""
    ids = {configured} if isinstance(configured, int) else set(configured or [])
    if tokenizer_eos is not None:
        ids.add(tokenizer_eos)
    return ids
