"""Any OpenAI-compatible chat endpoint: OpenAI itself, `vllm serve`, llama.cpp's server.

Spoken with aiohttp rather than the `openai` SDK: at a local server's speed the SDK's typed
response objects cost about 2.8 ms of client CPU a request against 0.4 ms here (DESIGN.md §4),
and a judge run is thousands of one-token requests. The API key is read from an environment
variable at call time and sent only in the Authorization header: never stored, logged or exported.
"""

from __future__ import annotations

import email.utils
import os
import re
import time

import aiohttp
import msgspec

from .base import Backend, BackendError, CompletionRequest, CompletionResponse, FatalBackendError, Limits

FATAL_STATUS = {400: "bad request", 401: "unauthorised (check the API key)", 403: "forbidden",
                404: "not found (check --base-url and --model)", 422: "unprocessable request"}


CONTEXT_TOO_LONG = re.compile(r"context length|context_length|maximum context|too long|exceeds the context",
                              re.IGNORECASE)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def parse_chat_completion(body: dict) -> CompletionResponse:
    """The first choice of a chat completion, with per-token top log-probs when present."""
    try:
        choice = body["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BackendError(f"response has no choices: {str(body)[:200]}", retryable=True) from None
    tops = []
    content = ((choice.get("logprobs") or {}).get("content")) or []
    for tok in content:
        alts = tok.get("top_logprobs") or [{"token": tok.get("token"), "logprob": tok.get("logprob")}]
        tops.append({a["token"]: float(a["logprob"]) for a in alts if a.get("token") is not None})
    usage = body.get("usage") or {}
    return CompletionResponse(text, tops, choice.get("finish_reason"), int(usage.get("prompt_tokens") or 0),
                              int(usage.get("completion_tokens") or 0))


class OpenAICompatBackend(Backend):
    name = "openai"

    def __init__(self, model: str, base_url: str = "https://api.openai.com/v1", api_key_env: str = "OPENAI_API_KEY",
                 limits: Limits | None = None, require_key: bool | None = None):
        super().__init__(model, limits)
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        if require_key is None:  # a remote API needs a key; a server on this machine usually does not
            require_key = not any(h in self.base_url for h in ("://127.", "://localhost", "://[::1]"))
        if require_key and not os.environ.get(api_key_env):
            raise FatalBackendError(f"{api_key_env} is not set: {self.base_url} needs an API key. "
                                    "For a judge that needs no key or network, use --judge local")
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict:
        key = os.environ.get(self.api_key_env)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def payload(self, request: CompletionRequest) -> dict:
        body = {"model": self.model, "messages": list(request.messages), "max_tokens": request.max_tokens,
                "temperature": request.temperature, "top_p": request.top_p}
        if request.logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.limits.concurrency)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
        try:
            async with self._session.post(f"{self.base_url}/chat/completions", data=msgspec.json.encode(
                    self.payload(request)), headers=self._headers()) as resp:
                raw = await resp.read()
                if resp.status == 400 and CONTEXT_TOO_LONG.search(raw[:2000].decode("utf-8", "replace")):
                    # one prompt too long for the model: that request fails, the run goes on
                    raise BackendError(f"prompt too long for the model: {raw[:300].decode('utf-8', 'replace')}",
                                       retryable=False)
                if resp.status in FATAL_STATUS:
                    raise FatalBackendError(f"{resp.status} {FATAL_STATUS[resp.status]} from {self.base_url}: "
                                            f"{raw[:300].decode('utf-8', 'replace')}")
                if resp.status == 429 or resp.status >= 500:
                    raise BackendError(f"HTTP {resp.status}", retryable=True,
                                       retry_after=_retry_after(resp.headers.get("Retry-After")))
                if resp.status >= 400:
                    raise FatalBackendError(f"HTTP {resp.status} from {self.base_url}: {raw[:300]!r}")
        except aiohttp.ClientError as err:  # dropped connections, resets, refused
            raise BackendError(f"connection: {err}", retryable=True) from None
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise BackendError(f"malformed JSON from server: {raw[:120]!r}", retryable=True) from None
        if not isinstance(body, dict):
            raise BackendError(f"unexpected response: {raw[:120]!r}", retryable=True)
        return parse_chat_completion(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
