"""Catalogue C31-C35: the code exchange, on the wire and in the window, against hostile servers.

The real sandbox plays Kit (authorize, consent, tokens); where a case needs Kit to answer
something it never would, a hostile server on a real socket stands in for the token
endpoint only, while the browser still signs in at the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.config import KIT_TOKEN_URL, SANDBOX_CLIENT_ID, Settings
from kit_desktop.errors import (
    ClientConfigError,
    ConfigError,
    InvalidGrantError,
    KitError,
    TokenEndpointRedirectError,
)
from kit_desktop.http import NO_AUTH, Timeouts
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.state import Phase
from tests.catalogue.cd_helpers import (
    FAST,
    REDIRECT_URI,
    SLOW_FAULT,
    Answer,
    Hostile,
    RecordingSession,
    Then,
    assert_plain,
    endpoint_settings,
    make_services,
    sandbox_settings,
    wait_until,
)
from tests.catalogue.cd_session import (
    LoopProbe,
    Rig,
    launch,
    stored_data,
    wait_phase,
)
from tests.catalogue.cd_tls import server_context
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.ports import refused_port, unanswered_port
from tests.helpers.user_browser import UserBrowser

TOKEN_PATH = "/v4/oauth/token"
VERIFIER = "v" * 43


def token_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": "at-" + "A" * 40,
        "token_type": "Bearer",
        "expires_in": 7200,
        "refresh_token": "rt-" + "R" * 40,
        "scope": "public",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_in_failing(
    qtbot: QtBot, rig: Rig, kit: SandboxServer, token_origin: str, timeouts: Timeouts = FAST
) -> tuple[KitSession, MemoryKeyring, LoopProbe]:
    """Sign in at the sandbox while the token endpoint is ``token_origin``; wait for FAILED."""
    backend = MemoryKeyring()
    settings = endpoint_settings(token_origin, authorize=kit.base_url, api_url=kit.base_url)
    services = make_services(settings, backend, timeouts=timeouts)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    probe = LoopProbe(session)
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED)
    probe.stop()
    return session, backend, probe


# --- 31: the token request's shape --------------------------------------------------------


def test_c31_exchange_is_a_form_post_with_exactly_the_rfc_fields() -> None:
    with Hostile(Answer.json(200, token_body())) as server:
        http = RecordingSession()
        client = OAuthClient(endpoint_settings(server.url), session=http, timeouts=FAST)
        attempt = client.new_attempt(REDIRECT_URI)
        client.exchange("the-code-123", attempt.verifier, attempt.redirect_uri)

    [seen] = server.seen
    assert (seen.method, seen.path) == ("POST", "/token")
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form() == {
        "grant_type": "authorization_code",
        "code": "the-code-123",
        "client_id": SANDBOX_CLIENT_ID,
        "code_verifier": attempt.verifier,
        "redirect_uri": attempt.redirect_uri,
    }
    # Byte-identical to the authorization request's redirect_uri, as encoded on the wire.
    in_url = next(p for p in urlsplit(attempt.url).query.split("&") if p.startswith("redirect_"))
    assert in_url.encode() in seen.body.split(b"&")
    assert b"client_secret" not in seen.body
    assert "authorization" not in seen.headers
    [sent] = http.sent
    assert sent.kwargs["allow_redirects"] is False
    assert sent.kwargs["timeout"] == (FAST.connect, FAST.read)
    assert sent.kwargs["verify"] is True
    assert sent.kwargs["auth"] is NO_AUTH  # never ~/.netrc credentials


def test_c31_sign_in_sends_the_redirect_uri_and_verifier_the_browser_saw(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    http = RecordingSession()
    backend = MemoryKeyring()
    services = make_services(sandbox_settings(kit.base_url), backend, session=http)
    browser = UserBrowser("allow")
    session = rig.session(services, browser=browser)
    launch(qtbot, session)

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.CONNECTED)

    [post] = http.posts_to(services.settings.token_url)
    query = parse_qs(urlsplit(browser.visits[0].consent_url).query)
    assert post.data["redirect_uri"] == query["redirect_uri"][0]
    assert urlsplit(post.data["redirect_uri"]).port not in (None, 0)
    assert s256(post.data["code_verifier"]) == query["code_challenge"][0]
    assert post.data["grant_type"] == "authorization_code"
    assert "client_secret" not in post.data
    assert all(s.kwargs["allow_redirects"] is False for s in http.sent)
    assert all(s.kwargs["timeout"] == (FAST.connect, FAST.read) for s in http.sent)
    assert stored_data(backend) is not None


def test_c31_token_endpoint_must_be_https() -> None:
    assert KIT_TOKEN_URL.startswith("https://")
    for url in ("http://api.kit.com/v4/oauth/token", "ftp://api.kit.com/t", "//api.kit.com/t"):
        with pytest.raises(ConfigError, match="https"):
            OAuthClient(Settings(client_id="abc", token_url=url))
    OAuthClient(Settings(client_id="abc"))  # the real https endpoints are accepted


# --- 32: redirects from the token endpoint ------------------------------------------------


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("operation", ["exchange", "refresh", "revoke"])
def test_c32_a_redirect_never_takes_the_code_or_tokens_elsewhere(
    status: int, operation: str
) -> None:
    with Hostile() as evil, Hostile() as server:
        server.answer(Answer(status, headers={"Location": f"{evil.url}/steal"}))
        client = OAuthClient(endpoint_settings(server.url), timeouts=FAST)
        calls: dict[str, Callable[[], object]] = {
            "exchange": lambda: client.exchange("single-use-code", VERIFIER, REDIRECT_URI),
            "refresh": lambda: client.refresh("precious-refresh-token"),
            "revoke": lambda: client.revoke("precious-refresh-token", "refresh_token"),
        }
        with pytest.raises(TokenEndpointRedirectError) as caught:
            calls[operation]()
        assert len(server.seen) == 1
    assert evil.seen == []
    message = caught.value.user_message
    assert f"answered with a redirect to {evil.url}/steal." in message
    # Where it pointed is named on purpose; the rest is plain words.
    assert_plain(
        message.replace(evil.url, "elsewhere"), "single-use-code", "precious-refresh-token"
    )


def test_c32_sign_in_redirected_to_another_host_fails_and_stores_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    with Hostile(Answer.json(200, token_body())) as evil:
        kit.set_fault(TOKEN_PATH, Fault("redirect", location=f"{evil.url}/token"))
        backend = MemoryKeyring()
        session = rig.session(
            make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser("allow")
        )
        launch(qtbot, session)
        session.connect_to_kit()
        wait_phase(qtbot, session, Phase.FAILED)

    assert evil.seen == []
    assert f"answered with a redirect to {evil.url}/token." in session.view.detail
    assert "KIT_TOKEN_URL" in session.view.detail
    assert_plain(session.view.detail.replace(evil.url, "elsewhere"))
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None


# --- 33: RFC 6749 section 5.2 errors ----------------------------------------------------


def test_c33_invalid_grant_on_sign_in_says_the_link_expired_and_stores_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    refusal = {"error": "invalid_grant", "error_description": "The grant is invalid."}
    with Hostile(Answer.json(400, refusal)) as server:
        session, backend, _ = sign_in_failing(qtbot, rig, kit, server.url)
        assert len(server.posts("/token")) == 1

    assert session.view.detail == InvalidGrantError.default_message
    assert "expired or was already used" in session.view.detail
    assert session.view.last_error_code == "InvalidGrantError"
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None


CONFIG_ERRORS = [
    "invalid_client",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_request",
]


def test_c33_configuration_errors_get_distinct_plain_messages() -> None:
    messages: dict[str, str] = {}
    with Hostile() as server:
        client = OAuthClient(endpoint_settings(server.url), timeouts=FAST)
        for code in CONFIG_ERRORS:
            server.answer(Answer.json(400, {"error": code, "error_description": "x"}))
            with pytest.raises(ClientConfigError) as caught:
                client.exchange("code", VERIFIER, REDIRECT_URI)
            assert caught.value.code == code
            assert_plain(caught.value.user_message)
            messages[code] = caught.value.user_message
    assert len(set(messages.values())) == len(CONFIG_ERRORS)
    assert InvalidGrantError.default_message not in messages.values()


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"WWW-Authenticate": 'Basic realm="kit"'}, {"error": "invalid_client"}),
        ({"WWW-Authenticate": 'Basic realm="kit"'}, None),
    ],
    ids=["with-body", "bare-401"],
)
def test_c33_invalid_client_as_401_with_www_authenticate(
    headers: dict[str, str], body: object
) -> None:
    answer = Answer(401, b"", headers) if body is None else Answer.json(401, body, headers=headers)
    with Hostile(answer) as server, pytest.raises(ClientConfigError) as caught:
        OAuthClient(endpoint_settings(server.url), timeouts=FAST).refresh("rt")
    assert caught.value.code == "invalid_client"
    assert "client ID was refused" in caught.value.user_message


def test_c33_unknown_error_is_generic_and_its_description_is_cut_and_never_shown() -> None:
    description = "<script>alert(1)</script>" + "x" * 5000
    answer = Answer.json(400, {"error": "odd_thing", "error_description": description})
    with Hostile(answer) as server, pytest.raises(KitError) as caught:
        OAuthClient(endpoint_settings(server.url), timeouts=FAST).exchange(
            "c", VERIFIER, REDIRECT_URI
        )
    error = caught.value
    assert type(error) is KitError
    assert error.user_message.startswith("Kit refused the request.")
    assert "script" not in error.user_message
    assert_plain(error.user_message)
    assert "odd_thing" in error.detail
    assert len(error.detail) < 400  # the description is truncated for the log


# --- 34: malformed success bodies ---------------------------------------------------------

MALFORMED = {
    "html-from-a-proxy": Answer(
        200, b"<html><body>Proxy</body></html>", {"Content-Type": "text/html"}
    ),
    "json-array": Answer.json(200, [token_body()]),
    "empty-object": Answer.json(200, {}),
    "no-access-token": Answer.json(200, token_body(access_token=...)),
    "empty-access-token": Answer.json(200, token_body(access_token="")),
    "numeric-access-token": Answer.json(200, token_body(access_token=12345)),
    "mac-token-type": Answer.json(200, token_body(token_type="mac")),
    "expires-in-text": Answer.json(200, token_body(expires_in="3600")),
    "expires-in-negative": Answer.json(200, token_body(expires_in=-5)),
    "expires-in-zero": Answer.json(200, token_body(expires_in=0)),
    "expires-in-1e12": Answer(200, b'{"access_token":"at-xyz1234","expires_in":1e12}'),
    "expires-in-abc": Answer.json(200, token_body(expires_in="abc")),
    "200-with-error": Answer.json(200, {"error": "invalid_grant", **token_body()}),
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_c34_a_malformed_success_body_stores_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, answer: Answer
) -> None:
    with Hostile(answer) as server:
        session, backend, _ = sign_in_failing(qtbot, rig, kit, server.url)
        assert len(server.posts("/token")) == 1

    assert_plain(session.view.detail)
    assert session.view.last_error_code in ("MalformedResponseError", "InvalidGrantError")
    assert stored_data(backend) is None
    assert backend.calls.count("set") == 0
    assert session.services.tokens.tokens is None


@pytest.mark.parametrize(
    ("body", "expires_in"),
    [
        (token_body(extra_field={"nested": True}, created_at="soon"), 7200),
        (token_body(token_type=...), 7200),
        (token_body(token_type="bearer"), 7200),
        (token_body(token_type="BEARER", expires_in=10**12), 7 * 24 * 3600),
        (token_body(expires_in=None), None),
    ],
    ids=["unknown-fields", "no-token-type", "lower-bearer", "huge-clamped", "null-expiry"],
)
def test_c34_tolerated_variants_are_accepted(body: dict[str, Any], expires_in: int | None) -> None:
    with Hostile(Answer.json(200, body)) as server:
        tokens = OAuthClient(endpoint_settings(server.url), timeouts=FAST).exchange(
            "code", VERIFIER, REDIRECT_URI
        )
    assert tokens.access_token == body["access_token"]
    assert tokens.token_type == "Bearer"
    left = tokens.seconds_left(tokens.received_at)
    assert left == expires_in


# --- 35: network faults during the exchange -----------------------------------------------

PARTIAL = b'{"access_token": "at-partial-'
NETWORK_FAULTS = {
    "dns-failure": ("NetworkError", False),
    "connection-refused": ("NetworkError", False),
    "tls-failure": ("NetworkError", False),
    "connect-timeout": ("KitTimeoutError", True),
    "read-timeout-mid-body": ("KitTimeoutError", True),
    "reset-mid-body": ("NetworkError", False),
    "closed-without-answer": ("NetworkError", False),
}


def _token_origin(kind: str, stack: ExitStack, tmp_path: Path) -> tuple[str, Hostile | None]:
    if kind == "dns-failure":
        return "https://kit-desktop-test.invalid", None
    if kind == "connection-refused":
        return f"http://127.0.0.1:{stack.enter_context(refused_port())}", None
    if kind == "connect-timeout":
        return f"http://127.0.0.1:{stack.enter_context(unanswered_port())}", None
    if kind == "tls-failure":
        server = Hostile(Answer.json(200, token_body()), tls=server_context(tmp_path))
    else:
        endings: dict[str, Then] = {"read-timeout-mid-body": "stall", "reset-mid-body": "reset"}
        headers = {"Content-Type": "application/json"}
        server = Hostile(Answer(200, PARTIAL, headers, 400, endings.get(kind, "close")))
    return stack.enter_context(server).url, server


@pytest.mark.parametrize("kind", NETWORK_FAULTS.keys())
def test_c35_network_fault_during_sign_in_is_clear_and_stores_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, tmp_path: Path, kind: str
) -> None:
    error_code, slow = NETWORK_FAULTS[kind]
    with ExitStack() as stack:
        origin, server = _token_origin(kind, stack, tmp_path)
        session, backend, probe = sign_in_failing(qtbot, rig, kit, origin, SLOW_FAULT)
        if kind == "tls-failure":
            assert server is not None
            wait_until(lambda: server.handshake_failures >= 1)
        if server is not None:
            assert len(server.seen) <= 1  # the single-use code is never sent twice

    assert session.view.last_error_code == error_code
    assert_plain(session.view.detail)
    if kind == "tls-failure":
        assert "could not be verified" in session.view.detail
        assert server is not None and server.seen == []
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None
    if slow:  # the window kept running while the app waited for Kit
        assert probe.during(Phase.FINISHING) > 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_c35_a_server_error_during_sign_in_is_clear_and_stores_nothing(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, status: int
) -> None:
    http, backend = RecordingSession(), MemoryKeyring()
    services = make_services(sandbox_settings(kit.base_url), backend, session=http)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    kit.set_fault(TOKEN_PATH, Fault("status", status=status, times=1))

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED)

    assert (
        session.view.detail == "Kit is having trouble right now. Please try again in a few minutes."
    )
    assert len(http.posts_to(services.settings.token_url)) == 1  # the code was not sent again
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None


def test_c35_a_lost_exchange_answer_is_not_resent_and_a_new_attempt_works(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    http = RecordingSession()
    backend = MemoryKeyring()
    services = make_services(sandbox_settings(kit.base_url), backend, session=http)
    session = rig.session(services, browser=UserBrowser("allow"))
    launch(qtbot, session)
    kit.set_fault(TOKEN_PATH, Fault("drop_after", times=1))  # Kit used the code; answer lost

    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.FAILED)

    assert session.view.last_error_code == "NetworkError"
    assert kit.oauth.token_requests == 1
    assert stored_data(backend) is None
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.CONNECTED)
    first, second = http.posts_to(services.settings.token_url)
    assert first.data["code"] != second.data["code"]
    assert first.data["code_verifier"] != second.data["code_verifier"]
    assert kit.oauth.token_requests == 2
