"""Base URLs of OpenAI-compatible servers: parsed strictly, and where they really point.

`parse_base_url` refuses, in one line, what would otherwise be mangled or misread: a query or fragment
(where a key would ride along into manifests and reports), credentials, an endpoint path
(`.../chat/completions`: judgebench appends it), a bad port, an unclosed `[::1`, a backslash (browsers
and servers disagree on what it means), control characters and malformed punycode labels.

Whether a host is this machine is decided by the addresses its name resolves to, not by the name
(`evil.localhost` may point anywhere), and those addresses are pinned for the connection
(`PinnedResolver`): a DNS answer that changes between the decision and the call cannot redirect the key.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

from aiohttp.abc import AbstractResolver
from yarl import URL

from judgebench.errors import ConfigError
from judgebench.files.redact import redact

ENDPOINT_SUFFIXES = ("/chat/completions", "/completions")
EXAMPLES = "e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1"


def _refuse(given: str, why: str, fix: str = EXAMPLES) -> ConfigError:
    return ConfigError(f"--base-url {redact(given)!r}: {why} -> {fix}")


def parse_base_url(given: object) -> str:
    """The base URL, normalised (no trailing slash), or a ConfigError naming what is wrong with it."""
    if not isinstance(given, str):
        raise ConfigError(f"--base-url must be text, got {type(given).__name__}")
    text = given.strip()
    if not text:
        raise _refuse(given, "is empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in text):
        raise _refuse(given, "holds spaces or control characters")
    if "\\" in text:
        raise _refuse(given, "holds a backslash (servers and clients read it differently)", "use '/'")
    if "?" in text or "#" in text:
        raise _refuse(
            given,
            "has a query or fragment (a key there would be copied into manifests and reports)",
            "drop everything from '?' or '#'; put the key in an environment variable (--api-key-env)",
        )
    try:
        url = URL(text)
        host, port = url.host, url.port
    except UnicodeError:
        raise _refuse(given, "host is not valid punycode (IDNA)") from None
    except (ValueError, TypeError) as err:
        raise _refuse(given, f"is not a valid URL ({err})") from None
    if url.scheme not in ("http", "https") or not host:
        raise _refuse(given, "is not an http(s) URL with a host")
    if url.user is not None or url.password is not None or "@" in url.raw_authority:
        raise _refuse(
            given, "carries credentials", "put the key in an environment variable (--api-key-env) instead"
        )
    if port is not None and not 0 < port < 65536:
        raise _refuse(given, f"port {port} is out of range")
    _check_host(given, url.raw_host or host)
    path = url.path.rstrip("/")
    for suffix in ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            base = str(url.with_path(path[: -len(suffix)]))
            raise _refuse(given, f"ends with the endpoint {suffix}, which judgebench appends", f"use {base}")
    return str(url).rstrip("/")


def check_base_urls(flags: dict[str, str | Sequence[str] | None]) -> None:
    """Every URL a command was given, checked at once and named by its flag: a malformed one is refused
    before anything is created or called (not when its backend is first made, half-way through a run)."""
    for flag, value in flags.items():
        for url in [value] if isinstance(value, str) else value or ():
            try:
                parse_base_url(url)
            except ConfigError as err:
                raise ConfigError(str(err).replace("--base-url", flag, 1)) from None


def _check_host(given: str, host: str) -> None:
    if host.startswith("[") or ":" in host:  # an IPv6 literal: yarl checked it
        return
    if len(host) > 253:
        raise _refuse(given, "host name is longer than 253 characters")
    labels = host.rstrip(".").split(".")
    if any(not label for label in labels):
        raise _refuse(given, f"host {host!r} has an empty label")
    for label in labels:
        if len(label) > 63:
            raise _refuse(given, f"host label {label[:20]!r}... is longer than 63 characters")
        if label.lower().startswith("xn--"):
            try:
                decoded = label.encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                decoded = ""
            if not decoded or decoded.encode("idna").decode("ascii").lower() != label.lower():
                raise _refuse(given, f"host label {label!r} is not valid punycode")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def resolve(host: str) -> list[tuple[int, str]]:
    """(family, address) for each address `host` resolves to now; [] when it does not resolve."""
    ip = _ip(host)
    if ip is not None:
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, str(ip))]
    try:
        infos = socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return []
    return list(dict.fromkeys((int(fam), str(sa[0])) for fam, *_, sa in infos))


def addresses_are_loopback(addresses: list[tuple[int, str]]) -> bool:
    ips = [_ip(a) for _, a in addresses]
    return bool(ips) and all(ip is not None and (ip.is_loopback or ip.is_unspecified) for ip in ips)


def is_loopback(host: str) -> bool:
    """This machine: an address in 127.0.0.0/8, ::1 (or their IPv4-mapped forms), 0.0.0.0 or ::, or a name
    that resolves to such addresses only. A name that does not resolve is not this machine."""
    return addresses_are_loopback(resolve(host.strip().lower()))


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver answering with the addresses resolved when the key decision was made."""

    def __init__(self, host: str, addresses: list[tuple[int, str]]):
        self.host, self.addresses = host.strip("[]").lower(), addresses

    async def resolve(  # type: ignore[override]
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        if host.strip("[]").lower() != self.host:  # only the pinned host is ever asked for (same origin)
            raise OSError(f"{host} is not the pinned host {self.host}")
        return [
            {"hostname": host, "host": addr, "port": port, "family": fam, "proto": 0, "flags": 0}
            for fam, addr in self.addresses
            if family in (socket.AF_UNSPEC, fam)
        ] or [
            {"hostname": host, "host": addr, "port": port, "family": fam, "proto": 0, "flags": 0}
            for fam, addr in self.addresses
        ]

    async def close(self) -> None:
        return None
