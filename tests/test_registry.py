"""Backends, parsers and protocols are chosen by name from registries; protocols say what they are."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from servers import annotate_pair

from judgebench import audit, backends
from judgebench.backends import REGISTRY, Backend, CompletionRequest, Limits, build_backend, engine_version
from judgebench.errors import ConfigError
from judgebench.judges import load_judge
from judgebench.judges.protocols import PROTOCOLS, MTBenchPair, protocol_of
from judgebench.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
# Backends built from another one rather than chosen by name: the suite's --batch mode, and several
# --base-url replicas of one OpenAI-compatible server.
WRAPPERS = {"openai-batch", "openai-replicas"}


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_registry_keys_are_the_backends_that_exist():
    defined = {}
    for path in sorted((ROOT / "judgebench" / "backends").glob("*.py")):
        module = importlib.import_module(f"judgebench.backends.{path.stem}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Backend)
                and obj.__module__ == module.__name__
                and obj.name != "abstract"
            ):
                defined[obj.name] = obj
    assert set(REGISTRY) == set(defined) - WRAPPERS
    assert {"openai", "llamacpp", "vllm", "transformers"} <= set(REGISTRY)  # README's engines
    for name in REGISTRY:
        assert REGISTRY[name].factory() is defined[name]


def test_every_backend_names_an_extra_of_pyproject_that_installs_its_version_package():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    for name, entry in REGISTRY.items():
        requirements = project["dependencies"] if entry.extra is None else extras.get(entry.extra)
        assert requirements is not None, f"backend {name}: extra {entry.extra!r} is not in pyproject.toml"
        packages = (
            (entry.version_package,) if isinstance(entry.version_package, str) else entry.version_package
        )
        if packages:  # the preferred engine comes with the extra; a fallback comes with one of them
            assert packages[0].lower() in _requirement_names(requirements), name
            every = set().union(*map(_requirement_names, [project["dependencies"], *extras.values()]))
            assert {p.lower() for p in packages} <= every, name


@pytest.mark.engine  # imports llama.cpp's engine
def test_engine_version_reads_the_installed_package():
    import aiohttp
    from servers import require_llama

    assert engine_version("openai") == aiohttp.__version__
    engine = require_llama()
    module = importlib.import_module({"xllamacpp": "xllamacpp", "llama-cpp-python": "llama_cpp"}[engine])
    assert engine_version("llamacpp") == module.__version__


def test_listing_backends_imports_no_engine():
    code = (
        "import sys; from judgebench.backends import REGISTRY; names = sorted(REGISTRY); "
        "print(len(names), sorted(m for m in ('aiohttp', 'llama_cpp', 'xllamacpp', 'torch', 'transformers', 'vllm') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{len(REGISTRY)} []"


def test_build_backend_passes_the_options_given_and_refuses_the_ones_a_backend_lacks():
    one = build_backend("openai", model="m", base_url="http://127.0.0.1:9/v1/", limits=Limits(concurrency=3))
    assert (one.name, one.model, one.base_url, one.limits.concurrency) == (
        "openai",
        "m",
        "http://127.0.0.1:9/v1",
        3,
    )
    two = build_backend("openai", model="m", base_url=["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"])
    assert two.name == "openai-replicas" and two.base_urls == [
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:10/v1",
    ]
    with pytest.raises(ConfigError, match="takes no chat_template"):
        build_backend("openai", model="m", base_url="http://127.0.0.1:9/v1", chat_template="{{ x }}")
    with pytest.raises(ConfigError, match="takes no base_url"):
        build_backend("llamacpp", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="several base URLs"):
        build_backend("vllm", model="m", base_url=["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"])
    with pytest.raises(ConfigError, match="given twice"):
        build_backend("openai", model="m", base_url=["http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"])
    with pytest.raises(ConfigError, match=r"unknown backend 'nope'; known: .*llamacpp, openai"):
        build_backend("nope", model="m")


ECHO = """
from judgebench.backends import register_backend
from judgebench.backends.base import Backend, CompletionResponse


@register_backend("probe-echo", extra=None, version_package=None)
class ProbeEchoBackend(Backend):
    name = "probe-echo"

    def __init__(self, model: str, limits=None, shout: bool = False):
        super().__init__(model, limits)
        self.shout = shout

    async def _complete(self, request):
        text = request.messages[-1]["content"]
        return CompletionResponse(text.upper() if self.shout else text, [], "stop")
"""


def test_a_new_backend_is_one_decorated_module(tmp_path, monkeypatch):
    """What adding a backend takes: a module in the package with @register_backend, nothing else."""
    import asyncio

    (tmp_path / "probe_echo_backend.py").write_text(ECHO)
    monkeypatch.setattr(backends, "__path__", [*backends.__path__, str(tmp_path)])
    monkeypatch.setattr(backends, "REGISTRY", Registry("backend", discover=backends._scan))
    monkeypatch.delitem(sys.modules, "judgebench.backends.probe_echo_backend", raising=False)
    try:
        assert "probe-echo" in backends.REGISTRY and "openai" in backends.REGISTRY
        be = backends.build_backend("probe-echo", model="x", limits=Limits(concurrency=2), shout=True)
        reply = asyncio.run(
            be.complete(CompletionRequest(messages=({"role": "user", "content": "hi"},), max_tokens=4))
        )
        assert reply.text == "HI" and be.limits.concurrency == 2
        assert backends.engine_version("probe-echo") is None
    finally:
        sys.modules.pop("judgebench.backends.probe_echo_backend", None)


def test_pairwise_protocols_are_derived_from_what_each_declares():
    # what the MT-Bench paper and AlpacaEval/Arena-Hard define; a protocol added later joins by declaring
    assert {"alpacaeval", "arenahard", "mtbench-pair"} <= set(audit.PAIRWISE)
    assert "mtbench-single" not in audit.PAIRWISE and PROTOCOLS["mtbench-single"].yields == "score"
    assert PROTOCOLS["mtbench-pair"].multi_turn and not PROTOCOLS["alpacaeval"].multi_turn
    # the audit's reading of one verdict in the order shown (Arena-Hard: 1..5, 5 = [[B>>A]]; a tie is half)
    arena, alpaca = load_judge("judgebench-arena-pair"), load_judge("alpacaeval2")
    assert [audit.second_wins(arena, v) for v in (1, 2, 3, 4, 5)] == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert audit.second_wins(alpaca, 1.25) == pytest.approx(0.25)
    assert (audit.injected_label(alpaca, 0), audit.injected_label(arena, 1)) == ("m", "B")


def test_an_unknown_protocol_names_the_spec():
    spec = dataclasses.replace(load_judge("alpacaeval2"), protocol="nope")
    with pytest.raises(ConfigError, match=r"alpacaeval2\.yaml: unknown protocol 'nope'; known: alpacaeval"):
        protocol_of(spec)


def _mtbench_files(tmp_path):
    turns = [["Name a prime.", "Now an even one."], ["Say hi.", "Say bye."]]
    for name, prefix in (("cand", "Sure"), ("base", "Well")):
        rows = [
            {
                "instruction": t[0],
                "turns": t,
                "generator": name,
                "output": [f"{prefix}, answer to turn {i + 1}." for i in range(len(t))],
            }
            for t in turns
        ]
        (tmp_path / f"{name}.json").write_text(json.dumps(rows))
    return tmp_path / "cand.json", tmp_path / "base.json"


def test_a_multi_turn_protocol_under_any_name_reads_conversations(tmp_path, monkeypatch):
    """The multi-turn path is chosen by what the protocol declares, not by its name."""

    class ConversationPair(MTBenchPair):
        name = "conversation-pair"

    monkeypatch.setitem(PROTOCOLS, "conversation-pair", ConversationPair())
    spec = dataclasses.replace(load_judge("judgebench-mt-pair"), protocol="conversation-pair")
    cand, base = _mtbench_files(tmp_path)
    run = annotate_pair(cand, base, tmp_path / "s.sqlite", judge=spec, offline=True)
    assert run.summary["pairs"] == 2 and run.summary["calls"] == 2 * 2 * 2  # two turns, both orders
    assert [r["failure"] for r in run.records] == ["not in the store; " * 3 + "not in the store"] * 2


def test_annotate_files_leaves_the_callers_spec_as_it_was(tmp_path):
    spec = load_judge("alpacaeval2")
    before = dataclasses.asdict(spec)
    cand = [{"instruction": "Say hi.", "output": "hi", "generator": "c"}]
    (tmp_path / "c.json").write_text(json.dumps(cand))
    (tmp_path / "b.json").write_text(json.dumps([{**cand[0], "output": "hello", "generator": "b"}]))
    run = annotate_pair(
        tmp_path / "c.json",
        tmp_path / "b.json",
        tmp_path / "s.sqlite",
        judge=spec,
        offline=True,
        max_tokens=7,
        max_parse_retries=0,
    )
    assert run.manifest["decoding"]["max_tokens"] == 7  # the override applied to the run
    assert dataclasses.asdict(spec) == before
