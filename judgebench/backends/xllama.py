"""llama.cpp's own server, in this process, from the prebuilt `xllamacpp` wheel: no compiler at install.

The wheel is built for any x86-64 host with AVX2 (no native instructions), so it needs no rebuild per machine.
The server answers OpenAI-shaped chat completions (with per-token log-probs) as Python calls, and also
listens on a loopback port for the rest of its API: /tokenize and /apply-template, which the token counts
read. `python -m judgebench.backends.xllama --serve ...` runs it
as a plain OpenAI-compatible server (the tests' llama.cpp server).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

from judgebench.backends.base import BackendError, FatalBackendError


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_threads() -> int:
    """Threads that generate, one token at a time: half the CPUs this process may use, at least one
    (llama-cpp-python's rule). A token's small matrix products leave a second thread mostly waiting at each
    barrier on a busy 2-core machine; on a laptop, half the logical CPUs is about the physical cores."""
    return max(1, _usable_cpus() // 2)


def default_batch_threads() -> int:
    """Threads that read a prompt: every usable CPU (llama-cpp-python's rule too). A prompt is one big batch
    whose work splits evenly; on 2 cores a 1,391-token judge prompt went from 9.3 s to 4.9 s (docs/setup.md)."""
    return _usable_cpus()


def _quiet_openmp() -> None:
    # libgomp reads this once, when the wheel's library loads: its default makes idle compute threads spin
    # for a while at each barrier, which on a loaded 2-core machine takes the core from the thread that
    # has work (measured in bench/llama_engines.py). A value the user set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# GGUF metadata value types (llama.cpp's gguf.h): fixed sizes by type id; 8 is a string, 9 an array
_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def gguf_chat_template(path: str | Path) -> str | None:
    """`tokenizer.chat_template` from a GGUF file's header (None: it has none). The server cannot say: it
    falls back to a stock template for a model without one, which judgebench refuses to guess."""
    import struct

    with open(path, "rb") as f:

        def read(n: int) -> bytes:
            data = f.read(n)
            if len(data) < n:
                raise FatalBackendError(f"{path}: the GGUF header is cut off")
            return data

        def string() -> bytes:
            return read(struct.unpack("<Q", read(8))[0])

        def skip(kind: int) -> None:
            if kind == 8:
                string()
            elif kind == 9:
                inner, count = struct.unpack("<IQ", read(12))
                if inner in _SIZES:
                    f.seek(_SIZES[inner] * count, 1)
                else:
                    for _ in range(count):
                        skip(inner)
            elif kind in _SIZES:
                f.seek(_SIZES[kind], 1)
            else:
                raise FatalBackendError(f"{path}: unknown GGUF metadata type {kind}")

        magic, _version, _tensors, n_kv = struct.unpack("<4sIQQ", read(24))
        if magic != b"GGUF":
            raise FatalBackendError(f"{path} is not a GGUF file (llama.cpp needs one)")
        for _ in range(n_kv):
            key = string()
            kind = struct.unpack("<I", read(4))[0]
            if key == b"tokenizer.chat_template" and kind == 8:
                return string().decode("utf-8", errors="replace")
            skip(kind)
    return None


class XLlamaServer:
    """One GGUF model behind llama.cpp's server, in this process (thread-safe; one slot)."""

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        chat_template: str | None = None,
        port: int = 0,
        alias: str | None = None,
    ):
        _quiet_openmp()
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx
        params.n_parallel = 1  # one request at a time: the whole context for it, as llama-cpp-python had
        # Every request from an empty cache: the server keeps the last prompt's KV (and a RAM cache of
        # earlier ones) and evaluates only the part of a new prompt after the common prefix, in smaller
        # batches, whose kernels may round differently; a reply (and a judge's log-probs) would then depend
        # on what the server was asked before (test_llamacpp_backend holds this).
        params.cache_prompt = False
        params.cache_ram_mib = 0
        params.cache_idle_slots = False
        # n_threads, when given, fixes both (tests and benchmarks compare settings that way)
        params.cpuparams.n_threads = n_threads or default_threads()
        params.cpuparams_batch.n_threads = n_threads or default_batch_threads()
        params.sampling.seed = seed
        params.port = port  # 0: any free loopback port
        params.verbosity = -1  # no per-request log lines on the user's terminal
        params.warmup = False
        if alias:
            params.model_alias = {alias}
        if chat_template:
            params.chat_template = chat_template
        try:
            self._server = xllamacpp.Server(params)
        except RuntimeError as err:
            raise FatalBackendError(
                f"llama.cpp could not load {path} ({err}): is it a complete GGUF model "
                "file (not cut off while downloading)?"
            ) from None
        self.url = self._server.listening_address
        self._template = chat_template or gguf_chat_template(path)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only

    def _http(self, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data, {"Content-Type": "application/json"})
        with self._opener.open(request, timeout=60) as reply:
            return json.loads(reply.read())

    def chat(self, body: dict) -> dict:
        """A chat completion (not streamed); llama.cpp's refusal of this request is a BackendError."""
        reply = self._server.handle_chat_completions({**body, "cache_prompt": False})  # as above, per request
        if isinstance(reply, dict) and "error" in reply:
            error = reply["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise BackendError(f"refused by llama.cpp: {message}", retryable=False)
        return reply

    def chat_template(self) -> str | None:
        """The template the server applies: the one given, else the GGUF's (None when it has none)."""
        return self._template

    def tokenize(self, text: str, *, special: bool) -> list[int]:
        """Token ids as the server feeds them (BOS added where the GGUF asks for one, as for a prompt)."""
        reply = self._http("/tokenize", {"content": text, "add_special": special, "parse_special": special})
        return list(reply["tokens"])

    def apply_template(self, messages: list[dict]) -> str:
        return self._http("/apply-template", {"messages": messages})["prompt"]


def _serve(argv: list[str]) -> None:
    import argparse
    import threading

    parser = argparse.ArgumentParser(prog="python -m judgebench.backends.xllama --serve")
    parser.add_argument("--serve", required=True, metavar="GGUF")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alias")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    server = XLlamaServer(
        args.serve, n_ctx=args.n_ctx, n_threads=args.threads, port=args.port, alias=args.alias
    )
    print(f"serving {args.serve} at {server.url}/v1", flush=True)
    threading.Event().wait()  # until terminated


if __name__ == "__main__":
    _serve(sys.argv[1:])
