"""Any OpenAI-compatible chat endpoint: OpenAI itself, `vllm serve`, llama.cpp's server.

Spoken with aiohttp rather than the `openai` SDK: at a local server's speed the SDK's typed
response objects cost about 2.8 ms of client CPU a request against 0.4 ms here (DESIGN.md §4),
and a judge run is thousands of one-token requests. The API key is read from an environment
variable at call time and sent only in the Authorization header: never stored, logged or exported, and
only to a host the user meant (`key_decision`); every message that could quote it goes through `redact`.
"""

from __future__ import annotations

import email.utils
import os
import re
import sys
import time
from typing import Any

import aiohttp
import msgspec
from yarl import URL

from judgebench.backends.base import (
    Backend,
    BackendError,
    CompletionRequest,
    CompletionResponse,
    FatalBackendError,
    Limits,
    register_backend,
)
from judgebench.backends.urls import (
    PinnedResolver,
    addresses_are_loopback,
    is_loopback,
    parse_base_url,
    resolve,
)
from judgebench.errors import ConfigError
from judgebench.files.redact import redact, remember_secret

__all__ = ["OpenAICompatBackend", "is_loopback", "key_decision", "parse_base_url"]

FATAL_STATUS = {
    400: "bad request",
    401: "unauthorised (check the API key)",
    403: "forbidden",
    404: "not found (check --base-url and --model)",
    422: "unprocessable request",
}


CONTEXT_TOO_LONG = re.compile(
    r"context length|context_length|maximum context|too long|exceeds the context", re.IGNORECASE
)


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
        raise BackendError(redact(f"response has no choices: {str(body)[:200]}"), retryable=True) from None
    tops = []
    content = ((choice.get("logprobs") or {}).get("content")) or []
    for tok in content:
        alts = tok.get("top_logprobs") or [{"token": tok.get("token"), "logprob": tok.get("logprob")}]
        tops.append({a["token"]: float(a["logprob"]) for a in alts if a.get("token") is not None})
    usage = body.get("usage") or {}
    return CompletionResponse(
        text,
        tops,
        choice.get("finish_reason"),
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )


# Where each provider's key may go without asking: the hosts its documentation names. A key is sent
# elsewhere only to hosts the user lists with --allow-key-to (a spec's base_url is data, and specs are shared).
DOCUMENTED_HOSTS = {
    "OPENAI_API_KEY": ("api.openai.com",),
    "TOGETHER_API_KEY": ("api.together.xyz",),
    "GROQ_API_KEY": ("api.groq.com",),
    "OPENROUTER_API_KEY": ("openrouter.ai",),
    "MISTRAL_API_KEY": ("api.mistral.ai",),
    "DEEPSEEK_API_KEY": ("api.deepseek.com",),
    "FIREWORKS_API_KEY": ("api.fireworks.ai",),
}
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
MAX_REDIRECTS = 5


def _origin(url: URL) -> tuple:
    return (url.scheme, (url.host or "").lower(), url.port)


def key_decision(
    base_url: str,
    api_key_env: str | None,
    allow_key_to: tuple[str, ...] = (),
    addresses: list[tuple[int, str]] | None = None,
) -> tuple[bool, str | None]:
    """(send the key?, a warning to show or None) for calls to `base_url`.

    The key goes, without asking, only over https to its provider's documented host. A server on this
    machine (by the addresses its name resolves to: `addresses`, resolved now when None) gets one only
    when the user named the key variable (--api-key-env) or the host. Any other host, or plain http off
    this machine, gets it only when listed in `allow_key_to`, with a warning."""
    url = URL(base_url)
    host = (url.host or "").lower()
    env = api_key_env or DEFAULT_KEY_ENV
    allowed = {h.strip("[]").lower() for h in allow_key_to}
    local = addresses_are_loopback(resolve(host) if addresses is None else addresses)
    if local:
        return (api_key_env is not None or host in allowed), None
    if host in allowed:
        clear = " over plain http: anyone on the path can read it" if url.scheme != "https" else ""
        return True, f"sending {env} to {host} (allowed by --allow-key-to){clear}"
    if url.scheme == "https" and host in DOCUMENTED_HOSTS.get(env, ()):
        return True, None
    why = (
        "plain http off this machine"
        if url.scheme != "https"
        else (
            f"not {' or '.join(DOCUMENTED_HOSTS[env])}"
            if env in DOCUMENTED_HOSTS
            else f"no documented host for {env}"
        )
    )
    return (
        False,
        f"not sending {env} to {host} ({why}); if that server needs it and you trust it, add --allow-key-to {host}",
    )


def _warn(message: str) -> None:
    print(f"judgebench: warning: {redact(message)}", file=sys.stderr)


@register_backend("openai", extra=None, version_package="aiohttp", local=("served",))
class OpenAICompatBackend(Backend):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key_env: str | None = None,
        limits: Limits | None = None,
        require_key: bool | None = None,
        allow_key_to: tuple[str, ...] = (),
    ):
        """`api_key_env` None: OPENAI_API_KEY, not sent to servers on this machine (a named one is).
        `allow_key_to`: hosts the user trusts with the key beyond its provider's documented ones."""
        super().__init__(model, limits)
        self.base_url = parse_base_url(base_url)
        url = URL(self.base_url)
        self.api_key_env = api_key_env or DEFAULT_KEY_ENV
        remember_secret(os.environ.get(self.api_key_env))
        # resolved once: the key decision and every connection use these addresses (no DNS rebinding)
        self.addresses = resolve(url.host or "")
        self.local = addresses_are_loopback(self.addresses)
        self.send_key, warning = key_decision(self.base_url, api_key_env, tuple(allow_key_to), self.addresses)
        has_key = bool(os.environ.get(self.api_key_env))
        if warning and has_key:  # with no key set, nothing is at stake
            _warn(warning)
        if require_key is None:  # a remote API needs a key; a server on this machine usually does not
            require_key = self.send_key and not self.local
        if require_key and not has_key:  # a setting the user must fix before any call: exit 2
            raise ConfigError(
                f"{self.api_key_env} is not set: {self.base_url} needs an API key. "
                "For a judge that needs no key or network, use --judge local"
            )
        self.url_used = f"{self.base_url}/chat/completions"  # updated when a same-origin redirect moves it
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.send_key else None
        remember_secret(key)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.api_key_env)
        return redact(text, (key,) if key else ())

    def payload(self, request: CompletionRequest) -> dict:
        body = {
            "model": self.model,
            "messages": list(request.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
        }
        if request.logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = request.top_logprobs
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        return body

    async def _post(self, body: bytes) -> tuple[int, bytes, Any]:
        """POST to the endpoint; a redirect is followed only within the same origin (scheme, host, port):
        elsewhere the prompts (and the key) would go where the user never said."""
        url = URL(self.url_used)
        assert self._session is not None, "complete() opens the session first"
        for _ in range(MAX_REDIRECTS + 1):
            async with self._session.post(
                url, data=body, headers=self._headers(), allow_redirects=False
            ) as resp:
                raw = await resp.read()
                if resp.status not in (301, 302, 303, 307, 308):
                    self.url_used = str(url)
                    return resp.status, raw, resp.headers
                location = resp.headers.get("Location")
            if not location:
                raise FatalBackendError(f"HTTP {resp.status} redirect without a Location from {url}")
            try:
                target = url.join(URL(location))
                origin = _origin(target)
            except (ValueError, TypeError, UnicodeError):
                raise FatalBackendError(
                    self._redact(
                        f"{url} answered HTTP {resp.status} with a malformed Location {location[:200]!r}"
                    )
                ) from None
            if origin != _origin(url):
                raise FatalBackendError(
                    f"{url} redirected to another origin ({target.scheme}://{target.host}:{target.port}): refused, "
                    "nothing was sent there -> if you trust it, use that address as --base-url"
                )
            url = target
        raise FatalBackendError(f"more than {MAX_REDIRECTS} redirects from {self.base_url}")

    async def _complete(self, request: CompletionRequest) -> CompletionResponse:
        if self._session is None:
            host = URL(self.base_url).host or ""
            pinned = PinnedResolver(host, self.addresses) if self.addresses else None
            connector = aiohttp.TCPConnector(limit=self.limits.concurrency, resolver=pinned)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )
        try:
            status, raw, headers = await self._post(msgspec.json.encode(self.payload(request)))
        except aiohttp.ClientError as err:  # dropped connections, resets, refused
            raise BackendError(self._redact(f"connection: {err}"), retryable=True) from None
        text = raw[:2000].decode("utf-8", "replace")
        if status == 400 and CONTEXT_TOO_LONG.search(text):
            # one prompt too long for the model: that request fails, the run goes on
            raise BackendError(self._redact(f"prompt too long for the model: {text[:300]}"), retryable=False)
        if status in FATAL_STATUS:
            hint = ""
            if status in (401, 403) and not self.send_key and os.environ.get(self.api_key_env):
                hint = (
                    f" ({self.api_key_env} was not sent; if you trust that server, name the key with --api-key-env "
                    f"or add --allow-key-to {URL(self.base_url).host})"
                )
            raise FatalBackendError(
                self._redact(f"{status} {FATAL_STATUS[status]} from {self.base_url}{hint}: {text[:300]}")
            )
        if status == 429 or status >= 500:
            raise BackendError(
                f"HTTP {status}", retryable=True, retry_after=_retry_after(headers.get("Retry-After"))
            )
        if status >= 400:
            raise FatalBackendError(self._redact(f"HTTP {status} from {self.base_url}: {text[:300]}"))
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise BackendError(
                self._redact(f"malformed JSON from server: {raw[:120]!r}"), retryable=True
            ) from None
        if not isinstance(body, dict):
            raise BackendError(self._redact(f"unexpected response: {raw[:120]!r}"), retryable=True)
        # a server echoing the key: `Backend.complete` masks it in every field before anything keeps it
        return parse_chat_completion(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
