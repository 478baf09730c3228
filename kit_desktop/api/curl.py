"""'Copy as curl': a shell-safe command that names the token by variable, never by value."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping

#: The shell variable the command reads the access token from.
TOKEN_VARIABLE = "KIT_ACCESS_TOKEN"
AUTHORIZATION = f'-H "Authorization: Bearer ${TOKEN_VARIABLE}"'
_METHOD = re.compile(r"^[A-Z]{1,10}$")


def as_curl(
    method: str,
    url: str,
    *,
    json_body: object = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """Return a POSIX shell command that sends this request with curl.

    Every part is quoted with :func:`shlex.quote` except the ``Authorization`` header, which
    is ``"Authorization: Bearer $KIT_ACCESS_TOKEN"`` so the shell fills the token in. Any
    ``Authorization`` in ``headers`` is left out: the command never holds a token.

    Args:
        method: The HTTP method.
        url: The full URL (the app's URLs never hold a token).
        json_body: The JSON body, or ``None`` for none.
        headers: Extra request headers.

    Raises:
        ValueError: ``method`` is not an HTTP method name.
    """
    verb = method.strip().upper()
    if not _METHOD.match(verb):
        raise ValueError(f"not an HTTP method: {method[:20]!r}")
    sent: dict[str, tuple[str, str]] = {"accept": ("Accept", "application/json")}
    if json_body is not None:
        sent["content-type"] = ("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        if name.strip().lower() != "authorization":
            sent[name.strip().lower()] = (name.strip(), value)
    parts = ["curl", "-X", verb, shlex.quote(url)]
    for name, value in sent.values():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts.append(AUTHORIZATION)
    if json_body is not None:
        parts += ["--data-raw", shlex.quote(json.dumps(json_body, ensure_ascii=False))]
    return " ".join(parts)
