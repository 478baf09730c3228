"""Catalogue C41-C44: single-flight refresh, expiry maths, 401/403 from the API, revocation.

The API client, token manager and CLI run against the real sandbox (on a hand-moved
clock), with a hostile API server where a case needs headers the sandbox never sends.
"""

from __future__ import annotations

import argparse
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.api.client import ApiResponse
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.cli import Cli, add_commands
from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.errors import ApiError
from kit_desktop.qt.api_requests import ApiRequests
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.services import Services
from kit_desktop.state import Phase
from kit_desktop.words import api_problem
from tests.catalogue.cd_helpers import (
    FAST,
    REDIRECT_URI,
    Answer,
    FakeClock,
    Hostile,
    RecordingSession,
    Script,
    Seen,
    Sent,
    assert_plain,
    endpoint_settings,
    make_services,
    sandbox_settings,
    sign_in_directly,
)
from tests.catalogue.cd_session import (
    Rig,
    connect,
    launch,
    stored_data,
    wait_phase,
)
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.ports import refused_port
from tests.helpers.user_browser import UserBrowser

TOKEN_PATH = "/v4/oauth/token"
REVOKE_PATH = "/v4/oauth/revoke"
LIFETIME = 3600


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

    def calls_to(self, method: str, path: str) -> list[Sent]:
        url = self.kit.base_url + path
        return [s for s in self.http.sent if s.method == method and s.url == url]

    def works(self, tokens: TokenSet) -> bool:
        return self.kit.oauth.check_access_token(tokens.access_token).status == "ok"


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock()
    with SandboxServer(
        client_id=SANDBOX_CLIENT_ID,
        loopback_any_port=True,
        redirect_uris=[REDIRECT_URI],
        auto_approve=True,
        token_lifetime=LIFETIME,
        clock=clock,
    ) as kit:
        backend, http = MemoryKeyring(), RecordingSession()
        services = make_services(sandbox_settings(kit.base_url), backend, session=http, clock=clock)
        first = sign_in_directly(services)
        yield World(kit, clock, backend, http, services, first)


def bearer(sent: Sent) -> str:
    headers = sent.kwargs["headers"]
    assert isinstance(headers, dict)
    return str(headers["Authorization"])


# --- 41: single-flight refresh -------------------------------------------------------------


def test_c41_ten_api_calls_with_an_expired_token_make_one_refresh(world: World) -> None:
    assert world.first.expires_at is not None
    world.clock.now = world.first.expires_at + 1
    world.kit.set_fault(TOKEN_PATH, Fault("delay", seconds=0.05, times=1))  # keep it in flight
    start = threading.Barrier(10)
    answers: list[ApiResponse] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            start.wait(5)
            answer = world.services.api.request("GET", "/v4/account")
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert [a.status for a in answers] == [200] * 10
    [refresh] = world.refresh_posts()
    assert refresh.data["refresh_token"] == world.first.refresh_token
    renewed = world.services.tokens.tokens
    assert renewed is not None and renewed.access_token != world.first.access_token
    gets = world.calls_to("GET", "/v4/account")
    assert {bearer(g) for g in gets} == {f"Bearer {renewed.access_token}"}
    assert len(gets) == 10


# --- 42: expiry maths and clock skew ----------------------------------------------------


def test_c42_the_token_counts_as_expired_sixty_seconds_early(world: World) -> None:
    assert world.first.expires_at == world.clock.now + LIFETIME
    world.clock.now = world.first.expires_at - 61
    assert world.services.tokens.valid_tokens() is world.first
    assert world.refresh_posts() == []
    world.clock.now = world.first.expires_at - 60
    renewed = world.services.tokens.valid_tokens()
    assert renewed.access_token != world.first.access_token
    assert len(world.refresh_posts()) == 1


@pytest.mark.parametrize(
    ("created_offset", "expected_offset"),
    [(None, 3600), (-86_400, 3600), (86_400, 3600), (-100, 3500), (100, 3600)],
    ids=["no-created-at", "server-a-day-behind", "server-a-day-ahead", "sane-earlier", "later"],
)
def test_c42_expiry_counts_from_local_receipt_time(
    created_offset: int | None, expected_offset: int
) -> None:
    clock = FakeClock(1_790_000_000.0)
    body: dict[str, Any] = {"access_token": "at-skew-0001", "expires_in": 3600}
    if created_offset is not None:
        body["created_at"] = clock.now + created_offset
    with Hostile(Answer.json(200, body)) as server:
        client = OAuthClient(endpoint_settings(server.url), clock=clock, timeouts=FAST)
        tokens = client.exchange("code", "v" * 43, REDIRECT_URI)
    assert tokens.received_at == clock.now
    assert tokens.expires_at == clock.now + expected_offset


def test_c42_a_clock_jump_forward_refreshes_once_without_a_loop(world: World) -> None:
    world.clock.now += 86_400
    renewed = world.services.tokens.valid_tokens()
    for _ in range(5):
        assert world.services.tokens.valid_tokens() is renewed
    assert len(world.refresh_posts()) == 1
    assert renewed.expires_at == world.clock.now + LIFETIME
    assert world.services.api.request("GET", "/v4/account").status == 200


def test_c42_a_clock_jump_back_still_refreshes_on_a_401(world: World) -> None:
    world.clock.now -= 86_400
    assert world.services.tokens.valid_tokens() is world.first  # not known to be expired
    world.kit.oauth.expire_access_token(world.first.access_token)

    answer = world.services.api.request("GET", "/v4/account")

    assert (answer.status, answer.retried) == (200, True)
    assert len(world.refresh_posts()) == 1


# --- 43: 401 and 403 from the API --------------------------------------------------------


def test_c43_an_expired_token_refreshes_once_and_retries_a_get_once(world: World) -> None:
    world.kit.oauth.expire_access_token(world.first.access_token)  # Kit: "The access token expired"

    answer = world.services.api.request("GET", "/v4/account")

    assert (answer.status, answer.retried) == (200, True)
    first_try, retry = world.calls_to("GET", "/v4/account")
    renewed = world.services.tokens.tokens
    assert renewed is not None
    assert bearer(first_try) == f"Bearer {world.first.access_token}"
    assert bearer(retry) == f"Bearer {renewed.access_token}"
    assert len(world.refresh_posts()) == 1


def test_c43_a_post_is_not_sent_twice_after_a_401(world: World) -> None:
    world.kit.oauth.expire_access_token(world.first.access_token)

    with pytest.raises(ApiError) as caught:
        world.services.api.request("POST", "/v4/tags", json_body={"name": "c43-once"})

    assert caught.value.status == 401
    assert "send it again" in caught.value.user_message
    assert len(world.calls_to("POST", "/v4/tags")) == 1
    assert len(world.refresh_posts()) == 1
    tags = world.services.api.request("GET", "/v4/tags", query=[("per_page", "1000")]).json()
    assert "c43-once" not in {tag["name"] for tag in tags["tags"]}  # Kit never made it


def test_c43_a_second_401_asks_to_sign_in_again(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    rig = Rig(qtbot, tmp_path)
    session = rig.session(world.services)
    launch(qtbot, session)
    assert session.view.phase is Phase.CONNECTED
    gets_before = len(world.calls_to("GET", "/v4/account"))
    world.kit.set_fault("/v4/account", Fault("status", status=401, times=2))
    api = ApiRequests(world.services.api)
    api.reconnect_needed.connect(session.report_reconnect_needed)
    try:
        with qtbot.waitSignal(api.reconnect_needed, timeout=5000):
            api.send("GET", "/v4/account")
        wait_phase(qtbot, session, Phase.RECONNECT_NEEDED)
    finally:
        api.shutdown()
        rig.close_all()
    assert session.view.headline.startswith("Reconnect needed")
    assert len(world.refresh_posts()) == 1
    assert len(world.calls_to("GET", "/v4/account")) == gets_before + 2


def api_answers(*answers: Answer) -> Script:
    """A script that sends ``answers`` in turn (the last one again after that)."""
    pending = list(answers)

    def script(seen: Seen) -> Answer:
        return pending.pop(0) if len(pending) > 1 else pending[0]

    return script


def test_c43_a_401_with_www_authenticate_refreshes_once(world: World) -> None:
    expired = Answer.json(
        401,
        {"errors": ["The access token expired"]},
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    with Hostile(api_answers(expired, Answer.json(200, {"account": {"name": "x"}}))) as api:
        settings = replace(world.services.settings, api_url=api.url)
        services = make_services(settings, world.backend, session=world.http, clock=world.clock)
        answer = services.api.request("GET", "/v4/account")
        first_try, retry = api.seen
    renewed = services.tokens.tokens
    assert renewed is not None
    assert (answer.status, answer.retried) == (200, True)
    assert first_try.headers["authorization"] == f"Bearer {world.first.access_token}"
    assert retry.headers["authorization"] == f"Bearer {renewed.access_token}"
    assert len(world.refresh_posts()) == 1


def test_c43_a_403_for_scope_never_refreshes_and_says_not_allowed(world: World, qapp: Any) -> None:
    forbidden = Answer.json(
        403,
        {"errors": ["Insufficient scope"]},
        headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="admin"'},
    )
    with Hostile(forbidden) as api:
        settings = replace(world.services.settings, api_url=api.url)
        services = make_services(settings, world.backend, session=world.http, clock=world.clock)
        answer = services.api.request("GET", "/v4/account")
        assert len(api.seen) == 1
    assert (answer.status, answer.retried) == (403, False)
    assert world.refresh_posts() == []
    sentence = api_problem(answer.status, answer.error_summary())
    assert "not allowed" in sentence
    assert "Insufficient scope" in sentence


# --- 44: logout and revocation -------------------------------------------------------------


def run_cli(services: Services, command: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_commands(parser)
    out, err = io.StringIO(), io.StringIO()
    code = Cli(services.settings, services=services, out=out, err=err).run(
        parser.parse_args([command])
    )
    return code, out.getvalue(), err.getvalue()


def test_c44_logout_revokes_both_tokens_with_a_safe_post_then_forgets(world: World) -> None:
    code, out, _ = run_cli(world.services, "disconnect")

    assert code == 0
    assert "Kit Desktop's access to your Kit account is cancelled at Kit" in out
    revokes = world.http.posts_to(world.services.settings.revoke_url)
    assert [r.data["token_type_hint"] for r in revokes] == ["refresh_token", "access_token"]
    assert [r.data["token"] for r in revokes] == [
        world.first.refresh_token,
        world.first.access_token,
    ]
    for revoke in revokes:
        assert set(revoke.data) == {"token", "token_type_hint", "client_id"}
        assert "json" not in revoke.kwargs
        assert revoke.kwargs["allow_redirects"] is False
        assert revoke.kwargs["timeout"] == (FAST.connect, FAST.read)
        assert revoke.kwargs["verify"] is True
    assert stored_data(world.backend) is None
    assert not world.works(world.first)


def test_c44_revoking_a_token_kit_does_not_know_is_a_success(world: World) -> None:
    world.services.oauth.revoke("never-issued-token-000", "refresh_token")
    assert world.works(world.first)


@pytest.mark.parametrize("failure", ["503", "dropped", "refused", "redirected"])
def test_c44_logout_forgets_locally_whatever_kit_says_and_tells_the_truth(
    world: World, failure: str
) -> None:
    with refused_port() as port, Hostile() as evil:
        services = world.services
        if failure == "refused":
            settings = replace(services.settings, revoke_url=f"http://127.0.0.1:{port}/revoke")
            services = make_services(settings, world.backend, clock=world.clock)
        else:
            fault = {
                "503": Fault("status", status=503),
                "dropped": Fault("drop"),
                "redirected": Fault("redirect", location=f"{evil.url}/revoke"),
            }[failure]
            world.kit.set_fault(REVOKE_PATH, fault)
        code, out, err = run_cli(services, "disconnect")
        assert evil.seen == []

    assert code == 0
    assert out.strip() == "Disconnected on this computer."
    unreached = failure in ("dropped", "refused")
    keeps = "stops working when it expires" if unreached else "may keep working until"
    assert keeps in err
    assert ("could not be reached" in err) == unreached
    where = f"{evil.url}/revoke"
    assert (f"a redirect to {where}." in err) == (failure == "redirected")
    assert_plain(
        err.replace(where, "elsewhere"), world.first.access_token, world.first.refresh_token or ""
    )
    assert stored_data(world.backend) is None
    assert world.works(world.first)  # honest: the token is still live at Kit
    code, out, _ = run_cli(make_services(services.settings, world.backend), "status")
    assert (code, out.strip()) == (1, "Not connected to Kit.")


def test_c44_the_window_says_the_access_may_stay_valid_when_kit_is_unreachable(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with SandboxServer(
        client_id=SANDBOX_CLIENT_ID, loopback_any_port=True, redirect_uris=[REDIRECT_URI]
    ) as kit:
        backend = MemoryKeyring()
        rig = Rig(qtbot, tmp_path)
        session = rig.session(
            make_services(sandbox_settings(kit.base_url), backend), browser=UserBrowser("allow")
        )
        try:
            launch(qtbot, session)
            connect(qtbot, session)
            kit.set_fault(REVOKE_PATH, Fault("status", status=503))
            session.disconnect_account()
            wait_phase(qtbot, session, Phase.NOT_CONNECTED)
        finally:
            rig.close_all()
    assert "may keep working until it expires" in session.view.detail
    assert session.view.tokens is None
    assert stored_data(backend) is None
