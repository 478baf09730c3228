"""Inputs and oracles for fuzzing the loopback receiver: request heads, callback queries, replies.

The oracle re-derives, from the documented rules only (RFC 6749 section 4.1.2, catalogue
cases 11, 12, 24-27), what a callback query must lead to; the checks compare the app to it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, quote_plus, unquote_to_bytes

from hypothesis import strategies as st

#: This flow's state (fixed, so derandomized runs are reproducible) and another flow's.
STATE = "fuzz-state-Zk3q9Xw2Lr8Vb5Tn0Hs4Md7Pc1Gy6Ue"
OTHER_STATE = "other-flow-Qa7Wd2Ej9Rk4Tl1Yz8Xc3Vb6Nm0Hs5Gf"
CODE = "kit-code-0a1b2c3d4e5f6a7b8c9d"
MAX_CODE = 2048

_VSCHAR = re.compile(r"[\x20-\x7e]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

T = TypeVar("T")

printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
tokens = st.text(st.sampled_from(_TOKEN_CHARS), min_size=1, max_size=12)
latin1 = st.characters(max_codepoint=0xFF)


def weighted(*choices: tuple[st.SearchStrategy[T], int]) -> st.SearchStrategy[T]:
    """Pick among strategies in proportion to their weights."""
    pool = [strategy for strategy, weight in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda chosen: chosen)


# --- callback queries ---------------------------------------------------------------------

RAW_ESCAPES = (
    "%ZZ", "%F", "%FF", "%C0%AF", "%00", "%E2%82", "%2541", "%", "%%", "+", "%2B", "%0A",
    "%0d%0a", "%7F", "%EF%BF%BF", "%F4%90%80%80", "%ED%A0%80", "%E2%80%AE", "%26", "%3D",
)  # fmt: skip


@functools.cache
def _states(state: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(state),
        st.sampled_from((state[:-1], state + "x", state.upper(), " " + state, state + " ")),
        st.sampled_from((OTHER_STATE, "", state.replace("Z", "z", 1))),
        st.text(printable, max_size=50),
    )


_codes = st.one_of(
    st.just(CODE),
    st.text(printable, min_size=1, max_size=40),
    st.integers(MAX_CODE - 4, MAX_CODE + 4).map(lambda n: "c" * n),
    st.text(max_size=12),
)
_errors = st.sampled_from(
    ("access_denied", "invalid_request", "server_error", "invalid_scope", "nope", "ACCESS_DENIED")
)
_descriptions = st.one_of(
    st.sampled_from(("<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "a\nb\x00")),
    st.text(max_size=260),
)
_names = st.one_of(
    st.sampled_from(("code", "state", "error", "error_description", "iss")),
    st.sampled_from(("access_token", "redirect", "next", "Code", "state ", "STATE")),
    st.text(printable, min_size=1, max_size=8),
)
_HOW = st.sampled_from(("quote", "quote", "plus", "raw", "twice", "lower"))
_SEPARATORS = st.sampled_from(("=", "=", "=", "", "=="))
_JOINERS = st.sampled_from(("&", "&", "&", ";", "&&"))
_ESCAPES = st.sampled_from(RAW_ESCAPES)
_EXTRAS = st.lists(
    st.sampled_from(("scope=public", "foo=bar", "x=", "iss=", "iss=https%3A%2F%2Fevil.example")),
    max_size=2,
)
_OTHER_VALUES = st.text(max_size=20)
ONE_IN = {n: st.integers(0, n - 1) for n in (2, 3, 4, 6, 10, 16, 21)}


def _encode(draw: st.DrawFn, text: str) -> str:
    """``text`` percent-encoded one of several ways (or not at all, or twice)."""
    how = draw(_HOW)
    if how == "quote":
        return quote(text, safe="")
    if how == "plus":
        return quote_plus(text)
    if how == "twice":
        return quote(quote(text, safe=""), safe="")
    if how == "lower":
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe=""))
    return text


@st.composite
def _field(draw: st.DrawFn, state: str) -> str:
    name = draw(_names)
    if name == "state":
        value = draw(_states(state))
    elif name == "code":
        value = draw(_codes)
    elif name == "error":
        value = draw(_errors)
    elif name == "error_description":
        value = draw(_descriptions)
    else:
        value = draw(_others(state))
    encoded = _encode(draw, name) + draw(_SEPARATORS) + _encode(draw, value)
    if draw(ONE_IN[10]) == 0:
        cut = draw(st.integers(0, len(encoded)))
        encoded = encoded[:cut] + draw(_ESCAPES) + encoded[cut:]
    return encoded


@functools.cache
def _others(state: str) -> st.SearchStrategy[str]:
    return st.one_of(_OTHER_VALUES, _codes, _states(state))


@functools.cache
def _sent_states(state: str) -> st.SearchStrategy[str]:
    return weighted((st.just(state), 3), (_states(state), 1))


@st.composite
def _callback(draw: st.DrawFn, state: str) -> str:
    """This flow's state with a well-formed code or an error, harmless extras, any order."""
    code = draw(_codes)
    fields = [f"state={quote(draw(_sent_states(state)), safe='')}"]
    if draw(ONE_IN[4]):
        fields.append(f"code={quote(code, safe='')}")
    if draw(ONE_IN[3]) == 0:
        fields.append(f"error={quote(draw(_errors), safe='')}")
        fields.append(f"error_description={quote_plus(draw(_descriptions))}")
    fields += set(draw(_EXTRAS))
    return "&".join(draw(st.permutations(fields)))


@functools.cache
def queries(state: str = STATE) -> st.SearchStrategy[str]:
    """Callback query strings: mostly field lists, some valid, some raw junk."""
    joined = st.tuples(st.lists(_field(state), max_size=8), _JOINERS).map(
        lambda parts: parts[1].join(parts[0])
    )
    return weighted(
        (joined, 4),
        (_callback(state), 3),
        (st.text(printable, max_size=120), 1),
        (st.text(max_size=60), 1),
        (st.integers(30, 36).map(lambda n: "&".join(f"p{i}=v" for i in range(n))), 1),
    )


@dataclass(frozen=True)
class Expected:
    """What the documented rules say a callback query leads to.

    Attributes:
        verdict: ``malformed``, ``wrong_flow``, ``denied``, ``error`` or ``accepted``.
        params: The decoded non-empty parameters, or ``None`` if the query itself is malformed.
    """

    verdict: str
    params: dict[str, str] | None


def decode_query(query: str) -> dict[str, str] | None:
    """Decode ``query`` once, strictly (RFC 6749 section 3.1), or ``None`` if it is malformed."""
    params: dict[str, str] = {}
    if not query:
        return params
    if any(not 0x21 <= ord(ch) <= 0x7E for ch in query) or _BAD_PERCENT.search(query):
        return None
    fields = query.split("&")
    if len(fields) > 32:
        return None
    seen: set[str] = set()
    for item in fields:
        raw_name, sep, raw_value = item.partition("=")
        if not raw_name or not sep:
            return None
        try:
            name, value = (
                unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
                for raw in (raw_name, raw_value)
            )
        except UnicodeDecodeError:
            return None
        if name in seen:
            return None
        seen.add(name)
        if value:
            params[name] = value
    return params


def expected_callback(query: str, state: str = STATE) -> Expected:
    """Apply the documented callback rules to ``query``, independently of the app."""
    params = decode_query(query)
    if params is None:
        return Expected("malformed", None)
    if params.get("state") != state:
        return Expected("wrong_flow", params)
    iss = params.get("iss")
    if iss is not None and not _VSCHAR.fullmatch(iss):
        return Expected("malformed", params)
    if "error" in params:
        return Expected("denied" if params["error"] == "access_denied" else "error", params)
    code = params.get("code")
    if code is None or len(code) > MAX_CODE or not _VSCHAR.fullmatch(code):
        return Expected("malformed", params)
    return Expected("accepted", params)


# --- request heads ------------------------------------------------------------------------

PATHS = (
    "/callback", "/callback", "/callback", "/done", "/", "/favicon.ico", "/CALLBACK",
    "/callbackX", "/callback/", "/callback/../x", "/callback;x", "//callback", "callback", "*",
    "http://127.0.0.1/callback", "/%63allback",
)  # fmt: skip
CONTENT_LENGTHS = (
    "0", "5", "1024", "1025", "-1", "1e3", " 7", "7, 7", "99999999999999999999", "",
)  # fmt: skip


_PATHS = weighted((st.sampled_from(PATHS), 4), (st.text(printable, max_size=20), 1))
_FRAGMENTS = st.text(printable, max_size=8)


@st.composite
def targets(draw: st.DrawFn, state: str = STATE) -> str:
    """A request target: a known or odd path, maybe a callback query, maybe a fragment."""
    path = draw(_PATHS)
    if draw(ONE_IN[4]):
        path += "?" + draw(queries(state))
    if draw(ONE_IN[16]) == 0:
        path += "#" + draw(_FRAGMENTS)
    return path


_METHODS = weighted(
    (st.sampled_from(("GET",) * 6 + ("HEAD", "POST")), 8), (tokens, 1), (st.text(), 1)
)
_VERSIONS = st.sampled_from(("HTTP/1.1",) * 6 + ("HTTP/1.0", "HTTP/2", "http/1.1", ""))
_EOLS = st.sampled_from(("\r\n",) * 6 + ("\n", "\n", "\r", ""))
_ENDS = st.sampled_from(("\r\n",) * 6 + ("\n", ""))
_HEADERS = st.lists(
    st.tuples(
        weighted(
            (st.sampled_from(("Host", "Content-Length", "Transfer-Encoding", "X-A")), 2),
            (tokens, 4),
            (st.text(max_size=8), 1),
        ),
        st.sampled_from((": ",) * 6 + (":", " : ", "")),
        weighted(
            (st.sampled_from(CONTENT_LENGTHS), 1),
            (st.text(latin1.filter(lambda ch: ch not in "\r\n"), max_size=30), 4),
            (st.text(latin1, max_size=30), 1),
        ),
    ),
    max_size=4,
)
_MANY = st.sampled_from((0, 0, 0, 0, 63, 64, 65, 200))
_BIG = st.integers(16_000, 17_000)
_BODIES = st.binary(max_size=16)


@functools.cache
def _targets_or_junk(state: str) -> st.SearchStrategy[str]:
    return weighted(
        (targets(state), 12),
        (st.text(max_size=30), 2),
        (st.integers(8150, 8200).map(lambda n: "/callback?" + "a" * n), 1),
    )


@st.composite
def heads(draw: st.DrawFn, state: str = STATE, host: str = "127.0.0.1:{port}") -> bytes:
    """A request head (and a little body) from well-formed to broken, small to oversized.

    ``{port}`` in ``host`` is left for the caller to fill in (the receiver's port).
    """
    method = draw(_METHODS)
    target = draw(_targets_or_junk(state))
    if draw(ONE_IN[4]):  # as a browser would send it
        target = re.sub(r"[^\x21-\x7e]", lambda m: quote(m.group(0)), target)
    eol: str = draw(_EOLS)
    lines = [f"{method} {target} {draw(_VERSIONS)}".encode()]
    if draw(ONE_IN[6]):
        lines.append(f"Host: {host}".encode())
    for name, sep, value in draw(_HEADERS):
        lines.append(f"{name}{sep}{value}".encode("utf-8", "surrogatepass"))
    lines += [b"X-Many: 1"] * draw(_MANY)
    if draw(ONE_IN[21]) == 0:
        lines.append(b"X-Big: " + b"b" * draw(_BIG))
    end: str = draw(_ENDS)
    body: bytes = draw(_BODIES)
    return eol.encode().join(lines) + eol.encode() + end.encode() + body


@functools.cache
def raw_heads(state: str = STATE) -> st.SearchStrategy[bytes]:
    """Structured heads, and plain arbitrary bytes."""
    return weighted((heads(state), 5), (st.binary(max_size=300), 1))


_CLEAN_NAMES = tokens.filter(lambda n: n.lower() not in ("content-length", "transfer-encoding"))
_CLEAN_VALUES = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
).map(lambda v: v.strip(" \t"))
_CLEAN_TARGETS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80)
_CLEAN_HEADERS = st.lists(st.tuples(_CLEAN_NAMES, _CLEAN_VALUES), max_size=64)


@st.composite
def clean_heads(draw: st.DrawFn) -> tuple[bytes, str, str, list[tuple[str, str]]]:
    """A head that follows every rule: ``(bytes, method, target, [(name, value)])``."""
    method, target, headers = draw(tokens), draw(_CLEAN_TARGETS), draw(_CLEAN_HEADERS)
    eol = draw(st.sampled_from(("\r\n", "\n")))
    lines = [f"{method} {target} {draw(st.sampled_from(('HTTP/1.1', 'HTTP/1.0')))}"]
    spaces = st.sampled_from(("", " ", "  "))
    lines += [f"{name}:{draw(spaces)}{value}" for name, value in headers]
    data = (eol.join(lines) + eol + eol).encode("latin-1")
    return data, method, target, headers


# --- replies --------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "connection": "close",
}
_STATUS_LINE = re.compile(r"HTTP/1\.1 ([1-5][0-9]{2}) [A-Za-z][A-Za-z '-]*")
_TAG = re.compile(rb"<\s*/?\s*([A-Za-z!][^\s>/]*)")


@dataclass(frozen=True)
class ParsedReply:
    """A reply that passed :func:`parse_reply`."""

    status: int
    headers: dict[str, str]
    body: bytes


def parse_reply(data: bytes, *, head_only: bool = False) -> ParsedReply:
    """Check that ``data`` is one complete, hardened HTTP/1.1 response, and split it."""
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, f"no end of head in {data[:200]!r}"
    lines = head.decode("ascii").split("\r\n")
    status_line = _STATUS_LINE.fullmatch(lines[0])
    assert status_line, lines[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(": ")
        assert colon and TOKEN.fullmatch(name), line
        assert name.lower() not in headers, f"{name} sent twice"
        headers[name.lower()] = value
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))
    assert headers["content-security-policy"].startswith("default-src 'none';")
    length = int(headers["content-length"])
    assert body == b"" if head_only else len(body) == length, (length, len(body))
    return ParsedReply(int(status_line.group(1)), headers, body)


def tags_in(body: bytes) -> set[bytes]:
    """The element names (and ``!doctype``) used in an HTML body, lower-cased."""
    return {name.lower() for name in _TAG.findall(body)}
