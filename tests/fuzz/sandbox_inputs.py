"""Inputs for fuzzing the sandbox: cursors, query parameters, bodies and whole requests."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from kit_desktop.sandbox.messages import Request
from kit_desktop.sandbox.pagination import encode_cursor
from tests.fuzz.loopback_inputs import ONE_IN, RAW_ESCAPES, latin1, tokens, weighted

ACCESS = "sandbox-fuzz-access-6b1f0c9e2d7a"
DEPTH = 3000  # past the interpreter's recursion limit (1000) for json's decoder

keys: st.SearchStrategy[list[Any]] = st.one_of(
    st.tuples(st.integers(-5, 3000)).map(list),
    st.tuples(st.text(max_size=24), st.integers(-5, 3000)).map(list),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats()), max_size=3),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
cursors = weighted(
    (keys.map(encode_cursor), 4),
    (json_values.map(lambda v: base64.b64encode(json.dumps(v).encode()).decode()), 2),
    (st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()), 1),
    (st.text(max_size=30), 1),
    (st.sampled_from(["WzEzXQ==", "WzEzXQ", "WzEzXQ===", "W zEzXQ==", "bnVsbA==", "TmFO"]), 1),
)
deep_cursors = st.sampled_from("[{").map(
    lambda opener: base64.b64encode(
        (opener + '"a":' if opener == "{" else opener).encode() * DEPTH
    ).decode()
)
numbers = st.one_of(
    st.sampled_from(["1", "500", "1000", "1001", "0", "-1", " 5 ", "5_0", "1e3", "\u0661", ""]),
    st.integers(-10, 1100).map(str),
    st.text(max_size=6),
    st.just("9" * 5000),
)
dates = st.one_of(
    st.sampled_from(["2026-01-01", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "x"]),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=12),
)
PARAM_VALUES = {
    "per_page": numbers,
    "after": cursors,
    "before": cursors,
    "include_total_count": st.sampled_from(["true", "false", "1", "0", "TRUE", "yes", ""]),
    "status": st.sampled_from(["active", "all", "cancelled", "draft", "archived", "x", ""]),
    "sort_field": st.sampled_from(["id", "created_at", "updated_at", "cancelled_at", "x"]),
    "sort_order": st.sampled_from(["asc", "desc", "ASC", ""]),
    "email_address": st.text(max_size=12),
    "created_after": dates,
    "created_before": dates,
    "updated_after": dates,
    "updated_before": dates,
    "type": st.sampled_from(["embed", "hosted", "x", ""]),
    "success": st.sampled_from(["true", "false"]),
}
OAUTH_FIELDS = {
    "client_id": st.sampled_from(["kit-desktop-practice-0000000000000000000000", "x", ""]),
    "redirect_uri": st.sampled_from(
        ["http://127.0.0.1:53682/callback", "http://127.0.0.1:1/callback", "http://[::1", "x"]
    ),
    "response_type": st.sampled_from(["code", "token", ""]),
    "code_challenge": st.sampled_from(["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "short"]),
    "code_challenge_method": st.sampled_from(["S256", "plain", ""]),
    "scope": st.sampled_from(["public", "read write", "admin", ""]),
    "state": st.text(max_size=10),
    "grant_type": st.sampled_from(["authorization_code", "refresh_token", "password", ""]),
    "code": st.text(max_size=12),
    "code_verifier": st.sampled_from(["v" * 43, "v" * 129, "short", "é" * 43]),
    "refresh_token": st.text(max_size=12),
    "token": st.sampled_from([ACCESS, "x", ""]),
    "token_type_hint": st.sampled_from(["access_token", "refresh_token"]),
    "consent_id": st.text(max_size=8),
    "decision": st.sampled_from(["allow", "deny", ""]),
}
names = weighted(
    (st.sampled_from(sorted(PARAM_VALUES)), 4),
    (st.sampled_from(sorted(OAUTH_FIELDS)), 3),
    (st.text(max_size=6), 1),
)


_NAME_LISTS = st.lists(names, max_size=6)
_OTHER_VALUES = st.text(max_size=10)


@st.composite
def pairs(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Query or form fields with plausible names and telling values, sometimes repeated."""
    result = []
    for name in draw(_NAME_LISTS):
        values = PARAM_VALUES.get(name, OAUTH_FIELDS.get(name, _OTHER_VALUES))
        result.append((name, draw(values)))
    return result


_ESCAPES = st.sampled_from(RAW_ESCAPES)
_KINDS = st.sampled_from(("form", "form", "json", "json", "value", "raw"))
_EXTRA_FIELDS = st.dictionaries(st.text(max_size=5), json_values, max_size=2)
_RAW = st.binary(max_size=40)


def encode(draw: st.DrawFn, fields: list[tuple[str, str]]) -> str:
    """``fields`` as a query string, percent-encoded, maybe with a broken escape spliced in."""
    text = urlencode(fields) if draw(ONE_IN[4]) else "&".join(f"{k}={v}" for k, v in fields)
    if draw(ONE_IN[6]) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(_ESCAPES) + text[cut:]
    return text


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Form bodies, JSON bodies (objects or not), and raw bytes."""
    kind = draw(_KINDS)
    if kind == "form":
        return encode(draw, draw(pairs())).encode("utf-8", "surrogatepass")
    if kind == "json":
        fields: dict[str, object] = dict(draw(pairs()))
        fields.update(draw(_EXTRA_FIELDS))
        return json.dumps(fields).encode("utf-8", "surrogatepass")
    if kind == "value":
        return json.dumps(draw(json_values)).encode("utf-8", "surrogatepass")
    return draw(_RAW)


ROUTES = (
    "/v4/account", "/v4/subscribers", "/v4/subscribers/1", "/v4/subscribers/99999",
    "/v4/tags", "/v4/forms", "/v4/broadcasts", "/v4/sequences", "/v4/custom_fields",
    "/v4/email_templates", "/v4/oauth/token", "/oauth/token", "/v4/oauth/revoke",
    "/v4/oauth/authorize", "/oauth/authorize/decision", "/apps", "/apps/x/install",
    "/.well-known/oauth-authorization-server", "/", "/v4", "/v4/", "/nothing",
)  # fmt: skip
AUTHORIZATION = (
    f"Bearer {ACCESS}", f"bearer  {ACCESS} ", "Bearer", "Bearer nope", "Basic eDp5", "Basic !!",
    "Basic " + base64.b64encode(b"kit-desktop-practice-0000000000000000000000:").decode(), "",
)  # fmt: skip


_METHODS = st.sampled_from(("GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE"))
_ROUTES = weighted((st.sampled_from(ROUTES), 6), (st.text(max_size=12), 1))
_APP_IDS = st.sampled_from(("x", "{app_id}"))
_AUTHORIZATIONS = st.sampled_from(AUTHORIZATION)
_CONTENT_TYPES = st.sampled_from(("application/json", "application/x-www-form-urlencoded", "x"))


@st.composite
def requests_(draw: st.DrawFn) -> Request:
    """A request as the sandbox's handler hands it to ``dispatch``."""
    method = draw(_METHODS)
    path = draw(_ROUTES)
    if path.startswith("/apps/x"):
        path = path.replace("x", draw(_APP_IDS))
    headers = {"authorization": draw(_AUTHORIZATIONS)}
    if draw(st.booleans()):
        headers["content-type"] = draw(_CONTENT_TYPES)
    body = draw(bodies()) if method != "GET" else b""
    return Request(method, path, tuple(draw(pairs())), headers, body)


_RAW_METHODS = weighted(
    (st.sampled_from(("GET", "POST", "PUT", "PATCH", "DELETE")), 6), (tokens, 1)
)
_RAW_PATHS = weighted((st.sampled_from(ROUTES), 4), (st.text(latin1, max_size=12), 1))
_LENGTHS = st.sampled_from(("ok",) * 6 + ("", "-1", "x", "1000001", "more"))
_RAW_HEADERS = st.lists(st.tuples(tokens, st.text(latin1, max_size=12)), max_size=3)


@st.composite
def raw_requests(draw: st.DrawFn) -> tuple[str, bytes]:
    """``(method, bytes)``: an HTTP/1.1 request with a fuzzed target, headers and body."""
    method = draw(_RAW_METHODS)
    path = draw(_RAW_PATHS)
    target = quote(path, safe="/%:@!$&'()*+,;=[]") if draw(ONE_IN[4]) else path
    if draw(ONE_IN[4]):
        target += "?" + encode(draw, draw(pairs()))
    body = draw(bodies())
    headers = ["Host: 127.0.0.1", f"Authorization: {draw(_AUTHORIZATIONS)}"]
    length = draw(_LENGTHS).replace("ok", str(len(body))).replace("more", str(len(body) + 3))
    if length:
        headers.append(f"Content-Length: {length}")
    for name, value in draw(_RAW_HEADERS):
        if name.lower() not in ("expect", "content-length", "connection"):
            headers.append(f"{name}: {value}")
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    return method, head.encode("latin-1", "replace") + body
