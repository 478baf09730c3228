"""Fuzzing token responses: TokenSet parsing, the OAuth client over HTTP, and what gets stored.

Catalogue 33-34, 37-39: any JSON (or not JSON) body gives either a TokenSet whose invariants
hold or the documented KitError, and the token store holds the old tokens or the new ones,
never a mix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hypothesis import strategies as st

from kit_desktop.auth.oauth import MAX_TOKEN_RESPONSE, OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import CREATED_AT_SKEW, MAX_LIFETIME, TokenSet
from kit_desktop.config import Settings as AppSettings
from kit_desktop.config import TokenBody
from kit_desktop.errors import (
    ClientConfigError,
    InvalidGrantError,
    KitError,
    MalformedResponseError,
    NetworkError,
    ReconnectNeededError,
    ServerError,
    TokenEndpointRedirectError,
)
from kit_desktop.http import Timeouts
from tests.fuzz.loopback_inputs import weighted
from tests.fuzz.support import Campaign, Settings, attempt, run_property, suite_settings

TARGET = "tokens"
NOW = 1_790_000_000.0
CODE, VERIFIER = "fuzz-code-5d1c9e", "v" * 43
OLD_ACCESS, OLD_REFRESH = "old-access-7f3a2b1c9d", "old-refresh-4e8b0a6f2c"
REDIRECT = "http://127.0.0.1:53682/callback"
_TOKEN_TEXT = st.characters(min_codepoint=0x21, max_codepoint=0x7E)

# --- token responses ------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=10,
)
good_tokens = weighted(
    (st.text(_TOKEN_TEXT, min_size=1, max_size=60), 6),
    (st.integers(4090, 4100).map(lambda n: "t" * n), 1),
)
bad_tokens = st.one_of(st.just(""), st.text(max_size=20), scalars, st.lists(st.text(), max_size=2))
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "access_token": weighted((good_tokens, 6), (bad_tokens, 1)),
    "token_type": st.one_of(
        st.sampled_from(["Bearer", "bearer", "BEARER", "mac", "", "Bearer "]), scalars
    ),
    "refresh_token": weighted((good_tokens, 4), (bad_tokens, 1), (st.none(), 1)),
    "scope": st.one_of(st.sampled_from(["public", "read write", ""]), json_values),
    "expires_in": st.one_of(
        st.integers(1, 10**6),
        st.sampled_from([0, -5, 1e12, "3600", None, math.nan, math.inf, 10**30, True, 3600.0]),
        scalars,
    ),
    "created_at": st.one_of(
        st.integers(int(NOW) - 1000, int(NOW) + 1000),
        st.floats(NOW - 1000, NOW + 1000),
        scalars,
    ),
    "error": st.sampled_from(["invalid_grant", "invalid_client", "server_error", "x", None, 5]),
    "unknown": json_values,
}


_ODDS = {"access_token": 12, "error": 1, "unknown": 2}
_ONE_IN_8, _ONE_IN_13 = st.integers(0, 7), st.integers(0, 12)


@st.composite
def token_bodies(draw: st.DrawFn) -> object:
    """A token response: mostly a dict of plausible fields, sometimes any JSON value."""
    if draw(_ONE_IN_8) == 0:
        return draw(json_values)
    body = {}
    for name, values in FIELDS.items():
        if draw(_ONE_IN_13) < _ODDS.get(name, 6):
            body[name] = draw(values)
    return body


def _good_token(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 4096
        and all(0x20 < ord(ch) < 0x7F for ch in value)
    )


def _near(created: object, received_at: float) -> bool:
    """Whether ``created`` is a number within the allowed skew of our clock."""
    if type(created) not in (int, float):
        return False
    try:
        return abs(float(created) - received_at) <= CREATED_AT_SKEW  # type: ignore[arg-type]
    except OverflowError:
        return False


def expected_tokens(body: object, received_at: float, previous: str | None) -> TokenSet | None:
    """The TokenSet the documented rules (RFC 6749 5.1, catalogue 34) allow, or None."""
    if not isinstance(body, Mapping) or not _good_token(body.get("access_token")):
        return None
    token_type = body.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        return None
    refresh = body.get("refresh_token")
    if refresh is not None and not _good_token(refresh):
        return None
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, str):
        return None
    expires_in, expires_at = body.get("expires_in"), None
    if expires_in is not None:
        if type(expires_in) is not int or expires_in <= 0:
            return None
        lifetime = min(expires_in, MAX_LIFETIME)
        expires_at = received_at + lifetime
        created = body.get("created_at")
        if _near(created, received_at):
            expires_at = min(expires_at, float(created) + lifetime)  # type: ignore[arg-type]
    return TokenSet(
        body["access_token"],
        previous if refresh is None else refresh,
        "Bearer",
        scope,
        received_at,
        expires_at,
    )


def assert_sound(tokens: TokenSet) -> None:
    """The invariants every TokenSet keeps, including through the store."""
    assert _good_token(tokens.access_token) and tokens.token_type == "Bearer"
    assert tokens.refresh_token is None or _good_token(tokens.refresh_token)
    if tokens.expires_at is not None:
        assert math.isfinite(tokens.expires_at)
        # created_at may make a token expire before it arrived (catalogue 42: the earlier of
        # receipt + expires_in and created_at + expires_in, created_at within the skew).
        earliest = tokens.received_at - CREATED_AT_SKEW
        assert earliest < tokens.expires_at <= tokens.received_at + MAX_LIFETIME
    payload = json.loads(json.dumps(tokens.to_payload(), allow_nan=False))
    assert TokenSet.from_payload(payload) == tokens
    store = MemoryTokenStore()
    store.save(tokens.to_payload())
    assert TokenSet.from_payload(store.load() or {}) == tokens
    # The repr does not depend on the secrets at all (a token may look like any of its
    # fixed words, "TokenSet" or "[redacte", so searching the text for it proves nothing).
    other = dataclasses.replace(
        tokens,
        access_token="other-access-token",
        refresh_token=None if tokens.refresh_token is None else "other-refresh-token",
    )
    assert repr(tokens) == repr(other) and str(tokens) == str(other)


def check_from_response(case: tuple[object, float, str | None]) -> None:
    body, received_at, previous = case
    expected = expected_tokens(body, received_at, previous)
    try:
        tokens = TokenSet.from_response(
            body, received_at=received_at, previous_refresh_token=previous
        )
    except MalformedResponseError:
        assert expected is None, expected
        return
    assert tokens == expected
    assert_sound(tokens)


# --- the OAuth client over real HTTP ----------------------------------------------------------


@dataclass(frozen=True)
class Scripted:
    """One answer of the token endpoint."""

    status: int
    content_type: str
    body: bytes


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 that answers every POST with :attr:`reply`."""

    def __init__(self) -> None:
        self.reply = Scripted(200, "application/json", b"{}")
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = owner.reply
                head = (
                    f"HTTP/1.1 {reply.status} Fuzzed\r\nContent-Type: {reply.content_type}\r\n"
                    f"Content-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n"
                )
                self.wfile.write(head.encode("latin-1") + reply.body)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()


_STATUSES = weighted(
    (st.just(200), 8),
    (st.sampled_from((201, 204, 301, 302, 307, 308, 400, 401, 403, 429, 500, 503)), 3),
    (st.integers(200, 599), 1),
)
_KINDS = st.sampled_from(("token",) * 4 + ("json", "raw", "huge", "nan"))
_HUGE = st.integers(65_500, 66_000)
_RAW = st.binary(max_size=80)
_CONTENT_TYPES = st.sampled_from(("application/json", "text/html", "text/plain", ""))


@st.composite
def scripted(draw: st.DrawFn) -> Scripted:
    """An answer of the token endpoint: any status from 200 up, a body of any kind."""
    status, kind = draw(_STATUSES), draw(_KINDS)
    if kind == "token":
        body = json.dumps(draw(token_bodies())).encode()
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    elif kind == "nan":
        body = b'{"access_token": "abcdefgh", "expires_in": NaN}'
    elif kind == "huge":
        body = b'{"access_token": "' + b"a" * draw(_HUGE) + b'"}'
    else:
        body = draw(_RAW)
    return Scripted(status, draw(_CONTENT_TYPES), body)


def seen_body(reply: Scripted) -> object | None:
    """The JSON the client sees (204 and 304 carry no body), or None if it is not JSON."""
    raw = b"" if reply.status in (204, 304) else reply.body
    try:
        parsed: object = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return parsed


def expected_failure(reply: Scripted, refreshing: bool) -> type[KitError] | None:
    """The error type the documented mapping gives (``KitError`` when only its base is sure)."""
    if 300 <= reply.status < 400:  # never read: a wrong setting, whatever the body
        return TokenEndpointRedirectError
    if reply.status not in (204, 304) and len(reply.body) > MAX_TOKEN_RESPONSE:
        return NetworkError
    body = seen_body(reply)
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_grant":
        return ReconnectNeededError if refreshing else InvalidGrantError
    if error is not None:
        return KitError
    if reply.status == 200:
        return None
    if reply.status == 401:
        return ClientConfigError
    if reply.status == 429 or reply.status >= 500:
        return ServerError
    return MalformedResponseError


def check_client(server: ScriptedServer, case: tuple[Scripted, bool, TokenBody]) -> None:
    """exchange()/refresh(): a TokenSet the rules allow, or the documented KitError."""
    reply, refreshing, body_format = case
    server.reply = reply
    settings = AppSettings(token_body=body_format).with_sandbox(server.base_url)
    client = OAuthClient(settings, clock=lambda: NOW, timeouts=Timeouts(5.0, 5.0))
    expected = expected_failure(reply, refreshing)
    try:
        if refreshing:
            tokens = attempt(lambda: client.refresh(OLD_REFRESH), KitError)
        else:
            tokens = attempt(lambda: client.exchange(CODE, VERIFIER, REDIRECT), KitError)
    finally:
        client.session.close()
    if isinstance(tokens, Exception):
        if expected is None:
            assert expected_tokens(seen_body(reply), NOW, None) is None, tokens
            expected = MalformedResponseError
        assert isinstance(tokens, expected), (tokens, expected)
        assert isinstance(tokens, ReconnectNeededError) == (expected is ReconnectNeededError)
        for secret in (CODE, VERIFIER, OLD_REFRESH):
            assert secret not in str(tokens) and secret not in repr(tokens)
        return
    assert expected is None, expected
    assert tokens == expected_tokens(seen_body(reply), NOW, OLD_REFRESH if refreshing else None)
    assert_sound(tokens)


def check_store(server: ScriptedServer, reply: Scripted) -> None:
    """A refresh leaves the old tokens or the new ones in the store, never a mix."""
    server.reply = reply
    settings = AppSettings().with_sandbox(server.base_url)
    client = OAuthClient(settings, clock=lambda: NOW, timeouts=Timeouts(5.0, 5.0))
    store = MemoryTokenStore()
    old = TokenSet(OLD_ACCESS, OLD_REFRESH, "Bearer", "public", NOW - 7200, NOW - 10)
    store.save(old.to_payload())
    manager = TokenManager(client, store, clock=lambda: NOW)
    try:
        new = manager.valid_tokens()
    except ReconnectNeededError:
        assert store.load() is None and manager.tokens is None
        return
    except KitError:
        assert TokenSet.from_payload(store.load() or {}) == old
        assert manager.tokens == old
        return
    finally:
        client.session.close()
    assert TokenSet.from_payload(store.load() or {}) == new == manager.tokens
    assert new.refresh_token is not None  # a refresh answer without one keeps the old one
    assert_sound(new)


@contextlib.contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def fuzz_from_response(config: Settings) -> None:
    cases = st.tuples(
        token_bodies(),
        st.floats(0, 4e9),
        st.one_of(st.none(), st.just(OLD_REFRESH)),
    )
    run_property(TARGET, cases, check_from_response, config)


def fuzz_client(config: Settings) -> None:
    formats: tuple[TokenBody, ...] = ("form", "json")
    cases = st.tuples(scripted(), st.booleans(), st.sampled_from(formats))
    with scripted_server() as server:
        run_property(TARGET, cases, partial(check_client, server), config)


def fuzz_store(config: Settings) -> None:
    with scripted_server() as server:
        run_property(TARGET, scripted(), partial(check_store, server), config)


CAMPAIGNS = (
    Campaign(TARGET, "TokenSet.from_response follows RFC 6749 5.1", fuzz_from_response, 6),
    Campaign(TARGET, "OAuth client: a TokenSet or the documented error", fuzz_client, 1),
    Campaign(TARGET, "refresh stores old or new tokens, never a mix", fuzz_store, 1),
)


def test_token_responses_parse_to_sound_tokensets_or_malformed() -> None:
    fuzz_from_response(suite_settings(300))


def test_oauth_client_answers_with_tokens_or_the_documented_error() -> None:
    fuzz_client(suite_settings(80))


def test_a_refresh_never_leaves_a_partial_store() -> None:
    fuzz_store(suite_settings(60))
