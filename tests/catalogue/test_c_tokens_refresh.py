"""Catalogue C37-C40: refresh with rotation, refusal, transient faults and a lost answer.

The real sandbox rotates refresh tokens (single use) and its fault knobs break the token
endpoint; tokens live in the real token store over a keyring look-alike (or the real
Secret Service), and the app's own HTTP session notes which refresh token went out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest
from keyring.backend import KeyringBackend
from pytestqt.qtbot import QtBot

from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import KeyringTokenStore, SessionTokenStore, profile_key
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.errors import (
    KitError,
    KitTimeoutError,
    NetworkError,
    ReconnectNeededError,
    ServerError,
)
from kit_desktop.http import Timeouts
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.services import Services
from kit_desktop.state import Phase
from tests.catalogue.cd_helpers import (
    FAST,
    REDIRECT_URI,
    SLOW_FAULT,
    Answer,
    FakeClock,
    Hostile,
    RecordingSession,
    Sent,
    assert_plain,
    endpoint_settings,
    make_services,
    sandbox_settings,
    sign_in_directly,
    throwaway_secret_service,
    wait_until,
)
from tests.catalogue.cd_session import (
    Rig,
    connect,
    launch,
    stored_data,
    tick,
    wait_phase,
)
from tests.helpers import flow
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.ports import refused_port, unanswered_port
from tests.helpers.realparts import require
from tests.helpers.user_browser import UserBrowser

TOKEN_PATH = "/v4/oauth/token"


@dataclass
class World:
    """A sandbox on a hand-moved clock, and the app's services signed in to it."""

    kit: SandboxServer
    clock: FakeClock
    backend: MemoryKeyring
    http: RecordingSession
    services: Services
    first: TokenSet

    def refresh_posts(self) -> list[Sent]:
        posts = self.http.posts_to(self.services.settings.token_url)
        return [p for p in posts if p.data.get("grant_type") == "refresh_token"]

    def sent_refresh_tokens(self) -> list[str]:
        return [p.data["refresh_token"] for p in self.refresh_posts()]

    def expire(self) -> None:
        tokens = self.services.tokens.tokens
        assert tokens is not None and tokens.expires_at is not None
        self.clock.now = tokens.expires_at + 1

    def manager(self, client: OAuthClient) -> TokenManager:
        """Another manager on the same keyring entry, refreshing through ``client``."""
        profile = profile_key(self.services.settings.token_url, SANDBOX_CLIENT_ID)
        store = SessionTokenStore(KeyringTokenStore(profile, backend=self.backend))
        return TokenManager(client, store, clock=self.clock)


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock()
    with SandboxServer(
        client_id=SANDBOX_CLIENT_ID,
        loopback_any_port=True,
        redirect_uris=[REDIRECT_URI],
        auto_approve=True,
        token_lifetime=3600,
        clock=clock,
    ) as kit:
        backend, http = MemoryKeyring(), RecordingSession()
        services = make_services(sandbox_settings(kit.base_url), backend, session=http, clock=clock)
        first = sign_in_directly(services)
        yield World(kit, clock, backend, http, services, first)


def connected_session(
    qtbot: QtBot,
    rig: Rig,
    kit: SandboxServer,
    *,
    timeouts: Timeouts = FAST,
    clock: FakeClock | None = None,
) -> tuple[KitSession, MemoryKeyring, RecordingSession]:
    backend, http = MemoryKeyring(), RecordingSession()
    settings = sandbox_settings(kit.base_url)
    app_clock: Callable[[], float] = time.time if clock is None else clock
    services = make_services(settings, backend, session=http, timeouts=timeouts, clock=app_clock)
    session = rig.session(services, browser=UserBrowser("allow"), clock=clock or FakeClock())
    launch(qtbot, session)
    connect(qtbot, session)
    return session, backend, http


def refresh_tokens_sent(session: KitSession, http: RecordingSession) -> list[str]:
    posts = http.posts_to(session.services.settings.token_url)
    return [p.data["refresh_token"] for p in posts if p.data["grant_type"] == "refresh_token"]


def current(session: KitSession) -> TokenSet:
    tokens = session.services.tokens.tokens
    assert tokens is not None
    return tokens


def current_refresh_token(session: KitSession) -> str:
    refresh = current(session).refresh_token
    assert refresh is not None
    return refresh


# --- 37: refresh with rotation -------------------------------------------------------------


def test_c37_rotation_is_stored_read_back_and_the_old_token_never_sent_again(
    world: World,
) -> None:
    issued = [world.first]
    world.backend.calls.clear()
    for _ in range(3):
        world.expire()
        issued.append(world.services.tokens.valid_tokens())

    assert world.sent_refresh_tokens() == [t.refresh_token for t in issued[:-1]]
    assert len({t.refresh_token for t in issued}) == 4  # a new refresh token every time
    assert world.backend.calls == ["set", "get"] * 3  # each write is read back at once
    stored = stored_data(world.backend)
    assert stored is not None
    assert (stored["access_token"], stored["refresh_token"]) == (
        issued[-1].access_token,
        issued[-1].refresh_token,
    )
    next_run = make_services(world.services.settings, world.backend, clock=world.clock)
    assert next_run.tokens.tokens == issued[-1]
    for old in issued[:-1]:  # Kit agrees: every earlier refresh token is dead
        assert flow.refresh(world.kit.base_url, old.refresh_token or "").status_code == 400


def test_c37_an_answer_without_a_refresh_token_keeps_the_old_one_in_the_keyring() -> None:
    first = {"access_token": "at-first-000", "token_type": "Bearer", "expires_in": 3600}
    with Hostile(Answer.json(200, {**first, "refresh_token": "rt-keep-me-0001"})) as server:
        backend = MemoryKeyring()
        services = make_services(endpoint_settings(server.url), backend)
        services.tokens.adopt(services.oauth.exchange("code", "v" * 43, REDIRECT_URI))
        server.answer(Answer.json(200, {**first, "access_token": "at-second-111"}))

        renewed = services.tokens.refresh()

        assert server.posts("/token")[-1].form()["refresh_token"] == "rt-keep-me-0001"
    assert (renewed.access_token, renewed.refresh_token) == ("at-second-111", "rt-keep-me-0001")
    assert stored_data(backend) == {**renewed.to_payload()}
    assert make_services(endpoint_settings(server.url), backend).tokens.tokens == renewed


@pytest.mark.real_keyring
def test_c37_rotation_lands_in_the_real_secret_service() -> None:
    require(throwaway_secret_service(), "a Secret Service (run through tests/run-suite.sh)")
    from keyring.backends import SecretService

    client_id = f"c37-{uuid.uuid4().hex}"
    with SandboxServer(client_id=client_id, loopback_any_port=True, auto_approve=True) as kit:
        settings = sandbox_settings(kit.base_url, client_id=client_id)
        backend: KeyringBackend = SecretService.Keyring()  # type: ignore[no-untyped-call]
        services = make_services(settings, backend)
        try:
            first = sign_in_directly(services)
            renewed = services.tokens.refresh()
            fresh: KeyringBackend = SecretService.Keyring()  # type: ignore[no-untyped-call]
            again = make_services(settings, fresh).tokens.tokens
            assert services.store.is_secure
        finally:
            services.tokens.forget()
    assert again == renewed
    assert renewed.refresh_token not in (None, first.refresh_token)


# --- 38: the refresh token is refused ------------------------------------------------------

SANDBOX_WHO = "Sandbox Creator Studio (creator@example.com)"


def test_reconnect_needed_at_launch_names_the_account_it_was_for(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    """Kit refuses the saved connection at the next start: which account to reconnect?"""
    session, backend, _ = connected_session(qtbot, rig, kit)
    tokens = session.services.tokens.tokens
    assert tokens is not None and tokens.refresh_token is not None
    session.services.oauth.revoke(tokens.refresh_token, "refresh_token")
    session.services.oauth.revoke(tokens.access_token, "access_token")

    later = rig.session(make_services(sandbox_settings(kit.base_url), backend))
    launch(qtbot, later)
    wait_phase(qtbot, later, Phase.RECONNECT_NEEDED)

    assert later.view.headline == f"Reconnect needed for {SANDBOX_WHO}"
    later.disconnect_account()  # forgets whose it was, too
    wait_phase(qtbot, later, Phase.NOT_CONNECTED)
    assert later.accounts.recall() is None


def test_c38_a_revoked_refresh_token_signs_out_once_without_a_retry_loop(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    session, backend, http = connected_session(qtbot, rig, kit)
    session.services.oauth.revoke(current_refresh_token(session), "refresh_token")

    session.refresh_now()
    wait_phase(qtbot, session, Phase.RECONNECT_NEEDED)

    assert session.view.headline == f"Reconnect needed for {SANDBOX_WHO}"
    assert session.view.detail == ReconnectNeededError.default_message
    assert "reconnect" in session.view.detail.lower()
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None
    session.refresh_now()  # clicking again, and the renewal timer, do not try again
    tick(session)
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)
    assert len(refresh_tokens_sent(session, http)) == 1


def test_c38_an_api_call_with_a_dead_refresh_token_tries_one_refresh(world: World) -> None:
    world.services.oauth.revoke(world.first.refresh_token or "", "refresh_token")
    world.kit.oauth.expire_access_token(world.first.access_token)

    with pytest.raises(ReconnectNeededError):
        world.services.api.request("GET", "/v4/account")

    assert world.sent_refresh_tokens() == [world.first.refresh_token]
    assert stored_data(world.backend) is None
    with pytest.raises(KitError):
        world.services.api.request("GET", "/v4/account")  # not connected: no new attempt
    assert len(world.refresh_posts()) == 1


# --- 39: a transient refresh failure keeps the refresh token -------------------------------

TRANSIENT: dict[str, tuple[Fault | str, type[KitError]]] = {
    "500": (Fault("status", status=500, times=1), ServerError),
    "502": (Fault("status", status=502, times=1), ServerError),
    "503": (Fault("status", status=503, times=1), ServerError),
    "429": (Fault("status", status=429, times=1), ServerError),
    "connect-timeout": ("unanswered", KitTimeoutError),
    "dns-failure": ("dns", NetworkError),
    "connection-refused": ("refused", NetworkError),
}


def failing_client(world: World, fault: Fault | str, refused: int, unanswered: int) -> OAuthClient:
    """The app's client, with the sandbox's token endpoint broken by ``fault``."""
    if isinstance(fault, Fault):
        world.kit.set_fault(TOKEN_PATH, fault)
        return world.services.oauth
    origin = {
        "refused": f"http://127.0.0.1:{refused}",
        "unanswered": f"http://127.0.0.1:{unanswered}",
        "dns": "https://kit-desktop-test.invalid",
    }[fault]
    settings = replace(world.services.settings, token_url=f"{origin}/token")
    return OAuthClient(settings, session=world.http, timeouts=SLOW_FAULT)


@pytest.mark.parametrize("kind", TRANSIENT.keys())
def test_c39_a_transient_refresh_failure_keeps_the_refresh_token(world: World, kind: str) -> None:
    fault, error_class = TRANSIENT[kind]
    world.expire()
    with refused_port() as refused, unanswered_port() as unanswered:
        manager = world.manager(failing_client(world, fault, refused, unanswered))
        with pytest.raises(error_class) as caught:
            manager.valid_tokens()

    assert_plain(caught.value.user_message, world.first.refresh_token or "")
    assert manager.tokens == world.first
    stored = stored_data(world.backend)
    assert stored is not None and stored["refresh_token"] == world.first.refresh_token
    assert "delete" not in world.backend.calls
    renewed = world.services.tokens.valid_tokens()  # the kept refresh token still works
    assert world.sent_refresh_tokens()[-1] == world.first.refresh_token
    assert renewed.refresh_token != world.first.refresh_token


def test_c39_the_window_says_try_again_and_backs_off(
    qtbot: QtBot, kit: SandboxServer, rig: Rig
) -> None:
    clock = FakeClock()
    session, backend, http = connected_session(qtbot, rig, kit, clock=clock)
    tokens = session.view.tokens
    assert tokens is not None and tokens.expires_at is not None
    old_refresh = current_refresh_token(session)
    kit.set_fault(TOKEN_PATH, Fault("status", status=503))

    def renew_at(now: float) -> int:
        clock.now = now
        tick(session)
        qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
        return len(refresh_tokens_sent(session, http))

    due = tokens.expires_at - 30
    assert renew_at(due) == 1
    assert session.view.phase is Phase.CONNECTED
    assert session.view.refresh_error == ServerError.default_message
    assert renew_at(due) == 1  # backing off: no second request at once
    assert renew_at(due + 29) == 1
    assert renew_at(due + 31) == 2  # after 30 s, one more try
    assert renew_at(due + 31 + 59) == 2  # then the wait doubles
    assert renew_at(due + 31 + 61) == 3
    assert set(refresh_tokens_sent(session, http)) == {old_refresh}
    stored = stored_data(backend)
    assert stored is not None and stored["refresh_token"] == old_refresh
    assert session.view.tokens is not None
    assert session.view.tokens.access_token == tokens.access_token


# --- 40: the refresh answer is lost -------------------------------------------------------


@pytest.mark.parametrize("loss", ["reset-after-rotation", "read-timeout-after-rotation"])
def test_c40_a_lost_refresh_answer_ends_in_one_clean_sign_out(
    qtbot: QtBot, kit: SandboxServer, rig: Rig, loss: str
) -> None:
    slow = loss == "read-timeout-after-rotation"
    session, backend, http = connected_session(qtbot, rig, kit, timeouts=SLOW_FAULT)
    old_access = current(session).access_token
    old_refresh = current_refresh_token(session)
    fault = Fault("delay", seconds=0.6, times=1) if slow else Fault("drop_after", times=1)
    kit.set_fault(TOKEN_PATH, fault)

    session.refresh_now()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=5000)
    wait_until(lambda: kit.oauth.refresh_requests == 1)  # Kit rotated; the app never heard

    assert session.view.phase is Phase.CONNECTED
    assert session.view.refresh_error == (
        KitTimeoutError.default_message if slow else NetworkError.default_message
    )
    assert session.view.tokens is not None and session.view.tokens.access_token == old_access
    session.refresh_now()  # the creator tries again: Kit refuses the replayed token
    wait_phase(qtbot, session, Phase.RECONNECT_NEEDED)
    tick(session)
    session.refresh_now()
    qtbot.waitUntil(lambda: not session.busy, timeout=5000)

    assert refresh_tokens_sent(session, http) == [old_refresh, old_refresh]
    assert kit.oauth.refresh_requests == 2
    assert stored_data(backend) is None
    assert session.services.tokens.tokens is None
