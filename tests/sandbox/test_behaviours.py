"""Kit's own behaviours as sandbox switches: flipped on a live server, and as standalone flags.

Sources: CODES-DOC (401 for an account that lost access to apps), Kit's OpenAPI 403 example,
RATE-DOC (429 ``Retry later``, no ``Retry-After``), Kit's WordPress library (``errors``
first), REVOKE-DOC and a Kit engineer quoted in a third-party SDK (JSON revokes ignored).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.sandbox import KitBehaviours, SandboxServer
from kit_desktop.sandbox.behaviours import ACCOUNT_LOST_ACCESS_MESSAGE, FORBIDDEN_MESSAGE
from tests.helpers import flow
from tests.sandbox.test_cli import start
from tests.sandbox.test_oauth import FakeClock

LOST = {"errors": [ACCOUNT_LOST_ACCESS_MESSAGE]}
FORBIDDEN = {"errors": [FORBIDDEN_MESSAGE]}


@pytest.fixture(scope="module")
def live() -> Iterator[SandboxServer]:
    with SandboxServer(auto_approve=True) as server:
        yield server


@pytest.fixture
def sandbox(live: SandboxServer) -> Iterator[SandboxServer]:
    """The module's live server, its switches back at the defaults after each test."""
    live.behaviours.reset()
    try:
        yield live
    finally:
        live.behaviours.reset()


@pytest.fixture
def tokens(sandbox: SandboxServer) -> dict[str, Any]:
    return flow.connect(sandbox.base_url)


def post_tag(base: str, token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{base}/v4/tags", json={"name": "Kit"}, headers=headers, timeout=5)


def revoke(base: str, token: str, *, as_json: bool, content_type: str | None = None) -> Any:
    body = {"token": token, "client_id": SANDBOX_CLIENT_ID, "token_type_hint": "access_token"}
    headers = {"Content-Type": content_type} if content_type else {}
    if as_json:
        return requests.post(f"{base}/v4/oauth/revoke", json=body, headers=headers, timeout=5)
    return requests.post(f"{base}/v4/oauth/revoke", data=body, timeout=5)


def is_kit_429(response: requests.Response) -> bool:
    """Kit's 429 (RATE-DOC): plain text ``Retry later``, no ``Retry-After`` header."""
    return (
        response.status_code == 429
        and response.content == b"Retry later"
        and response.headers["Content-Type"].startswith("text/plain")
        and "Retry-After" not in response.headers
    )


#: Each API switch, and how its answer looks.
API_SWITCHES: dict[str, Callable[[requests.Response], bool]] = {
    "account_lost_access": lambda answer: (answer.status_code, answer.json()) == (401, LOST),
    "forbidden": lambda answer: (answer.status_code, answer.json()) == (403, FORBIDDEN),
    "force_429": is_kit_429,
}


# --- 401 (the account lost access to apps), 403 and 429 on every API request ---------------------


@pytest.mark.parametrize("switch", API_SWITCHES)
def test_an_api_switch_answers_every_api_request_until_it_is_turned_off(
    sandbox: SandboxServer, tokens: dict[str, Any], switch: str
) -> None:
    base, access = sandbox.base_url, tokens["access_token"]
    assert flow.api_get(base, access, "/v4/account").status_code == 200
    setattr(sandbox.behaviours, switch, True)
    answers = [
        *(flow.api_get(base, access, path) for path in ("/v4/account", "/v4/tags", "/v4/nope")),
        post_tag(base, access),
    ]
    for answer in answers:
        assert API_SWITCHES[switch](answer), (answer.status_code, answer.content)
    # A token that is not valid still gets Kit's own words for that (auth comes first).
    invalid = flow.api_get(base, "not-a-token", "/v4/account")
    assert invalid.json() == {"errors": ["The access token is invalid"]}
    setattr(sandbox.behaviours, switch, False)
    assert flow.api_get(base, access, "/v4/account").status_code == 200


def test_account_lost_access_keeps_tokens_valid_so_reconnecting_does_not_help(
    sandbox: SandboxServer, tokens: dict[str, Any]
) -> None:
    base = sandbox.base_url
    sandbox.behaviours.account_lost_access = True
    renewed = flow.refresh(base, tokens["refresh_token"])
    assert renewed.status_code == 200, "the tokens are still good: refresh works"
    assert flow.api_get(base, renewed.json()["access_token"], "/v4/account").json() == LOST
    fresh = flow.connect(base)  # a whole new connection
    assert flow.api_get(base, fresh["access_token"], "/v4/account").json() == LOST
    sandbox.behaviours.account_lost_access = False  # the creator fixed their plan or billing
    assert flow.api_get(base, fresh["access_token"], "/v4/account").status_code == 200


def test_forbidden_can_be_limited_to_a_path_prefix(
    sandbox: SandboxServer, tokens: dict[str, Any]
) -> None:
    base, access = sandbox.base_url, tokens["access_token"]
    sandbox.behaviours.forbidden = True
    sandbox.behaviours.forbidden_prefix = "/v4/broadcasts/"
    assert flow.api_get(base, access, "/v4/broadcasts").status_code == 403
    assert flow.api_get(base, access, "/v4/broadcasts/1").status_code == 403
    assert flow.api_get(base, access, "/v4/tags").status_code == 200
    assert flow.api_get(base, access, "/v4/broadcastsx").status_code == 404


def test_the_rate_limits_own_429_is_kits() -> None:
    with SandboxServer(auto_approve=True, rate_limit=1) as server:
        access = flow.connect(server.base_url)["access_token"]
        assert flow.api_get(server.base_url, access, "/v4/tags").status_code == 200
        assert is_kit_429(flow.api_get(server.base_url, access, "/v4/tags"))


# --- token endpoint errors in Kit's shape ------------------------------------------------------


def test_token_errors_default_to_rfc_6749(sandbox: SandboxServer) -> None:
    refused = flow.refresh(sandbox.base_url, "no-such-refresh-token")
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant" and "error_description" in refused.json()


def test_kit_shaped_token_errors_keep_the_status_and_say_it_in_errors(
    sandbox: SandboxServer, tokens: dict[str, Any]
) -> None:
    base = sandbox.base_url
    sandbox.behaviours.token_error_shape = "kit"
    token_url = f"{base}/v4/oauth/token"
    cases = [
        (flow.refresh(base, "no-such-refresh-token"), 400, "invalid, expired, revoked"),
        (requests.post(token_url, data={"grant_type": "refresh_token"}, timeout=5), 401, "Client"),
        (requests.post(token_url, data={"client_id": SANDBOX_CLIENT_ID}, timeout=5), 400, "grant"),
        (requests.get(token_url, timeout=5), 405, "POST"),
        (requests.post(f"{base}/oauth/revoke", data={"client_id": "x"}, timeout=5), 400, "token"),
    ]
    for response, status, words in cases:
        body = response.json()
        assert response.status_code == status, body
        assert set(body) == {"errors"} and words in body["errors"][0], body
    renewed = flow.refresh(base, tokens["refresh_token"])
    assert renewed.status_code == 200 and "access_token" in renewed.json(), "success unchanged"


# --- refresh-token expiry ---------------------------------------------------------------------


@pytest.mark.parametrize("rotate", [True, False])
def test_refresh_tokens_expire_after_their_lifetime(rotate: bool) -> None:
    clock = FakeClock()
    with SandboxServer(auto_approve=True, clock=clock, rotate_refresh_tokens=rotate) as server:
        base = server.base_url
        server.behaviours.refresh_token_lifetime = 100
        server.behaviours.token_error_shape = "kit"
        first = flow.connect(base)["refresh_token"]
        clock.now += 99
        renewed = flow.refresh(base, first)
        assert renewed.status_code == 200
        clock.now += 1
        latest = renewed.json()["refresh_token"]
        if rotate:  # each rotated refresh token has a lifetime of its own
            latest = flow.refresh(base, latest).json()["refresh_token"]
            clock.now += 100
        else:  # the same refresh token, counted from when it was first issued
            assert latest == first
        expired = flow.refresh(base, latest)
        assert expired.status_code == 400
        assert "expired" in expired.json()["errors"][0]


def test_refresh_expiry_can_be_turned_on_for_tokens_already_issued(
    sandbox: SandboxServer, tokens: dict[str, Any]
) -> None:
    sandbox.behaviours.refresh_token_lifetime = 0
    refused = flow.refresh(sandbox.base_url, tokens["refresh_token"])
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    access = tokens["access_token"]
    assert flow.api_get(sandbox.base_url, access, "/v4/account").status_code == 200, "only refresh"
    sandbox.behaviours.refresh_token_lifetime = None
    assert flow.refresh(sandbox.base_url, tokens["refresh_token"]).status_code == 200


# --- JSON revokes -------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
def test_a_json_revoke_is_ignored_by_default_as_at_kit(
    sandbox: SandboxServer, tokens: dict[str, Any], content_type: str | None
) -> None:
    base, access = sandbox.base_url, tokens["access_token"]
    answer = revoke(base, access, as_json=True, content_type=content_type)
    assert (answer.status_code, answer.content) == (200, b"")
    assert flow.api_get(base, access, "/v4/account").status_code == 200, "nothing was revoked"
    assert flow.refresh(base, tokens["refresh_token"]).status_code == 200


def test_a_form_revoke_works_by_default(sandbox: SandboxServer, tokens: dict[str, Any]) -> None:
    base, access = sandbox.base_url, tokens["access_token"]
    answer = revoke(base, access, as_json=False)
    assert (answer.status_code, answer.content) == (200, b"")
    assert flow.api_get(base, access, "/v4/account").status_code == 401


def test_a_json_revoke_is_honoured_when_asked(
    sandbox: SandboxServer, tokens: dict[str, Any]
) -> None:
    sandbox.behaviours.json_revoke = "honoured"
    base, access = sandbox.base_url, tokens["access_token"]
    assert revoke(base, access, as_json=True).status_code == 200
    assert flow.api_get(base, access, "/v4/account").status_code == 401


# --- the switch set itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("token_error_shape", "xml"),
        ("json_revoke", "maybe"),
        ("refresh_token_lifetime", -1),
        ("refresh_token_lifetime", "soon"),
        ("forbidden_prefix", "v4/tags"),
    ],
)
def test_a_switch_refuses_a_value_it_cannot_take(name: str, value: object) -> None:
    behaviours = KitBehaviours()
    with pytest.raises(ValueError, match=name):
        setattr(behaviours, name, value)
    with pytest.raises(ValueError, match=name):
        KitBehaviours(**{name: value})  # type: ignore[arg-type]


def test_defaults_reset_and_what_is_active() -> None:
    behaviours = KitBehaviours()
    assert behaviours.active() == []
    assert behaviours.json_revoke == "ignored", "Kit ignores JSON revokes, so the sandbox does"
    behaviours.force_429 = True
    behaviours.token_error_shape = "kit"
    assert behaviours.active() == ["force-429", "token-errors kit"]
    behaviours.reset()
    assert behaviours == KitBehaviours()


# --- the standalone sandbox's flags ------------------------------------------------------------


def with_flags(*flags: str) -> pytest.MarkDecorator:
    """Run the test against a standalone sandbox started with ``flags``."""
    return pytest.mark.parametrize("standalone", [flags], indirect=True)


@pytest.fixture
def standalone(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    """A standalone sandbox with the test's flags, connected to: its URL and the tokens.

    It must name the flags' behaviours on its standard error.
    """
    flags: tuple[str, ...] = request.param
    process = start("--port", "0", "--auto-approve", *flags)
    assert process.stdout is not None and process.stderr is not None
    base_url = process.stdout.readline().strip()
    try:
        banner = "".join(process.stderr.readline() for _ in range(4))
        shown: list[str] = []
        for word in flags:
            shown += [word[2:]] if word.startswith("--") else [f"{shown.pop()} {word}"]
        assert "Kit behaviours: " + ", ".join(shown) in banner
        yield base_url, flow.connect(base_url)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


@with_flags("--force-429", "--token-errors", "kit", "--json-revoke", "honoured")
def test_flags_force_429_kit_token_errors_and_honoured_json_revokes(
    standalone: tuple[str, dict[str, Any]],
) -> None:
    base, tokens = standalone
    assert is_kit_429(flow.api_get(base, tokens["access_token"], "/v4/account"))
    refused = flow.refresh(base, "no-such-refresh-token")
    assert refused.status_code == 400 and set(refused.json()) == {"errors"}
    body = {"token": tokens["refresh_token"], "client_id": SANDBOX_CLIENT_ID}
    assert requests.post(f"{base}/v4/oauth/revoke", json=body, timeout=5).status_code == 200
    gone = flow.refresh(base, tokens["refresh_token"])
    assert gone.status_code == 400 and set(gone.json()) == {"errors"}, "the JSON revoke counted"


@with_flags("--account-lost-access", "--refresh-token-lifetime", "1")
def test_flags_account_lost_access_and_refresh_token_lifetime(
    standalone: tuple[str, dict[str, Any]],
) -> None:
    base, tokens = standalone
    lost = flow.api_get(base, tokens["access_token"], "/v4/account")
    assert (lost.status_code, lost.json()) == (401, LOST)
    renewed = flow.refresh(base, tokens["refresh_token"])
    assert renewed.status_code == 200, "refresh still works when the account lost access"
    time.sleep(1.1)
    expired = flow.refresh(base, renewed.json()["refresh_token"])
    assert (expired.status_code, expired.json()["error"]) == (400, "invalid_grant")


@with_flags("--forbidden", "/v4/broadcasts")
def test_flag_forbidden_with_a_prefix_and_the_default_json_revoke(
    standalone: tuple[str, dict[str, Any]],
) -> None:
    base, tokens = standalone
    access = tokens["access_token"]
    forbidden = flow.api_get(base, access, "/v4/broadcasts")
    assert (forbidden.status_code, forbidden.json()) == (403, FORBIDDEN)
    assert flow.api_get(base, access, "/v4/tags").status_code == 200
    assert revoke(base, access, as_json=True).status_code == 200
    assert flow.api_get(base, access, "/v4/tags").status_code == 200, "JSON revoke ignored"
    assert revoke(base, access, as_json=False).status_code == 200
    assert flow.api_get(base, access, "/v4/tags").status_code == 401, "form revoke worked"


def test_no_behaviour_flags_means_no_behaviours_line() -> None:
    process: subprocess.Popen[str] = start("--port", "0")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("http://127.0.0.1:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert "Kit behaviours" not in err and "Traceback" not in err
