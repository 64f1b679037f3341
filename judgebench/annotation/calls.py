"""The one recipe that turns (judge, pair) into judge calls and their store keys.

The run (annotate_pairs), the dry run and the cost estimate all take their calls from here, so that
what a dry run counts is what a run then sends. A call's key is the hash of what decides its answer:
the judge spec's hash, the model the backend reports, the decoding settings and the rendered messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from judgebench.judges.protocols import Pair, Protocol, protocol_of
from judgebench.judges.spec import JudgeSpec
from judgebench.store import call_key


@dataclass(frozen=True)
class JudgeCall:
    key: str  # the store's key for this call
    slot: str  # the protocol's name for it (e.g. "ab", "ba", "turn_1")
    instruction: str
    messages: list[dict]


def judge_calls(spec: JudgeSpec, pair: Pair, model: str, protocol: Protocol | None = None) -> list[JudgeCall]:
    """The calls `spec` makes to judge `pair` on `model` (the name its backend reports), in the
    protocol's order. protocol: overrides the spec's (the audit judges every pair in both orders)."""
    protocol = protocol or protocol_of(spec)
    decoding = dict(sorted(spec.decoding.items()))
    return [
        JudgeCall(call_key(spec.hash, model, decoding, c.messages), c.slot, pair.instruction, c.messages)
        for c in protocol.calls(spec, pair)
    ]


def judge_model_name(spec: JudgeSpec, judge_model: str | None = None) -> str:
    """The model name a judge's backend will report (and so the one in its calls' keys), without
    loading it: llama.cpp reports the GGUF path, every other backend the model asked for."""
    if spec.backend == "llamacpp":
        from judgebench.backends.llamacpp import default_gguf

        return str(Path(judge_model)) if judge_model else str(default_gguf())
    return judge_model or spec.model
