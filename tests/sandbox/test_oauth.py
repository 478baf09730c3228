"""The sandbox's OAuth server over real HTTP: the flow, every rejection, refresh, revoke."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.sandbox import SandboxServer
from tests.helpers import flow
from tests.helpers.flow import REDIRECT_URI, Pkce


class FakeClock:
    """A wall clock the test moves by hand (codes and tokens expire by it)."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def consent_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(auto_approve=True, clock=clock) as server:
        yield server


def _authorize(base: str, **params: str | None) -> requests.Response:
    query = urlencode(flow.authorize_params(Pkce.new(), **params))
    return requests.get(f"{base}/v4/oauth/authorize?{query}", allow_redirects=False, timeout=5)


@pytest.mark.parametrize("prefix", ["/v4", ""])
@pytest.mark.parametrize("as_json", [False, True])
def test_whole_flow_with_consent_refresh_and_revoke(
    consent_sandbox: SandboxServer, prefix: str, as_json: bool
) -> None:
    base, pkce = consent_sandbox.base_url, Pkce.new()
    params = flow.authorize_params(pkce)
    page = requests.get(
        f"{base}{prefix}/oauth/authorize?{urlencode(params)}", allow_redirects=False, timeout=5
    )
    assert page.status_code == 200
    assert "Kit Desktop (practice)" in page.text and ">Allow<" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    decision = requests.post(
        f"{base}/oauth/authorize/decision",
        data={"consent_id": flow.consent_id(page.text), "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    location = decision.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = flow.location_params(decision)
    assert query["state"] == params["state"]
    assert len(query["code"]) == 43

    response = flow.exchange(base, query["code"], pkce, prefix=prefix, as_json=as_json)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == "public"
    # Kit's lifetimes (PKCE-DOC examples): 48 h from the code exchange, 2 h from a refresh.
    assert tokens["expires_in"] == 172800 and isinstance(tokens["created_at"], int)
    assert flow.api_get(base, tokens["access_token"], "/v4/account").status_code == 200

    renewed = flow.refresh(base, tokens["refresh_token"])
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["expires_in"] == 7200
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    reuse = flow.refresh(base, tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"

    revoke = requests.post(
        f"{base}{prefix}/oauth/revoke",
        data={
            "token": fresh["access_token"],
            "client_id": SANDBOX_CLIENT_ID,
            "token_type_hint": "access_token",
        },
        timeout=5,
    )
    assert revoke.status_code == 200 and revoke.content == b""
    gone = flow.api_get(base, fresh["access_token"], "/v4/account")
    assert gone.status_code == 401
    assert gone.json() == {"errors": ["The access token is invalid"]}
    assert flow.refresh(base, fresh["refresh_token"]).json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied_and_state(consent_sandbox: SandboxServer) -> None:
    params = flow.authorize_params(Pkce.new())
    base = consent_sandbox.base_url
    page = requests.get(f"{base}/v4/oauth/authorize?{urlencode(params)}", timeout=5)
    denied = requests.post(
        f"{base}/oauth/authorize/decision",
        data={"consent_id": flow.consent_id(page.text), "decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    query = flow.location_params(denied)
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert query["error_description"]
    assert "code" not in query


def test_consent_is_single_use(consent_sandbox: SandboxServer) -> None:
    base = consent_sandbox.base_url
    page = _authorize(base)
    form = {"consent_id": flow.consent_id(page.text), "decision": "allow"}
    url = f"{base}/oauth/authorize/decision"
    assert requests.post(url, data=form, allow_redirects=False, timeout=5).status_code == 302
    again = requests.post(url, data=form, allow_redirects=False, timeout=5)
    assert again.status_code == 400 and "Location" not in again.headers


@pytest.mark.parametrize(
    ("overrides", "title"),
    [
        ({"client_id": "someone-else"}, "Unknown application"),
        ({"client_id": None}, "Unknown application"),
        ({"redirect_uri": "http://127.0.0.1:9999/callback"}, "Invalid redirect URI"),
        ({"redirect_uri": "https://evil.example/callback"}, "Invalid redirect URI"),
        ({"redirect_uri": REDIRECT_URI + "/x"}, "Invalid redirect URI"),
        ({"redirect_uri": None}, "Invalid redirect URI"),
    ],
)
def test_bad_client_or_redirect_gets_an_error_page_never_a_redirect(
    sandbox: SandboxServer, overrides: dict[str, str | None], title: str
) -> None:
    response = _authorize(sandbox.base_url, **overrides)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert title in response.text
    assert response.headers["Content-Type"].startswith("text/html")


def test_duplicate_parameters_get_an_error_page(sandbox: SandboxServer) -> None:
    query = urlencode(flow.authorize_params(Pkce.new())) + "&state=second"
    response = requests.get(
        f"{sandbox.base_url}/v4/oauth/authorize?{query}", allow_redirects=False, timeout=5
    )
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "admin"}, "invalid_scope"),
    ],
)
def test_bad_requests_from_a_known_client_redirect_with_an_error(
    sandbox: SandboxServer, overrides: dict[str, str | None], error: str
) -> None:
    response = _authorize(sandbox.base_url, state="xyz", **overrides)
    assert response.headers["Location"].startswith(REDIRECT_URI)
    query = flow.location_params(response)
    assert query == {
        "error": error,
        "error_description": query["error_description"],
        "state": "xyz",
    }


def test_optional_parameters(sandbox: SandboxServer) -> None:
    response = _authorize(sandbox.base_url, scope=None, state=None, tenant_name="laptop-1")
    query = flow.location_params(response)
    assert "state" not in query and len(query["code"]) == 43


def test_loopback_any_port_switch() -> None:
    other_port = "http://127.0.0.1:61234/callback"
    with SandboxServer(auto_approve=True, loopback_any_port=True) as server:
        pkce = Pkce.new()
        query = flow.location_params(_authorize(server.base_url, redirect_uri=other_port))
        assert "code" in query
        elsewhere = _authorize(server.base_url, redirect_uri="http://127.0.0.1:61234/other")
        assert elsewhere.status_code == 400
        remote = _authorize(server.base_url, redirect_uri="http://10.0.0.1:61234/callback")
        assert remote.status_code == 400
        assert pkce.verifier


def _token(base: str, **fields: str) -> requests.Response:
    return requests.post(f"{base}/v4/oauth/token", data=fields, allow_redirects=False, timeout=5)


def test_wrong_verifier_is_invalid_grant_and_burns_the_code(sandbox: SandboxServer) -> None:
    pkce = Pkce.new()
    code = flow.get_code(sandbox.base_url, pkce)
    wrong = flow.exchange(sandbox.base_url, code, Pkce.new())
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert flow.exchange(sandbox.base_url, code, pkce).json()["error"] == "invalid_grant"


def test_code_reuse_is_refused_and_revokes_its_tokens(sandbox: SandboxServer) -> None:
    pkce = Pkce.new()
    code = flow.get_code(sandbox.base_url, pkce)
    tokens = flow.exchange(sandbox.base_url, code, pkce).json()
    again = flow.exchange(sandbox.base_url, code, pkce)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert flow.api_get(sandbox.base_url, tokens["access_token"], "/v4/account").status_code == 401


def test_code_expires_after_ten_minutes(clocked: SandboxServer, clock: FakeClock) -> None:
    pkce = Pkce.new()
    code = flow.get_code(clocked.base_url, pkce)
    clock.now += 601
    assert flow.exchange(clocked.base_url, code, pkce).json()["error"] == "invalid_grant"


def test_code_within_ten_minutes_works(clocked: SandboxServer, clock: FakeClock) -> None:
    pkce = Pkce.new()
    code = flow.get_code(clocked.base_url, pkce)
    clock.now += 590
    assert flow.exchange(clocked.base_url, code, pkce).status_code == 200


def test_redirect_uri_must_match_the_authorize_request(sandbox: SandboxServer) -> None:
    pkce = Pkce.new()
    code = flow.get_code(sandbox.base_url, pkce)
    response = _token(
        sandbox.base_url,
        grant_type="authorization_code",
        client_id=SANDBOX_CLIENT_ID,
        code=code,
        code_verifier=pkce.verifier,
        redirect_uri="http://127.0.0.1:53220/callback",
    )
    assert response.json()["error"] == "invalid_grant"


def test_json_body_with_a_form_content_type_is_accepted(sandbox: SandboxServer) -> None:
    """Kit's own docs send JSON labelled as a form; the sandbox accepts that too."""
    pkce = Pkce.new()
    code = flow.get_code(sandbox.base_url, pkce)
    body = json.dumps(
        {
            "grant_type": "authorization_code",
            "client_id": SANDBOX_CLIENT_ID,
            "code": code,
            "code_verifier": pkce.verifier,
            "redirect_uri": REDIRECT_URI,
        }
    )
    response = requests.post(
        f"{sandbox.base_url}/oauth/token",
        data=body,
        timeout=5,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


def test_client_id_in_basic_auth_is_accepted(sandbox: SandboxServer) -> None:
    pkce = Pkce.new()
    code = flow.get_code(sandbox.base_url, pkce)
    basic = base64.b64encode(f"{SANDBOX_CLIENT_ID}:".encode()).decode()
    response = requests.post(
        f"{sandbox.base_url}/v4/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": pkce.verifier,
            "redirect_uri": REDIRECT_URI,
        },
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"grant_type": "authorization_code", "client_id": "nobody"}, 401, "invalid_client"),
        ({"grant_type": "authorization_code"}, 401, "invalid_client"),
        ({"client_id": SANDBOX_CLIENT_ID}, 400, "invalid_request"),
        ({"client_id": SANDBOX_CLIENT_ID, "grant_type": "password"}, 400, "unsupported_grant_type"),
        (
            {"client_id": SANDBOX_CLIENT_ID, "grant_type": "authorization_code"},
            400,
            "invalid_request",
        ),
        (
            {"client_id": SANDBOX_CLIENT_ID, "grant_type": "authorization_code", "code": "x"},
            400,
            "invalid_request",
        ),
        (
            {
                "client_id": SANDBOX_CLIENT_ID,
                "grant_type": "authorization_code",
                "code": "x",
                "code_verifier": "short",
            },
            400,
            "invalid_request",
        ),
        (
            {
                "client_id": SANDBOX_CLIENT_ID,
                "grant_type": "authorization_code",
                "code": "x",
                "code_verifier": "v" * 43,
            },
            400,
            "invalid_grant",
        ),
        ({"client_id": SANDBOX_CLIENT_ID, "grant_type": "refresh_token"}, 400, "invalid_request"),
        (
            {
                "client_id": SANDBOX_CLIENT_ID,
                "grant_type": "refresh_token",
                "refresh_token": "unknown",
            },
            400,
            "invalid_grant",
        ),
    ],
)
def test_token_errors_follow_rfc6749(
    sandbox: SandboxServer, fields: dict[str, str], status: int, error: str
) -> None:
    response = _token(sandbox.base_url, **fields)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error and body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"


def test_token_endpoint_refuses_get_and_bad_json(sandbox: SandboxServer) -> None:
    assert requests.get(f"{sandbox.base_url}/v4/oauth/token", timeout=5).status_code == 405
    bad = requests.post(
        f"{sandbox.base_url}/v4/oauth/token",
        data="{not json",
        timeout=5,
        headers={"Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"


def test_refresh_token_of_another_client_is_refused(sandbox: SandboxServer) -> None:
    tokens = flow.connect(sandbox.base_url)
    sandbox.oauth.apps["other"] = sandbox.app.__class__("other", "Other", (REDIRECT_URI,))
    response = _token(
        sandbox.base_url,
        grant_type="refresh_token",
        client_id="other",
        refresh_token=tokens["refresh_token"],
    )
    assert response.json()["error"] == "invalid_grant"
    assert flow.refresh(sandbox.base_url, tokens["refresh_token"]).status_code == 200


def test_old_access_token_keeps_working_until_expiry_after_refresh(sandbox: SandboxServer) -> None:
    tokens = flow.connect(sandbox.base_url)
    assert flow.refresh(sandbox.base_url, tokens["refresh_token"]).status_code == 200
    assert flow.api_get(sandbox.base_url, tokens["access_token"], "/v4/account").status_code == 200


def test_without_rotation_the_refresh_token_is_reusable() -> None:
    with SandboxServer(auto_approve=True, rotate_refresh_tokens=False) as server:
        tokens = flow.connect(server.base_url)
        first = flow.refresh(server.base_url, tokens["refresh_token"]).json()
        assert first["refresh_token"] == tokens["refresh_token"]
        assert flow.refresh(server.base_url, tokens["refresh_token"]).status_code == 200


def test_token_lifetime_is_configurable(clock: FakeClock) -> None:
    with SandboxServer(auto_approve=True, token_lifetime=5, clock=clock) as server:
        tokens = flow.connect(server.base_url)
        assert tokens["expires_in"] == 5
        assert tokens["created_at"] == int(clock.now)
        clock.now += 5
        expired = flow.api_get(server.base_url, tokens["access_token"], "/v4/account")
        assert expired.status_code == 401
        assert expired.json() == {"errors": ["The access token expired"]}
        renewed = flow.refresh(server.base_url, tokens["refresh_token"]).json()
        assert renewed["expires_in"] == 5, "--token-lifetime overrides both grants"
        assert flow.api_get(server.base_url, renewed["access_token"], "/v4/tags").status_code == 200


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", None])
def test_revoking_the_refresh_token_revokes_the_pair(
    sandbox: SandboxServer, hint: str | None
) -> None:
    tokens = flow.connect(sandbox.base_url)
    form = {"token": tokens["refresh_token"], "client_id": SANDBOX_CLIENT_ID}
    if hint:
        form["token_type_hint"] = hint
    response = requests.post(f"{sandbox.base_url}/oauth/revoke", data=form, timeout=5)
    assert response.status_code == 200
    assert flow.api_get(sandbox.base_url, tokens["access_token"], "/v4/account").status_code == 401


def test_revoke_unknown_token_is_200_and_missing_token_is_400(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/v4/oauth/revoke"
    known = requests.post(url, data={"token": "nope", "client_id": SANDBOX_CLIENT_ID}, timeout=5)
    assert known.status_code == 200
    missing = requests.post(url, data={"client_id": SANDBOX_CLIENT_ID}, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_metadata_document(sandbox: SandboxServer) -> None:
    meta = requests.get(
        f"{sandbox.base_url}/.well-known/oauth-authorization-server", timeout=5
    ).json()
    assert meta["issuer"] == sandbox.base_url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint"] == f"{sandbox.base_url}/v4/oauth/token"


def test_home_and_unknown_pages(sandbox: SandboxServer) -> None:
    home = requests.get(sandbox.base_url + "/", timeout=5)
    assert home.status_code == 200 and SANDBOX_CLIENT_ID in home.text
    assert requests.get(sandbox.base_url + "/nothing", timeout=5).status_code == 404
