"""A redirect from the token or revoke address: where it pointed, shown safely, and the setting.

The sandbox's ``redirect`` fault answers 307 with any ``Location``; the client never follows
it and names the address as ``scheme://host[:port]/path`` only (a query or user name may
carry a secret), with the setting the publisher must correct.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.config import Settings
from kit_desktop.errors import ClientConfigError, TokenEndpointRedirectError
from kit_desktop.http import Timeouts, shown_address
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault

BASE = "https://api.kit.com/v4/oauth/token"


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://kit.example/v4/oauth/token", "https://kit.example/v4/oauth/token"),
        ("https://u:p@kit.example:8443/t?client_secret=x#f", "https://kit.example:8443/t"),
        ("/login?next=/token", "https://api.kit.com/login"),
        ("other", "https://api.kit.com/v4/oauth/other"),
        ("//elsewhere.example/x", "https://elsewhere.example/x"),
        ("http://[::1]:9/t", "http://[::1]:9/t"),
        ("https://kit.example/a b\u00e9\r\n", "https://kit.example/a%20b%C3%A9"),
        ("HTTPS://Kit.Example/T", "https://kit.example/T"),
        ("javascript:alert(1)", ""),
        ("mailto:someone@kit.example", ""),
        ("https://kit.example:99999/t", ""),
        ("", ""),
        ("  ", ""),
    ],
)
def test_where_a_redirect_pointed_is_shown_without_secrets(location: str, shown: str) -> None:
    assert shown_address(location, BASE) == shown


def test_a_long_address_is_cut() -> None:
    shown = shown_address("https://kit.example/" + "a" * 500, BASE)
    assert len(shown) == 120 and shown.endswith("\u2026")


def test_the_error_is_a_publisher_problem_naming_the_setting() -> None:
    token = TokenEndpointRedirectError("https://kit.example/t")
    assert isinstance(token, ClientConfigError) and token.code == "endpoint_redirect"
    assert token.user_message.startswith(
        "The token address this copy of Kit Desktop is set up with answered with a redirect "
        "to https://kit.example/t. "
    )
    assert "trying again will not help" in token.user_message
    assert token.user_message.endswith(
        "(Publisher: correct token_url in resources/kit_app.toml or KIT_TOKEN_URL.)"
    )
    revoke = TokenEndpointRedirectError("", setting="revoke_url")
    assert revoke.user_message.startswith(
        "The revoke address this copy of Kit Desktop is set up with answered with a redirect "
        "without a usable address. "
    )
    assert "KIT_REVOKE_URL" in revoke.user_message


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.mark.parametrize("status_path", ["/v4/oauth/token", "/v4/oauth/revoke"])
@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://user:pw@kit.example/token?code=abc", "https://kit.example/token"),
        ("/v4/oauth/token2?x=1", "{base}/v4/oauth/token2"),
        ("javascript:alert(1)", ""),
        ("", ""),
    ],
)
def test_each_endpoint_names_where_it_pointed(
    sandbox: SandboxServer, status_path: str, location: str, shown: str
) -> None:
    client = OAuthClient(Settings().with_sandbox(sandbox.base_url), timeouts=Timeouts(2, 2))
    sandbox.set_fault(status_path, Fault("redirect", location=location, times=1))
    revoking = status_path.endswith("revoke")
    call = (
        (lambda: client.revoke("a-token", "access_token"))
        if revoking
        else (lambda: client.refresh("a-refresh-token"))
    )
    with pytest.raises(TokenEndpointRedirectError) as caught:
        call()
    error = caught.value
    assert error.location == shown.format(base=sandbox.base_url.rstrip("/"))
    assert error.setting == ("revoke_url" if revoking else "token_url")
    assert "code=" not in error.user_message and "pw" not in error.user_message
    assert error.detail == "HTTP 307 redirect not followed"
