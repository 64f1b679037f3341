"""Keep secrets out of every message judgebench prints or raises.

A server may echo the key it received (a 401 body that quotes the Authorization header), a URL may carry
one in its query or user-info, and an exception may quote a header. `redact` replaces, in any text: the
values of the environment's key-like variables (`*_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`), bearer
tokens, and strings shaped like the common providers' keys.
"""

from __future__ import annotations

import os
import re

MASK = "[REDACTED]"

_KEY_SHAPED = re.compile(
    r"(?i:\bbearer)\s+[^\s\"',;]+"  # an Authorization header's value
    r"|\b(?:sk|pk|rk|gsk|xai|hf|ghp|gho|github_pat|glpat|r8)[-_][A-Za-z0-9_\-]{20,}"  # providers' key shapes
    r"|\b(?:AIza|AKIA)[A-Za-z0-9_\-]{16,}"
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL
    r"|(?<=[?&])(?i:api[-_]?key|key|token|access_token)=[^&\s\"']+"  # a key in a query string
)
_SECRET_NAME = re.compile(r"(?i)(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD)")


def _secret_values() -> list[str]:
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8}
    return sorted(values, key=len, reverse=True)  # longest first: a key that contains another


def redact(text: object, extra: tuple[str, ...] = ()) -> str:
    """`text` with every secret it may contain replaced by [REDACTED]."""
    text = str(text)
    for value in (*extra, *_secret_values()):
        if value and len(value) >= 8 and value in text:
            text = text.replace(value, MASK)
    return _KEY_SHAPED.sub(_mask, text)


def _mask(match: re.Match) -> str:
    found = match.group(0)
    if found[:6].lower() == "bearer":
        return "Bearer " + MASK
    if "=" in found:  # key=value in a query: keep the name
        return found.split("=", 1)[0] + "=" + MASK
    return MASK
