"""`judgebench judges`: the built-in judges and where each prompt comes from; `judges show NAME`: the
prompt a judge sends, rendered for a sample pair."""

from __future__ import annotations

import argparse
import json

from judgebench.cli.options import add_json_option
from judgebench.files.safetext import printable
from judgebench.judges.protocols import Pair

# The sample pairs `judges show` renders: short, and different enough that a template's slots are easy to tell.
SAMPLE_PAIR = Pair(
    instruction="Name the largest planet in the solar system.",
    baseline="Jupiter is the largest planet in the solar system.",
    candidate="The largest planet is Jupiter, about 11 times Earth's diameter.",
)
SAMPLE_CONVERSATION = Pair(
    instruction="Name the largest planet in the solar system.",
    baseline="Jupiter.",
    candidate="Jupiter, about 11 times Earth's diameter.",
    turns=["Name the largest planet in the solar system.", "And the smallest?"],
    baseline_turns=["Jupiter.", "Mercury."],
    candidate_turns=["Jupiter, about 11 times Earth's diameter.", "Mercury, since Pluto's reclassification."],
    reference=["Jupiter.", "Mercury."],
)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("judges", help="list the built-in judges and where each prompt comes from")
    add_json_option(p, "print the list as JSON")
    actions = p.add_subparsers(dest="judges_action", metavar="ACTION")
    show = actions.add_parser("show", help="the chat messages a judge sends, rendered for a sample pair")
    show.add_argument("name", metavar="NAME", help="a built-in judge, a .yaml spec, or alpaca_eval:CONFIG")
    add_json_option(show, "print the calls (slot, messages) as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    if args.judges_action == "show":
        return _show(args)
    from judgebench.judges.loader import list_judges

    entries = list_judges()
    if args.json:
        print(json.dumps([_as_dict(e) for e in entries], indent=1, ensure_ascii=False))
        return 0
    for e in entries:
        if e.spec is None:
            print(f"{printable(e.name)}\n  {printable(e.about)}\n  prompt: {printable(e.prompt_source)}")
            continue
        s = e.spec
        print(
            f"{printable(e.name)}  ({s.protocol} protocol, {s.parser} parser; model {s.model} via {s.backend})"
        )
        if e.about:
            print(f"  {printable(e.about)}")
        print(f"  prompt: {printable(e.prompt_source)}")
    print("\n`judgebench judges show NAME` prints the prompt a judge sends for a sample pair.")
    return 0


def _as_dict(e) -> dict:
    s = e.spec
    spec = (
        {}
        if s is None
        else {"protocol": s.protocol, "parser": s.parser, "model": s.model, "backend": s.backend}
    )
    return {"name": e.name, "about": e.about, "prompt_source": e.prompt_source, **spec}


def _show(args: argparse.Namespace) -> int:
    from judgebench.judges.loader import load_judge
    from judgebench.judges.protocols import protocol_of

    spec = load_judge(args.name)
    protocol = protocol_of(spec)
    calls = protocol.calls(spec, SAMPLE_CONVERSATION if protocol.multi_turn else SAMPLE_PAIR)
    if args.json:
        print(
            json.dumps(
                [{"slot": c.slot, "messages": c.messages} for c in calls], indent=1, ensure_ascii=False
            )
        )
        return 0
    print(
        f"{spec.name}: {len(calls)} call(s) for one sample pair ({spec.protocol} protocol); source {spec.source}"
    )
    for c in calls:
        print(f"\n=== call {c.slot} ===")
        for m in c.messages:
            print(f"--- {m['role']} ---\n{m['content']}")
    return 0
