"""OAuthClient over real HTTP: catalogue 22-23, 28, 31-36, 44 and 58.

The sandbox is the real local Kit. Where it cannot do what a case needs (capture the raw
POST, answer an arbitrary body, stall mid-body), a tiny stdlib server started here does.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote_plus, urlsplit

import pytest
import requests

import kit_desktop
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import (
    ClientConfigError,
    ConfigError,
    InvalidGrantError,
    KitError,
    KitTimeoutError,
    MalformedResponseError,
    NetworkError,
    ReconnectNeededError,
    RevokeRefusedError,
    ServerError,
    TokenEndpointRedirectError,
)
from kit_desktop.http import Timeouts
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault, FaultKind
from tests.helpers import flow
from tests.helpers.flow import REDIRECT_URI
from tests.helpers.ports import refused_port

CLIENT_ID = "test-client-0123456789"
TOKEN_PATH = "/v4/oauth/token"
REVOKE_PATH = "/v4/oauth/revoke"
FAST = Timeouts(2.0, 2.0)


# --- a tiny capturing HTTP server ---------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    """One request as it arrived on the wire."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None


@dataclass
class Reply:
    """What the capture server answers; ``raw`` (bytes after the headers) wins if set."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_length: int | None = None
    stall: bool = False
    close_early: bool = False


class CaptureServer:
    """A ThreadingHTTPServer on 127.0.0.1 that records every request and sends ``reply``."""

    def __init__(self) -> None:
        self.requests: list[Captured] = []
        self.reply = Reply()
        self.release = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.requests.append(
                        Captured(self.command, self.path, list(self.headers.items()), body)
                    )
                    reply = owner.reply
                head = [f"HTTP/1.1 {reply.status} X"]
                size = len(reply.body) if reply.content_length is None else reply.content_length
                head.append(f"Content-Length: {size}")
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body
                self.wfile.write(data)
                self.wfile.flush()
                if reply.stall:
                    owner.release.wait(10)
                if reply.stall or reply.close_early:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def answer(
        self,
        status: int = 200,
        body: bytes | str | Mapping[str, Any] | list[Any] = b"",
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        """Set the reply; a mapping or list is sent as JSON."""
        extra = dict(headers or {})
        if isinstance(body, Mapping | list):
            data = json.dumps(body).encode()
            extra.setdefault("Content-Type", "application/json")
        else:
            data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self.reply = Reply(status, data, extra, **options)

    def start(self) -> CaptureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def evil() -> Iterator[CaptureServer]:
    """Another host a redirect points at; it must never receive anything."""
    server = CaptureServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- helpers ------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def capture_settings(capture: CaptureServer, **changes: Any) -> Settings:
    return Settings(
        client_id=CLIENT_ID,
        authorize_url=f"{capture.url}/authorize",
        token_url=f"{capture.url}/token",
        revoke_url=f"{capture.url}/revoke",
        api_url=capture.url,
        **changes,
    )


def capture_client(capture: CaptureServer, **changes: Any) -> OAuthClient:
    return OAuthClient(capture_settings(capture, **changes), timeouts=FAST)


def sandbox_client(server: SandboxServer, **kwargs: Any) -> OAuthClient:
    kwargs.setdefault("timeouts", FAST)
    return OAuthClient(Settings().with_sandbox(server.base_url), **kwargs)


def token_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": "at-" + "A" * 40,
        "token_type": "Bearer",
        "expires_in": 7200,
        "refresh_token": "rt-" + "R" * 40,
        "scope": "public",
    }
    body.update(changes)
    return body


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def form_fields(captured: Captured) -> dict[str, str]:
    pairs = parse_qsl(captured.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), names
    return dict(pairs)


def code_for(server: SandboxServer, client: OAuthClient) -> tuple[str, str]:
    """Follow a fresh attempt's URL on the sandbox; return (code, verifier)."""
    attempt = client.new_attempt(REDIRECT_URI)
    response = requests.get(attempt.url, allow_redirects=False, timeout=5)
    query = flow.location_params(response)
    assert query["state"] == attempt.state
    return query["code"], attempt.verifier


def connect(server: SandboxServer, client: OAuthClient) -> TokenSet:
    code, verifier = code_for(server, client)
    return client.exchange(code, verifier, REDIRECT_URI)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds (a waitUntil, not a sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.005)


# --- 23, 22, 28: the authorization URL ------------------------------------------------------


def test_c23_authorization_url_contents(sandbox: SandboxServer) -> None:
    settings = Settings().with_sandbox(sandbox.base_url)
    attempt = OAuthClient(settings).new_attempt(REDIRECT_URI)
    parts = urlsplit(attempt.url)
    wanted = urlsplit(settings.authorize_url)
    assert (parts.scheme, parts.netloc, parts.path) == (wanted.scheme, wanted.netloc, wanted.path)
    assert not parts.fragment
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(values) == 1 for values in query.values())
    params = {name: values[0] for name, values in query.items()}
    assert params == {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
        "scope": "public",
        "state": attempt.state,
    }
    assert attempt.challenge == s256(attempt.verifier)
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", attempt.verifier)
    assert len(attempt.state) >= 22  # >= 128 bits of base64url
    assert "secret" not in attempt.url.lower()
    assert attempt.verifier not in attempt.url
    assert attempt.redirect_uri == REDIRECT_URI


def test_c23_authorization_url_is_percent_encoded(capture: CaptureServer) -> None:
    client = capture_client(capture, scope="read write", tenant_name="Ann & Bob's #1")
    odd_state = "a&b=c d+e/f?#%"
    attempt = client.new_attempt("http://127.0.0.1:53219/callback", state=odd_state)
    raw = urlsplit(attempt.url).query
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A53219%2Fcallback" in raw.split("&")
    assert "scope=read+write" in raw.split("&")
    assert f"state={quote_plus(odd_state)}" in raw.split("&")
    assert not set(raw) & set(" #\"<>'")
    params = {k: v[0] for k, v in parse_qs(raw, strict_parsing=True).items()}
    assert params["state"] == odd_state
    assert params["scope"] == "read write"
    assert params["tenant_name"] == "Ann & Bob's #1"


def test_c23_no_tenant_name_unless_configured(capture: CaptureServer) -> None:
    attempt = capture_client(capture).new_attempt(REDIRECT_URI)
    assert "tenant_name" not in parse_qs(urlsplit(attempt.url).query)


def test_c23_authorize_url_that_already_has_a_query(capture: CaptureServer) -> None:
    settings = capture_settings(capture)
    settings = Settings(
        client_id=CLIENT_ID,
        authorize_url=f"{capture.url}/authorize?prompt=consent",
        token_url=settings.token_url,
        revoke_url=settings.revoke_url,
    )
    attempt = OAuthClient(settings).new_attempt(REDIRECT_URI)
    assert attempt.url.count("?") == 1
    params = parse_qs(urlsplit(attempt.url).query, strict_parsing=True)
    assert params["prompt"] == ["consent"]
    assert params["client_id"] == [CLIENT_ID]


def test_c23_authorization_url_is_accepted_by_the_sandbox(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    code, verifier = code_for(sandbox, client)
    assert code
    assert client.exchange(code, verifier, REDIRECT_URI).access_token


BAD_ENDPOINTS = [
    "http://api.kit.com/v4/oauth/x",
    "http://127.0.0.1.evil.example/x",
    "http://localhost.evil.example/x",
    "http://0.0.0.0:8080/x",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "--foo",
    "ftp://api.kit.com/x",
    "https://user:pw@api.kit.com/x",
    "//api.kit.com/x",
    "",
]


@pytest.mark.parametrize("name", ["authorize_url", "token_url", "revoke_url"])
@pytest.mark.parametrize("url", BAD_ENDPOINTS)
def test_c23_endpoint_must_be_https_or_loopback(name: str, url: str) -> None:
    change: dict[str, Any] = {name: url}
    settings = replace(Settings(client_id=CLIENT_ID), **change)
    with pytest.raises(ConfigError):
        OAuthClient(settings)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.kit.com/v4/oauth/token",
        "http://127.0.0.1:9/token",
        "http://[::1]:9/token",
        "http://localhost:9/token",
    ],
)
def test_c23_https_or_loopback_endpoints_are_accepted(url: str) -> None:
    OAuthClient(Settings(client_id=CLIENT_ID, token_url=url))


def test_missing_client_id_is_refused() -> None:
    with pytest.raises(ClientConfigError):
        OAuthClient(Settings())


def test_c28_every_attempt_is_new(capture: CaptureServer) -> None:
    client = capture_client(capture)
    attempts = [client.new_attempt(REDIRECT_URI) for _ in range(20)]
    assert len({a.state for a in attempts}) == 20
    assert len({a.verifier for a in attempts}) == 20
    assert len({a.challenge for a in attempts}) == 20
    assert len({a.url for a in attempts}) == 20


def test_c30_attempt_repr_hides_state_and_verifier(capture: CaptureServer) -> None:
    attempt = capture_client(capture).new_attempt(REDIRECT_URI)
    text = repr(attempt)
    assert attempt.state not in text
    assert attempt.verifier not in text


# --- 31: the token request's shape ----------------------------------------------------------


def test_c31_token_request_shape(capture: CaptureServer) -> None:
    capture.answer(200, token_body())
    client = capture_client(capture)
    attempt = client.new_attempt(REDIRECT_URI)
    tokens = client.exchange("the-code-123", attempt.verifier, attempt.redirect_uri)
    assert tokens.access_token == token_body()["access_token"]
    [request] = capture.requests
    assert (request.method, request.path) == ("POST", "/token")
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert form_fields(request) == {
        "grant_type": "authorization_code",
        "code": "the-code-123",
        "client_id": CLIENT_ID,
        "code_verifier": attempt.verifier,
        "redirect_uri": attempt.redirect_uri,
    }
    authorize_redirect = parse_qs(urlsplit(attempt.url).query)["redirect_uri"][0]
    assert form_fields(request)["redirect_uri"] == authorize_redirect
    assert f"redirect_uri={quote_plus(REDIRECT_URI)}".encode() in request.body.split(b"&")
    assert b"client_secret" not in request.body
    assert request.header("Authorization") is None
    user_agent = request.header("User-Agent") or ""
    assert user_agent.startswith(f"KitDesktop/{kit_desktop.__version__} ")
    assert "application/json" in (request.header("Accept") or "")


def test_c31_refresh_request_shape(capture: CaptureServer) -> None:
    capture.answer(200, token_body())
    capture_client(capture).refresh("old-refresh-token")
    [request] = capture.requests
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert form_fields(request) == {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "refresh_token": "old-refresh-token",
    }
    assert request.header("Authorization") is None


def test_c31_json_token_body_when_configured(capture: CaptureServer) -> None:
    capture.answer(200, token_body())
    client = capture_client(capture, token_body="json")
    attempt = client.new_attempt(REDIRECT_URI)
    client.exchange("the-code-123", attempt.verifier, REDIRECT_URI)
    client.refresh("old-refresh-token")
    first, second = capture.requests
    assert first.header("Content-Type") == "application/json"
    assert json.loads(first.body) == {
        "grant_type": "authorization_code",
        "code": "the-code-123",
        "client_id": CLIENT_ID,
        "code_verifier": attempt.verifier,
        "redirect_uri": REDIRECT_URI,
    }
    assert json.loads(second.body) == {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "refresh_token": "old-refresh-token",
    }


@pytest.mark.parametrize("token_body_format", ["form", "json"])
def test_c44_revoke_is_always_a_form(capture: CaptureServer, token_body_format: str) -> None:
    capture.answer(200)
    capture_client(capture, token_body=token_body_format).revoke("rt-xyz", "refresh_token")
    [request] = capture.requests
    assert (request.method, request.path) == ("POST", "/revoke")
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert form_fields(request) == {
        "token": "rt-xyz",
        "token_type_hint": "refresh_token",
        "client_id": CLIENT_ID,
    }
    assert request.header("Authorization") is None


def test_c37_refresh_answer_without_refresh_token_keeps_the_old_one(
    capture: CaptureServer,
) -> None:
    body = token_body()
    del body["refresh_token"]
    capture.answer(200, body)
    tokens = capture_client(capture).refresh("rt-old-but-still-good")
    assert tokens.refresh_token == "rt-old-but-still-good"
    assert tokens.access_token == body["access_token"]


def test_c31_received_at_is_the_local_clock(capture: CaptureServer) -> None:
    clock = FakeClock()
    capture.answer(200, token_body(created_at=0))
    client = OAuthClient(capture_settings(capture), clock=clock, timeouts=FAST)
    tokens = client.exchange("c", "v" * 43, REDIRECT_URI)
    assert tokens.received_at == clock.now
    assert tokens.expires_at == clock.now + 7200


# --- 32: redirects from the token and revoke endpoints are never followed -------------------


@pytest.mark.parametrize("operation", ["exchange", "refresh", "revoke"])
def test_c32_sandbox_redirect_is_not_followed(
    sandbox: SandboxServer, evil: CaptureServer, operation: str
) -> None:
    path = REVOKE_PATH if operation == "revoke" else TOKEN_PATH
    sandbox.set_fault(path, Fault("redirect", location=f"{evil.url}/steal"))
    client = sandbox_client(sandbox)
    calls: dict[str, Callable[[], object]] = {
        "exchange": lambda: client.exchange("single-use-code", "v" * 43, REDIRECT_URI),
        "refresh": lambda: client.refresh("precious-refresh-token"),
        "revoke": lambda: client.revoke("precious-refresh-token", "refresh_token"),
    }
    with pytest.raises(TokenEndpointRedirectError) as caught:
        calls[operation]()
    assert f"answered with a redirect to {evil.url}/steal." in caught.value.user_message
    assert evil.requests == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_c32_no_redirect_status_is_followed(
    capture: CaptureServer, evil: CaptureServer, status: int
) -> None:
    capture.answer(status, headers={"Location": f"{evil.url}/steal"})
    client = capture_client(capture)
    with pytest.raises(KitError):
        client.exchange("single-use-code", "v" * 43, REDIRECT_URI)
    with pytest.raises(KitError):
        client.refresh("precious-refresh-token")
    with pytest.raises(KitError):
        client.revoke("precious-refresh-token", "refresh_token")
    assert len(capture.requests) == 3
    assert evil.requests == []


def test_c32_redirect_with_an_error_body_is_still_a_redirect(
    capture: CaptureServer, evil: CaptureServer
) -> None:
    capture.answer(307, {"error": "invalid_grant"}, {"Location": f"{evil.url}/steal"})
    with pytest.raises(TokenEndpointRedirectError):
        capture_client(capture).refresh("precious-refresh-token")
    assert evil.requests == []


# --- 33: RFC 6749 section 5.2 errors -------------------------------------------------------

CONFIG_CODES = [
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_request",
]


def oauth_error_of(
    capture: CaptureServer,
    status: int,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    refreshing: bool = False,
) -> KitError:
    capture.answer(status, body, headers)
    client = capture_client(capture)
    call: Callable[[], TokenSet] = (
        (lambda: client.refresh("rt-old"))
        if refreshing
        else (lambda: client.exchange("code", "v" * 43, REDIRECT_URI))
    )
    with pytest.raises(KitError) as caught:
        call()
    return caught.value


def test_c33_invalid_grant_on_exchange(capture: CaptureServer) -> None:
    error = oauth_error_of(capture, 400, {"error": "invalid_grant"})
    assert type(error) is InvalidGrantError
    assert "expired or was already used" in error.user_message


def test_c33_invalid_grant_on_refresh_needs_reconnect(capture: CaptureServer) -> None:
    error = oauth_error_of(capture, 400, {"error": "invalid_grant"}, refreshing=True)
    assert type(error) is ReconnectNeededError
    assert "reconnect" in error.user_message.lower()


@pytest.mark.parametrize("code", CONFIG_CODES)
@pytest.mark.parametrize("refreshing", [False, True])
def test_c33_configuration_errors(capture: CaptureServer, code: str, refreshing: bool) -> None:
    error = oauth_error_of(
        capture, 400, {"error": code, "error_description": "nope"}, refreshing=refreshing
    )
    assert isinstance(error, ClientConfigError)
    assert error.code == code


def test_c33_invalid_client_as_401_with_www_authenticate(capture: CaptureServer) -> None:
    challenge = {"WWW-Authenticate": 'Basic realm="kit"'}
    error = oauth_error_of(capture, 401, {"error": "invalid_client"}, headers=challenge)
    assert isinstance(error, ClientConfigError)
    assert error.code == "invalid_client"
    bare = oauth_error_of(capture, 401, b"", headers=challenge)
    assert isinstance(bare, ClientConfigError)
    assert bare.code == "invalid_client"


def test_c33_every_error_has_its_own_message(capture: CaptureServer) -> None:
    messages = {
        code: oauth_error_of(capture, 400, {"error": code}).user_message
        for code in [*CONFIG_CODES, "invalid_grant", "made_up_error"]
    }
    messages["refresh invalid_grant"] = oauth_error_of(
        capture, 400, {"error": "invalid_grant"}, refreshing=True
    ).user_message
    assert len(set(messages.values())) == len(messages), messages
    assert all(message.strip() for message in messages.values())


def test_c33_unknown_error_gets_generic_text(capture: CaptureServer) -> None:
    first = oauth_error_of(capture, 400, {"error": "weird_<b>thing</b>"})
    second = oauth_error_of(capture, 400, {"error": "another\r\nthing"})
    assert type(first) is KitError
    assert first.user_message == second.user_message
    assert "weird" not in first.user_message
    assert "<b>" not in first.user_message


@pytest.mark.parametrize("body", [{"error": 5}, {"error": ["x"]}, {"error": {"a": 1}}])
def test_c33_non_text_error_is_still_an_error(capture: CaptureServer, body: Any) -> None:
    error = oauth_error_of(capture, 400, body)
    assert type(error) is KitError


def test_c33_error_description_is_truncated_and_not_shown(capture: CaptureServer) -> None:
    description = "<script>alert(1)</script>" + "D" * 5000
    error = oauth_error_of(
        capture, 400, {"error": "invalid_request", "error_description": description}
    )
    assert "D" * 201 not in str(error)
    assert "D" * 150 in error.detail
    assert "<script>" not in error.user_message
    assert "D" * 10 not in error.user_message


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "server_error"}),
        (503, {"error": "temporarily_unavailable"}),
        (400, {"error": "temporarily_unavailable"}),
        (503, b""),
        (502, "<html>Bad gateway</html>"),
        (429, {"error": "slow_down"}),
        (429, b""),
    ],
)
def test_c39_server_side_trouble_is_a_server_error(
    capture: CaptureServer, status: int, body: Any
) -> None:
    for refreshing in (False, True):
        error = oauth_error_of(capture, status, body, refreshing=refreshing)
        assert isinstance(error, ServerError)


def test_c34_200_carrying_an_error_is_an_error(capture: CaptureServer) -> None:
    error = oauth_error_of(capture, 200, {"error": "invalid_grant", **token_body()})
    assert type(error) is InvalidGrantError
    odd = oauth_error_of(capture, 200, {"error": 1, **token_body()})
    assert type(odd) is KitError


def test_c34_null_error_field_is_ignored(capture: CaptureServer) -> None:
    capture.answer(200, token_body(error=None))
    assert capture_client(capture).refresh("rt").access_token


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("<html><body>Proxy login</body></html>", id="html"),
        pytest.param([token_body()], id="json-array"),
        pytest.param({}, id="empty-object"),
        pytest.param(token_body(access_token=""), id="empty-access-token"),
        pytest.param(token_body(token_type="mac"), id="mac"),
        pytest.param(token_body(expires_in="3600"), id="expires-in-text"),
        pytest.param(b'{"access_token": "abc', id="truncated-json"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(b"[" * 50_000 + b"]" * 10_000, id="deeply-nested"),
        pytest.param(b"", id="empty"),
    ],
)
def test_c34_malformed_success_bodies(capture: CaptureServer, body: Any) -> None:
    error = oauth_error_of(capture, 200, body)
    assert isinstance(error, MalformedResponseError)


def test_c34_oversized_body_is_not_read(capture: CaptureServer) -> None:
    capture.answer(200, b'{"access_token": "' + b"a" * 200_000 + b'"}')
    with pytest.raises(NetworkError) as caught:
        capture_client(capture).refresh("rt")
    assert "larger" in caught.value.user_message


# --- 35: network faults during the exchange --------------------------------------------------


def test_c35_connection_refused() -> None:
    with refused_port() as port:
        base = f"http://127.0.0.1:{port}"
        client = OAuthClient(Settings().with_sandbox(base), timeouts=FAST)
        with pytest.raises(NetworkError) as caught:
            client.exchange("code", "v" * 43, REDIRECT_URI)
    assert not isinstance(caught.value, KitTimeoutError)
    assert "Could not reach Kit" in caught.value.user_message


def test_c35_read_timeout_is_a_timeout_and_the_code_is_sent_once(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox, timeouts=Timeouts(1, 0.2))
    code, verifier = code_for(sandbox, client)
    # Only the first request is slow: a retry would succeed, so the error proves there was none.
    sandbox.set_fault(TOKEN_PATH, Fault("delay", seconds=0.5, times=1))
    with pytest.raises(KitTimeoutError) as caught:
        client.exchange(code, verifier, REDIRECT_URI)
    assert "too long" in caught.value.user_message
    wait_until(lambda: sandbox.oauth.token_requests == 1)  # the slow request lands, once
    # The code was used by that one request: the creator has to start again.
    with pytest.raises(InvalidGrantError):
        sandbox_client(sandbox).exchange(code, verifier, REDIRECT_URI)


@pytest.mark.parametrize(
    ("kind", "error_class"),
    [
        ("drop", NetworkError),
        ("html", MalformedResponseError),
        ("malformed", MalformedResponseError),
    ],
)
@pytest.mark.parametrize("operation", ["exchange", "refresh"])
def test_c35_faults_give_typed_errors_and_no_resend(
    sandbox: SandboxServer, kind: FaultKind, error_class: type[KitError], operation: str
) -> None:
    client = sandbox_client(sandbox)
    code, verifier = code_for(sandbox, client)
    # Only the first request fails: a retry would reach the OAuth server and be counted.
    sandbox.set_fault(TOKEN_PATH, Fault(kind, times=1))
    call: Callable[[], TokenSet] = (
        (lambda: client.exchange(code, verifier, REDIRECT_URI))
        if operation == "exchange"
        else (lambda: client.refresh("rt-anything"))
    )
    with pytest.raises(error_class) as caught:
        call()
    if kind == "drop":
        assert not isinstance(caught.value, KitTimeoutError)
    assert sandbox.oauth.token_requests == 0
    assert caught.value.user_message


def test_c35_stall_mid_body_is_a_timeout(capture: CaptureServer) -> None:
    capture.answer(200, b'{"access_token": "abc', content_length=500, stall=True)
    client = OAuthClient(capture_settings(capture), timeouts=Timeouts(1, 0.2))
    with pytest.raises(KitTimeoutError):
        client.exchange("code", "v" * 43, REDIRECT_URI)
    assert len(capture.requests) == 1


def test_c35_reset_mid_body_is_a_network_error(capture: CaptureServer) -> None:
    capture.answer(200, b'{"access_token": "abc', content_length=500, close_early=True)
    with pytest.raises(NetworkError) as caught:
        capture_client(capture).exchange("code", "v" * 43, REDIRECT_URI)
    assert not isinstance(caught.value, KitTimeoutError)
    assert len(capture.requests) == 1


def test_c35_errors_never_carry_the_code_or_verifier(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    code, verifier = code_for(sandbox, client)
    sandbox.set_fault(TOKEN_PATH, Fault("drop", times=1))
    with pytest.raises(NetworkError) as caught:
        client.exchange(code, verifier, REDIRECT_URI)
    text = f"{caught.value} {caught.value.detail} {caught.value!r}"
    assert code not in text
    assert verifier not in text


# --- 36: TLS verification is never turned off ------------------------------------------------


def test_c36_no_verify_false_anywhere() -> None:
    root = Path(kit_desktop.__file__).parent
    offences: list[str] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"verify\s*=\s*(False|0|None)\b", text):
            offences.append(f"{path}: verify=False")
        for needle in ("CERT_NONE", "_create_unverified_context", "check_hostname = False"):
            if needle in text:
                offences.append(f"{path}: {needle}")
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "verify"
                and not (isinstance(node.value, ast.Constant) and node.value.value is True)
            ):
                offences.append(f"{path}:{node.value.lineno}: verify is not True")
    assert offences == []
    assert (root / "http.py").read_text(encoding="utf-8").count("verify=True") == 1


# --- real exchange, refresh and revoke against the sandbox ----------------------------------


def test_exchange_against_the_sandbox(sandbox: SandboxServer) -> None:
    clock = FakeClock(time.time())
    client = sandbox_client(sandbox, clock=clock)
    tokens = connect(sandbox, client)
    assert tokens.refresh_token
    assert tokens.scope == "public"
    assert tokens.received_at == clock.now
    assert tokens.expires_at is not None
    assert clock.now + 7000 < tokens.expires_at <= clock.now + 7200
    assert flow.api_get(sandbox.base_url, tokens.access_token, "/v4/account").status_code == 200
    assert sandbox.oauth.token_requests == 1


def test_c33_reused_code_is_invalid_grant(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    code, verifier = code_for(sandbox, client)
    client.exchange(code, verifier, REDIRECT_URI)
    with pytest.raises(InvalidGrantError) as caught:
        client.exchange(code, verifier, REDIRECT_URI)
    assert not isinstance(caught.value, ReconnectNeededError)


def test_c33_wrong_verifier_is_invalid_grant(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    code, _ = code_for(sandbox, client)
    other = client.new_attempt(REDIRECT_URI).verifier
    with pytest.raises(InvalidGrantError):
        client.exchange(code, other, REDIRECT_URI)


def test_c33_wrong_redirect_uri_is_invalid_grant(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    code, verifier = code_for(sandbox, client)
    with pytest.raises(InvalidGrantError):
        client.exchange(code, verifier, "http://127.0.0.1:53220/callback")


def test_c37_refresh_rotates_both_tokens(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    first = connect(sandbox, client)
    assert first.refresh_token is not None
    second = client.refresh(first.refresh_token)
    assert second.access_token != first.access_token
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.refresh_token is not None
    assert flow.api_get(sandbox.base_url, second.access_token, "/v4/account").status_code == 200
    with pytest.raises(ReconnectNeededError):
        client.refresh(first.refresh_token)
    assert client.refresh(second.refresh_token).access_token


def test_c37_refresh_without_rotation_keeps_the_refresh_token() -> None:
    with SandboxServer(auto_approve=True, rotate_refresh_tokens=False) as server:
        client = sandbox_client(server)
        first = connect(server, client)
        assert first.refresh_token is not None
        second = client.refresh(first.refresh_token)
        assert second.refresh_token == first.refresh_token
        assert second.access_token != first.access_token


def test_c38_unknown_refresh_token_needs_reconnect(sandbox: SandboxServer) -> None:
    with pytest.raises(ReconnectNeededError):
        sandbox_client(sandbox).refresh("never-issued-refresh-token")


def test_c44_revoke_then_refresh_needs_reconnect(sandbox: SandboxServer) -> None:
    client = sandbox_client(sandbox)
    tokens = connect(sandbox, client)
    assert tokens.refresh_token is not None
    client.revoke(tokens.refresh_token, "refresh_token")
    client.revoke(tokens.access_token, "access_token")
    with pytest.raises(ReconnectNeededError):
        client.refresh(tokens.refresh_token)
    assert flow.api_get(sandbox.base_url, tokens.access_token, "/v4/account").status_code == 401


def test_c44_revoke_unknown_token_succeeds(sandbox: SandboxServer) -> None:
    sandbox_client(sandbox).revoke("no-such-token", "refresh_token")


@pytest.mark.parametrize("status", [500, 503])
def test_c44_revoke_server_error_raises(sandbox: SandboxServer, status: int) -> None:
    sandbox.set_fault(REVOKE_PATH, Fault("status", status=status, times=1))
    with pytest.raises(RevokeRefusedError) as caught:
        sandbox_client(sandbox).revoke("some-token", "refresh_token")
    assert caught.value.status == status
    assert caught.value.user_message == f"Kit said (HTTP {status}): “Simulated failure.”"


def test_c44_revoke_network_error_raises(sandbox: SandboxServer) -> None:
    sandbox.set_fault(REVOKE_PATH, Fault("drop", times=1))
    with pytest.raises(NetworkError):
        sandbox_client(sandbox).revoke("some-token", "refresh_token")


def test_c44_revoke_refusal_is_typed(capture: CaptureServer) -> None:
    capture.answer(400, {"error": "invalid_request", "error_description": "token missing"})
    with pytest.raises(RevokeRefusedError) as caught:
        capture_client(capture).revoke("t", "refresh_token")
    assert caught.value.kit_message == "token missing"
    capture.answer(400, {"error": "unsupported_token_type"})
    with pytest.raises(RevokeRefusedError) as caught:
        capture_client(capture).revoke("t", "refresh_token")
    assert caught.value.kit_message == "unsupported_token_type"
    capture.answer(403, {"errors": ["Not allowed", 7, "for this app"]})
    with pytest.raises(RevokeRefusedError) as caught:
        capture_client(capture).revoke("t", "refresh_token")
    assert caught.value.kit_message == "Not allowed for this app"
    capture.answer(502, b"<html>\x00gateway</html>")
    with pytest.raises(RevokeRefusedError) as caught:
        capture_client(capture).revoke("t", "refresh_token")
    assert caught.value.user_message == "Kit said (HTTP 502): “Bad Gateway.”"


# --- 58: ~/.netrc is never used --------------------------------------------------------------


@pytest.mark.parametrize("via", ["HOME", "NETRC"])
def test_c58_netrc_is_not_used(
    capture: CaptureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin netrc-user\npassword netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    if via == "NETRC":
        other = tmp_path / "elsewhere"
        other.mkdir()
        netrc = netrc.rename(other / "netrc")
        monkeypatch.setenv("NETRC", str(netrc))
    else:
        monkeypatch.delenv("NETRC", raising=False)
    capture.answer(200, token_body())
    # Control: plain requests does pick the file up, so the file is really in effect.
    requests.post(f"{capture.url}/control", data={"a": "b"}, timeout=5).close()
    assert (capture.requests[0].header("Authorization") or "").startswith("Basic ")

    client = capture_client(capture)
    client.exchange("code", "v" * 43, REDIRECT_URI)
    client.refresh("rt")
    client.revoke("rt", "refresh_token")
    assert len(capture.requests) == 4
    assert [r.header("Authorization") for r in capture.requests[1:]] == [None, None, None]


@pytest.mark.parametrize(
    ("words", "code"),
    [
        (
            "The provided authorization grant is invalid, expired, revoked, does not match the "
            "redirection URI used in the authorization request, or was issued to another client.",
            "invalid_grant",
        ),
        (
            "Client authentication failed due to unknown client, no client authentication "
            "included, or unsupported authentication method.",
            "invalid_client",
        ),
        (
            "The authorization grant type is not supported by the authorization server.",
            "unsupported_grant_type",
        ),
        ("The requested scope is invalid, unknown, or malformed.", "invalid_scope"),
        ("The refresh_token parameter is missing.", "invalid_request"),
        ("Something Kit has never said before", ""),
    ],
)
def test_kits_errors_shape_is_read_back_to_the_oauth_code(words: str, code: str) -> None:
    """Kit (Doorkeeper) may answer ``{"errors": [description]}`` with no ``error`` code."""
    from kit_desktop.auth.oauth import _code_from_kit_words

    assert _code_from_kit_words({"errors": [words]}) == code
    assert _code_from_kit_words({"error": "invalid_grant"}) is None  # RFC shape: read as is
