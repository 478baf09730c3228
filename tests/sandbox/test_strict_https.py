"""``--strict-https``: the sandbox refuses plain-http addresses as Kit's app settings do.

Kit's help centre ("Configuring API access"): "All URLs have to be secure—i.e., https", for
Redirect URIs and the Authorization URL alike. The strict sandbox takes its own origin as
the stand-in for the publisher's https site, serves the relay page there, and registers it.
"""

from __future__ import annotations

import signal
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from kit_desktop.config import DEFAULT_REDIRECT_URIS
from kit_desktop.relay_page import META_CALLBACK_PORTS, META_INSTALL_PORT, meta
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.relay_host import HTTPS_ONLY, RELAY_PATH
from tests.helpers import flow
from tests.sandbox.test_cli import start


def test_strict_defaults_register_the_sandboxs_own_relay_page() -> None:
    with SandboxServer(strict_https=True) as server:
        assert server.app.redirect_uris == (server.relay_url,)
        assert server.authorization_url == server.relay_url
        assert server.relay_url == f"{server.base_url}{RELAY_PATH}"
        page = requests.get(server.relay_url, timeout=5)
        assert page.status_code == 200
        assert page.headers["Content-Type"].startswith("text/html")
        assert meta(page.text, META_INSTALL_PORT) == "53219"
        assert meta(page.text, META_CALLBACK_PORTS) == "53219 53220 53221"


@pytest.mark.parametrize("uri", [*DEFAULT_REDIRECT_URIS, "http://localhost:8080/callback"])
def test_strict_refuses_a_plain_http_redirect_uri_as_kit_does(uri: str) -> None:
    with pytest.raises(ValueError, match="All URLs have to be secure") as caught:
        SandboxServer(strict_https=True, redirect_uris=(uri,))
    assert uri in str(caught.value)


def test_strict_refuses_a_plain_http_authorization_url() -> None:
    with pytest.raises(ValueError, match="Authorization URL"):
        SandboxServer(strict_https=True, authorization_url="http://127.0.0.1:53219/kit/oauth")
    with SandboxServer(strict_https=True) as server:
        with pytest.raises(ValueError, match="All URLs have to be secure"):
            server.authorization_url = "http://example.com/kit/oauth"
        server.authorization_url = "https://example.com/kit-desktop/relay.html"


def test_strict_accepts_https_and_its_own_origin() -> None:
    uris = ("https://publisher.example/kit-desktop/relay.html",)
    with SandboxServer(strict_https=True, redirect_uris=uris) as server:
        assert server.app.redirect_uris == uris


def test_strict_authorize_sends_kits_answer_to_the_relay_page() -> None:
    with SandboxServer(strict_https=True, auto_approve=True) as server:
        params = flow.authorize_params(flow.Pkce.new(), redirect_uri=server.relay_url)
        allowed = requests.get(
            f"{server.base_url}/v4/oauth/authorize", params=params, allow_redirects=False, timeout=5
        )
        assert allowed.status_code == 302
        assert allowed.headers["Location"].startswith(server.relay_url + "?code=")


def test_strict_cannot_be_combined_with_any_port_loopback() -> None:
    with pytest.raises(ValueError, match="only https"):
        SandboxServer(strict_https=True, loopback_any_port=True)


def test_the_app_store_sends_installs_to_the_relay_page_in_both_forms() -> None:
    with SandboxServer(strict_https=True) as server:
        page_form = requests.get(server.install_url, allow_redirects=False, timeout=5)
        location = page_form.headers["Location"]
        assert location.startswith(server.relay_url + "?redirect=")
        redirect = parse_qs(urlsplit(location).query)["redirect"][0]
        assert redirect == f"{server.app_page_url}?success=true"
        server.store.redirect_form = "bare"
        bare = requests.get(server.install_url, allow_redirects=False, timeout=5)
        assert parse_qs(urlsplit(bare.headers["Location"]).query)["redirect"] == [
            server.app_store_url
        ]


def test_the_standalone_sandbox_refuses_http_under_strict_https() -> None:
    process = start("--strict-https", "--redirect-uri", DEFAULT_REDIRECT_URIS[0])
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    assert HTTPS_ONLY in err and DEFAULT_REDIRECT_URIS[0] in err and "Traceback" not in err


def test_the_standalone_strict_sandbox_names_its_relay_page() -> None:
    process = start("--strict-https", "--install-redirect", "bare")
    assert process.stdout is not None and process.stderr is not None
    base = process.stdout.readline().strip()
    lines = [process.stderr.readline() for _ in range(3)]
    try:
        assert any(f"Relay page: {base}{RELAY_PATH}" in line for line in lines), lines
        assert any("(strict https)" in line for line in lines), lines
        store = requests.get(f"{base}/apps", timeout=5)
        install = store.text.split('href="')[2].split('"')[0]  # the Install link
        answer = requests.get(base + install, allow_redirects=False, timeout=5)
        assert answer.headers["Location"] == (
            f"{base}{RELAY_PATH}?redirect=" + quote(f"{base}/apps", safe="")
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


def test_kits_token_lifetimes_by_default() -> None:
    with SandboxServer(auto_approve=True) as server:
        tokens = flow.connect(server.base_url)
        assert tokens["expires_in"] == 172800
        assert flow.refresh(server.base_url, tokens["refresh_token"]).json()["expires_in"] == 7200
