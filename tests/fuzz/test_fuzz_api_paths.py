"""Fuzzing the API client's path, query and header checks (catalogue 55, 57, 62).

Any path the creator types is refused with :class:`UnsafeRequestError`, or becomes a URL
whose origin is exactly the configured API origin and whose path, as requests puts it on the
wire, starts with ``/v4/`` and has no dot segments. Headers are refused or safe to send.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import urllib3
from hypothesis import Phase
from hypothesis import strategies as st

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.paths import api_url, check_header
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings as AppSettings
from kit_desktop.errors import KitError, UnsafeRequestError
from kit_desktop.http import Timeouts
from kit_desktop.sandbox import SandboxServer
from tests.fuzz.loopback_inputs import ONE_IN, latin1, tokens, weighted
from tests.fuzz.support import Campaign, Settings, attempt, run_property, suite_settings

TARGET = "api_paths"
ORIGINS = ("https://api.kit.com", "http://127.0.0.1:53100")
ACCESS, REFRESH = "fuzz-access-9c2e7a41b0d3f658", "fuzz-refresh-1f0e9d8c7b6a5"
_DOT_SEGMENT = re.compile(r"(^|/)\.{1,2}(/|$)")

PREFIXES = (
    "/v4/", "/v4/", "/v4/", "/v4", "v4/", "/", "//", "https://evil.example/", "/V4/",
    "https://api.kit.com@evil.example/", "http://api.kit.com/v4/", "//evil.example/v4/",
    "\\\\evil.example\\v4\\", " /v4/", "\t/v4/", "/v4/../", "/v4/%2e%2e/", "/v4/%2E%2E%2F",
    "/v4/%252e%252e/", "/v4/.%2e/", "javascript:", "file:///", "/v4/%2F%2Fevil", "HTTPS:",
    "https://api.kit.com.evil.example/v4/", "/%76%34/", "/v4/\u2025/", "/v4/\uff0e\uff0e/",
)  # fmt: skip
SEGMENTS = (
    "account", "subscribers", "12", "..", ".", "%2e", "%2E%2e", "%2f", "%5c", "@evil", "?",
    "#", "x y", "\r\n", "\x00", "\u00e9", "%C0%AE", "%u002e", ";", ":", "evil.example:443",
    "%25", "%", "%ZZ", "%00", "\u202e", "\u2028", "\x85", "%e2%80%ae", "..;", ".%00.", "~",
    "%3F", "%23", "a=b&c", "\ud800",
)  # fmt: skip


_ANY_TEXT = st.text(max_size=40)
_PARTS = st.lists(weighted((st.sampled_from(SEGMENTS), 3), (st.text(max_size=6), 1)), max_size=5)
_PREFIXES = st.sampled_from(PREFIXES)
_JOINERS = st.sampled_from(("/", "/", "//", "\\"))
_QUERIES = st.sampled_from(("per_page=5", "a=%ZZ", "@evil.example", "//x", ""))


@st.composite
def paths(draw: st.DrawFn) -> str:
    """What a creator might type: plausible paths bent every way, and arbitrary text."""
    if draw(ONE_IN[6]) == 0:
        return draw(_ANY_TEXT)
    path = draw(_PREFIXES) + draw(_JOINERS).join(draw(_PARTS))
    if draw(ONE_IN[4]) == 0:
        path += "?" + draw(_QUERIES)
    return path


queries = st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=3)


def origin_key(url: str) -> tuple[str, str, int]:
    """Scheme, host and port, by urllib3's parser (not the app's)."""
    parsed = urllib3.util.parse_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.scheme or "", (parsed.host or "").lower(), port


def check_api_url(case: tuple[str, str, list[tuple[str, str]]]) -> None:
    """A path is refused, or the URL stays on the origin under /v4/, as sent on the wire."""
    origin, path, query = case
    url = attempt(lambda: api_url(origin, path, query), UnsafeRequestError)
    if isinstance(url, Exception):
        assert isinstance(url, UnsafeRequestError) and url.user_message
        return
    assert url.startswith(origin + "/v4/"), url
    assert origin_key(url) == origin_key(origin)
    prepared = requests.Request("GET", url).prepare()
    assert prepared.url is not None and prepared.path_url is not None
    assert origin_key(prepared.url) == origin_key(origin)
    wire_path = prepared.path_url.partition("?")[0]
    assert wire_path.startswith("/v4/"), wire_path
    for form in (wire_path, unquote(wire_path)):
        assert not _DOT_SEGMENT.search(form), form
        assert "\\" not in form and "//" not in form, form
    split = urlsplit(prepared.url)
    assert not split.username and not split.password and not split.fragment


# --- headers -----------------------------------------------------------------------------

HEADER_NAMES = (
    "Authorization", "authorization", "AUTHORIZATION", "X-Test", "Content-Type", "Host", "",
    ":", "X-A:b", "X A", "X-A\r\n", "X-A\rB", "X-\u00e9", " X-A",
)  # fmt: skip
HEADER_VALUES = (
    "ok", "a\r\nX-Evil: 1", "\n", "\r", "\x00", "trail ", "\u00e9", "\t", "\x7f", "\x0b",
    "Bearer abc", "",
)  # fmt: skip
header_names = weighted((st.sampled_from(HEADER_NAMES), 2), (tokens, 3), (st.text(max_size=10), 1))
header_values = weighted(
    (st.sampled_from(HEADER_VALUES), 2), (st.text(latin1, max_size=20), 2), (st.text(), 1)
)
_TOKEN_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_header_contract(header: tuple[str, str]) -> None:
    """check_header: refused, or a token name (not Authorization) and a one-line value."""
    name, value = header
    refused = attempt(lambda: check_header(name, value), UnsafeRequestError)
    if isinstance(refused, Exception):
        assert isinstance(refused, UnsafeRequestError) and refused.user_message
        return
    assert _TOKEN_NAME.fullmatch(name), name
    assert name.lower() != "authorization"
    assert not set(value) & {"\r", "\n", "\x00"}, value


def check_header_sendable(header: tuple[str, str]) -> None:
    """A header check_header lets through is one requests and http.client can send."""
    name, value = header
    with contextlib.suppress(UnsafeRequestError):
        check_header(name, value)
        requests.Request("GET", "https://api.kit.com/v4/x", headers={name: value}).prepare()
        value.encode("latin-1")


# --- the client, end to end against the sandbox -------------------------------------------------


class LiveClient:
    """A KitApiClient connected (by imported tokens) to a running sandbox."""

    def __init__(self, sandbox: SandboxServer) -> None:
        sandbox.oauth.import_grant(ACCESS, REFRESH, expires_at=time.time() + 10**6)
        settings = AppSettings().with_sandbox(sandbox.base_url)
        store = MemoryTokenStore()
        store.save(TokenSet(ACCESS, REFRESH, "Bearer", None, time.time(), None).to_payload())
        manager = TokenManager(OAuthClient(settings), store)
        self.origin = sandbox.base_url
        self.client = KitApiClient(settings, manager, timeouts=Timeouts(5.0, 5.0))


@contextlib.contextmanager
def live_client() -> Iterator[LiveClient]:
    with SandboxServer(rate_limit=10**9) as sandbox:
        live = LiveClient(sandbox)
        try:
            yield live
        finally:
            live.client.session.close()


json_bodies = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.floats())),
    st.just(math.nan),
)
Call = tuple[str, str, list[tuple[str, str]], dict[str, str], Any]


API_PATHS = (
    "/v4/account", "/v4/subscribers", "/v4/subscribers/1", "/v4/tags", "/v4/forms",
    "/v4/broadcasts", "/v4/sequences", "/v4/nothing", "/v4/subscribers?per_page=2",
)  # fmt: skip


_METHODS = weighted(
    (st.sampled_from(("GET", "GET", "POST", "PUT", "PATCH", "DELETE", "get")), 6),
    (st.text(max_size=6), 1),
)
_TARGETS = weighted((st.sampled_from(API_PATHS), 3), (paths(), 2))


def calls(
    values: st.SearchStrategy[str], names: st.SearchStrategy[str] = header_names
) -> st.SearchStrategy[Call]:
    """Requests as the API panel sends them: mostly real endpoints, some bent paths."""
    min_headers = 0 if names is header_names else 1
    headers = st.dictionaries(names, values, min_size=min_headers, max_size=2)
    return st.tuples(_METHODS, _TARGETS, queries, headers, json_bodies)


def check_client_request(live: LiveClient, call: Call) -> None:
    """KitApiClient.request: an answer from the API origin under /v4/, or a KitError."""
    method, path, query, headers, body = call
    response = attempt(
        lambda: live.client.request(method, path, query=query, headers=headers, json_body=body),
        KitError,
    )
    if isinstance(response, Exception):
        assert ACCESS not in str(response) and REFRESH not in str(response)
        return
    assert response.url.startswith(live.origin + "/v4/"), response.url
    assert response.status != 404 or response.json() == {"errors": ["Not Found"]}


def fuzz_api_url(config: Settings) -> None:
    cases = st.tuples(st.sampled_from(ORIGINS), paths(), queries)
    run_property(TARGET, cases, check_api_url, config)


def fuzz_headers(config: Settings) -> None:
    run_property(TARGET, st.tuples(header_names, header_values), check_header_contract, config)


def fuzz_client(config: Settings, strategy: st.SearchStrategy[Call] | None = None) -> None:
    if strategy is None:
        strategy = calls(st.text(latin1, max_size=12))
    with live_client() as live:
        run_property(TARGET, strategy, partial(check_client_request, live), config)


CAMPAIGNS = (
    Campaign(TARGET, "api_url: refused, or on the origin under /v4/", fuzz_api_url, 6),
    Campaign(TARGET, "check_header: refused, or a safe one-line header", fuzz_headers, 3),
    Campaign(TARGET, "KitApiClient.request end to end", fuzz_client, 1),
)
KNOWN_BUGS: tuple[str, ...] = ()  # each one found was fixed; see docs/benchmarks.md


def test_paths_are_refused_or_stay_on_the_api_origin_under_v4() -> None:
    fuzz_api_url(suite_settings(300))


def test_headers_are_refused_or_safe() -> None:
    fuzz_headers(suite_settings(200))


def test_client_requests_stay_on_the_origin_or_fail_with_a_kit_error() -> None:
    fuzz_client(suite_settings(60))


def test_headers_check_header_lets_through_can_be_sent() -> None:
    names = weighted((tokens.map(lambda name: name + "\n"), 1), (tokens, 2))
    values = weighted((st.text(latin1, max_size=6).map(lambda v: " " + v), 1), (header_values, 2))
    config = Settings(suite_settings(100), phases=[Phase.generate])  # once a bug, now fixed
    run_property(TARGET, st.tuples(names, values), check_header_sendable, config)


def test_client_header_values_outside_latin1_give_a_kit_error() -> None:
    outside = st.text(st.characters(min_codepoint=0x100), min_size=1, max_size=4)
    config = Settings(suite_settings(20), phases=[Phase.generate])  # once a bug, now fixed
    fuzz_client(config, calls(outside, names=tokens))
