"""Class 1 of issue 24: no key in any file or message, whatever its length or where a server echoes it;
base URLs parsed strictly; loopback decided by the resolved address and pinned for the connection.

The server is a stand-in (aiohttp on loopback): no real server echoes the key into a log-prob token or a
finish_reason on demand.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiohttp import web
from conftest import assert_one_line_error, run_cli
from servers import LoopbackApp, annotate_argv, pair_files

from judgebench.backends.base import CompletionRequest
from judgebench.backends.openai_compat import OpenAICompatBackend, key_decision
from judgebench.backends.urls import is_loopback, parse_base_url
from judgebench.errors import ConfigError, FatalBackendError
from judgebench.files.atomic import write_json
from judgebench.files.redact import MASK, redact, remember_secret, scrub

SHORT = "Zq7x"  # shorter than any key shape: only remembering the value can catch it


class EchoServer(LoopbackApp):
    """Answers a verdict that quotes the Authorization header in the text, a log-prob token and the
    finish_reason; or, with `location`, a 307 redirect to it."""

    def __init__(self, location: str | None = None):
        self.location, self.seen = location, []
        super().__init__()

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        auth = request.headers.get("Authorization") or ""
        self.seen.append(auth)
        if self.location is not None:
            return web.Response(status=307, headers={"Location": self.location})
        top = [{"token": "m", "logprob": -0.1}, {"token": f"M{auth}", "logprob": -2.0}]
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": f"m {auth}"},
            "finish_reason": f"stop:{auth}",
            "logprobs": {"content": [{"token": "m", "logprob": -0.1, "top_logprobs": top}]},
        }
        return web.json_response({"choices": [choice], "usage": {"prompt_tokens": 3, "completion_tokens": 1}})

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._handle)


def _files_under(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_short_key_echoed_in_every_field_reaches_no_file_and_no_message(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("JB_SHORT", SHORT)
    cand, base = pair_files(tmp_path, 3)
    out = tmp_path / "out" / "a.json"
    with EchoServer() as server:
        code, stdout, err = run_cli(
            annotate_argv(
                cand,
                base,
                tmp_path / "s.sqlite",
                out,
                base_url=server.base_url,
                extra=("--api-key-env", "JB_SHORT", "--judge", "alpacaeval2"),
            ),
            capfd,
        )
    assert server.seen and server.seen[0] == f"Bearer {SHORT}"  # the key reached the server ...
    assert code == 0, err
    written = _files_under(tmp_path / "out") + list(tmp_path.glob("s.sqlite*"))
    assert len(written) >= 3  # annotations, manifest, store
    for f in written:  # ... and comes back in no file, whichever field the server put it in
        assert SHORT.encode() not in f.read_bytes(), f
    assert SHORT not in stdout + err
    assert MASK in out.read_text()


@pytest.mark.parametrize(
    "url, names",
    [
        ("http://127.0.0.1:8080/v1?api_key=SECRET", "query"),
        ("http://127.0.0.1:8080/v1#frag", "fragment"),
        ("http://127.0.0.1:8080/v1/chat/completions", "/chat/completions"),
        ("http://127.0.0.1:99999/v1", "Port out of range"),
        ("http://127.0.0.1:8a/v1", "valid URL"),
        ("http://[::1/v1", "valid URL"),
        ("http://127.0.0.1\\@evil.com/v1", "backslash"),
        ("http://xn--/v1", "punycode"),
        ("http://xn--zzzzzzz-9999.com/v1", "punycode"),
        ("http://a..b/v1", "empty label"),
        ("http://user:SECRET@127.0.0.1/v1", "credentials"),
        ("ftp://127.0.0.1/v1", "http(s)"),
        ("http://127.0.0.1/v1 x", "spaces"),
    ],
)
def test_malformed_base_urls_are_one_line_and_never_echo_a_secret(tmp_path, capsys, url, names):
    cand, base = pair_files(tmp_path, 2)
    code, out, err = run_cli(
        annotate_argv(cand, base, tmp_path / "s.sqlite", tmp_path / "a.json", base_url=url), capsys
    )
    line = assert_one_line_error(code, err, codes=(2,), names=names)
    assert "--base-url" in line and "SECRET" not in line
    assert not (tmp_path / "a.json").exists()


def test_a_good_base_url_is_kept_as_given():
    assert parse_base_url("https://api.openai.com/v1/") == "https://api.openai.com/v1"
    assert parse_base_url("http://[::1]:8080/v1") == "http://[::1]:8080/v1"
    assert parse_base_url("https://xn--bcher-kva.example/v1") == "https://xn--bcher-kva.example/v1"


def test_debug_tracebacks_are_redacted(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JB_SHORT", SHORT)
    cand, base = pair_files(tmp_path, 2)
    argv = annotate_argv(
        cand,
        base,
        tmp_path / "s.sqlite",
        tmp_path / "a.json",
        base_url=f"http://127.0.0.1:1/v1?token={SHORT}",
        extra=("--api-key-env", "JB_SHORT"),
    )
    code, out, err = run_cli(["--debug", *argv], capsys)
    assert code == 2 and "Traceback" in err  # --debug shows it ...
    assert SHORT not in err + out  # ... masked


def test_redaction_covers_short_remembered_keys_and_urls(monkeypatch):
    remember_secret("k3y")
    assert "k3y" not in redact("the key k3y was refused")
    monkeypatch.setenv("ACME_API_KEY", "ab12")  # any length for *_API_KEY variables
    assert "ab12" not in redact("sent ab12") and "ab12" not in scrub("sent ab12")
    for url in (
        "https://bob:hunter22@h.example/v1",
        "https://tok987654@h.example/v1",
        "https://h.example/v1?x=1&access_token=tok987654",
        "https://h.example/?sig=tok987654",
    ):
        assert "hunter22" not in scrub(url) and "tok987654" not in scrub(url), url
    assert scrub("the bearer of bad news") == "the bearer of bad news"  # data is not mangled


def test_manifests_and_reports_written_hold_no_secret_in_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("JB_SHORT", SHORT)
    remember_secret(SHORT)
    write_json(tmp_path / "m.json", {"base_url": f"http://u:{SHORT}@h/v1", "q": [f"x?key={SHORT}"]})
    assert SHORT not in (tmp_path / "m.json").read_text()


def test_loopback_is_the_resolved_address_not_the_name(monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host in ("evil.localhost", "localhost."):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]
        if host == "mine.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert not is_loopback("evil.localhost") and not is_loopback("localhost.")
    assert is_loopback("mine.example") and is_loopback("127.0.0.1") and is_loopback("[::1]")
    assert key_decision("http://evil.localhost:8080/v1", "JB_KEY")[0] is False
    assert key_decision("http://mine.example:8080/v1", "JB_KEY")[0] is True


def test_the_resolved_address_is_pinned_for_the_connection(monkeypatch):
    """Resolved once when the backend is made: a DNS answer that changes afterwards is not used."""
    real = socket.getaddrinfo
    answers = {"pinned.example": "127.0.0.1"}

    def fake(host, *args, **kwargs):
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], args[0] if args else 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with EchoServer() as server:
        backend = OpenAICompatBackend("m", base_url=f"http://pinned.example:{server.port}/v1")
        assert backend.local
        answers["pinned.example"] = "10.255.255.1"  # rebinding: unreachable, and not this machine

        async def one():
            try:
                return await backend.complete(CompletionRequest([{"role": "user", "content": "hi"}], 1))
            finally:
                await backend.close()

        reply = asyncio.run(one())
    assert reply.text.startswith("m") and len(server.seen) == 1


@pytest.mark.parametrize("location", ["http://[::1/x", "http://127.0.0.1:99999/x", "http://h:abc/x"])
def test_a_malformed_redirect_location_is_a_server_error_not_a_bug(location):
    with EchoServer(location=location) as server:
        backend = OpenAICompatBackend("m", base_url=server.base_url)

        async def one():
            try:
                await backend.complete(CompletionRequest([{"role": "user", "content": "hi"}], 1))
            finally:
                await backend.close()

        with pytest.raises(FatalBackendError, match="Location"):
            asyncio.run(one())


def test_the_backend_refuses_a_bad_base_url_itself():
    with pytest.raises(ConfigError, match="query"):
        OpenAICompatBackend("m", base_url="https://api.openai.com/v1?key=1")
    assert json.dumps(True)
