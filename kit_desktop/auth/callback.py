"""Strict checking of the query Kit sends back to the loopback redirect URI."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field

from kit_desktop.errors import AuthorizationError, ConsentDeniedError, ForeignIssuerError

#: Longest authorization code accepted (RFC 6749 leaves the size open, so cap it).
MAX_CODE_LENGTH = 2048
#: Most query parameters accepted in one callback.
MAX_PARAMS = 32
#: Longest ``error_description`` shown to the creator.
MAX_DESCRIPTION_LENGTH = 200

_VSCHAR = re.compile(r"[\x20-\x7e]+")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_QUERY_CHARS = re.compile(r"[\x21-\x7e]*")

_PUBLISHER_PROBLEM = (
    "Kit does not allow this app to connect this way. Please tell the app's publisher."
)
#: The only ``error`` values Kit Desktop explains; anything else gets the generic message.
ERROR_MESSAGES: dict[str, str] = {
    "invalid_request": (
        "Kit could not start the connection because the request was not valid. "
        "Please try connecting again; if it keeps happening, update Kit Desktop."
    ),
    "unauthorized_client": _PUBLISHER_PROBLEM,
    "unsupported_response_type": _PUBLISHER_PROBLEM,
    "invalid_scope": (
        "Kit did not accept the permissions this app asked for. Please tell the app's publisher."
    ),
    "server_error": "Kit had a problem. Please try connecting again in a few minutes.",
    "temporarily_unavailable": (
        "Kit is busy right now. Please try connecting again in a few minutes."
    ),
}


@dataclass(frozen=True)
class AuthorizationResponse:
    """A valid authorization response: the code to exchange and what came with it.

    Attributes:
        code: The single-use authorization code.
        state: The state it came back with (already checked).
        iss: The issuer Kit named (RFC 9207), or ``None`` when it sent none.
    """

    code: str = field(repr=False)
    state: str = field(repr=False)
    iss: str | None = None

    def __repr__(self) -> str:
        return f"AuthorizationResponse(code=[redacted], state=[redacted], iss={self.iss!r})"

    __str__ = __repr__


class CallbackRejected(ValueError):  # noqa: N818 - it is a verdict, not a fault
    """The request is not a usable answer to this flow; the flow keeps waiting.

    Attributes:
        reason: A fixed, value-free phrase for the log.
        wrong_flow: Whether the state was missing or wrong (rather than the query malformed).
    """

    def __init__(self, reason: str, *, wrong_flow: bool = False) -> None:
        self.reason = reason
        self.wrong_flow = wrong_flow
        super().__init__(reason)


def parse_query(query: str) -> dict[str, str]:
    """Decode a raw query string exactly once, strictly.

    ``+`` means a space and ``%XX`` one byte; the bytes must be UTF-8. Empty values count as
    absent. Malformed escapes, raw non-ASCII, non-UTF-8, empty fields and repeated names are
    refused rather than guessed at.

    Args:
        query: The raw text after ``?`` in the request target.

    Raises:
        CallbackRejected: The query is malformed or repeats a parameter.
    """
    if not query:
        return {}
    if not _QUERY_CHARS.fullmatch(query) or _PERCENT.search(query):
        raise CallbackRejected("malformed query")
    fields = query.split("&")
    if len(fields) > MAX_PARAMS:
        raise CallbackRejected("too many parameters")
    seen: set[str] = set()
    values: dict[str, str] = {}
    for item in fields:
        raw_name, sep, raw_value = item.partition("=")
        if not raw_name or not sep:
            raise CallbackRejected("malformed query")
        name, value = _decode(raw_name), _decode(raw_value)
        if name in seen:
            raise CallbackRejected("repeated parameter")
        seen.add(name)
        if value:
            values[name] = value
    return values


def _decode(text: str) -> str:
    """Percent-decode ``text`` once (form style), strictly as UTF-8."""
    raw = bytearray()
    parts = text.replace("+", " ").split("%")
    raw += parts[0].encode("ascii")
    for part in parts[1:]:
        raw.append(int(part[:2], 16))
        raw += part[2:].encode("ascii")
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise CallbackRejected("query is not UTF-8") from None


def check_callback(
    query: str, expected_state: str, expected_issuer: str | None = None
) -> AuthorizationResponse:
    """Check a callback query against this flow and return the authorization response.

    Args:
        query: The raw query string of a request to the redirect path.
        expected_state: This flow's state; compared in constant time.
        expected_issuer: The issuer ``iss`` must equal when present, or ``None`` to accept any.

    Returns:
        The code, state and issuer of a valid success response.

    Raises:
        CallbackRejected: Malformed, repeated, missing or wrong state, malformed issuer, bad
            code; the flow should keep waiting.
        ForeignIssuerError: This flow's state with another issuer (RFC 9207): whatever else
            it says, the flow ends (a wrong issuer setting, or a mix-up attack).
        ConsentDeniedError: ``error=access_denied`` with this flow's state.
        AuthorizationError: Any other ``error`` with this flow's state.
    """
    params = parse_query(query)
    state = params.get("state", "")
    if not _state_matches(state, expected_state):
        raise CallbackRejected("missing or wrong state", wrong_flow=True)
    iss = params.get("iss")
    if iss is not None and not _VSCHAR.fullmatch(iss):
        raise CallbackRejected("malformed issuer")
    if iss is not None and expected_issuer is not None and iss != expected_issuer:
        raise ForeignIssuerError(detail=f"iss={iss[:100]!r}, expected {expected_issuer!r}")
    if "error" in params:
        raise authorization_error(params["error"], params.get("error_description", ""))
    code = params.get("code")
    if code is None:
        raise CallbackRejected("no code")
    if len(code) > MAX_CODE_LENGTH or not _VSCHAR.fullmatch(code):
        raise CallbackRejected("malformed code")
    return AuthorizationResponse(code=code, state=state, iss=iss)


def _state_matches(state: str, expected: str) -> bool:
    if not state or not expected or not _VSCHAR.fullmatch(state):
        return False
    return hmac.compare_digest(state.encode("ascii"), expected.encode("ascii"))


def authorization_error(
    error: str, description: str = ""
) -> ConsentDeniedError | AuthorizationError:
    """Map an RFC 6749 ``error`` (with its description) to the error a creator reads.

    Args:
        error: The ``error`` parameter; only allow-listed values are explained.
        description: The ``error_description``; shown as plain text, at most 200 characters.
    """
    known = error == "access_denied" or error in ERROR_MESSAGES
    detail = f"error={error}" if known else "error=(not recognised)"
    if error == "access_denied":
        return ConsentDeniedError(detail=detail)
    message = ERROR_MESSAGES.get(error, AuthorizationError.default_message)
    text = plain_text(description)
    if text:
        message = f"{message} Kit said: \u201c{text}\u201d"
    return AuthorizationError(message, detail=detail)


def plain_text(text: str, limit: int = MAX_DESCRIPTION_LENGTH) -> str:
    """Return ``text`` on one line, without control characters, at most ``limit`` characters."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "\u2026"
    return cleaned
