"""The sandbox's App Store over real HTTP: Kit's install flow through the Authorization URL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus

import pytest
import requests

from kit_desktop.config import SANDBOX_APP_NAME, SANDBOX_CLIENT_ID
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.appstore import app_id_for
from tests.helpers import flow
from tests.helpers.flow import Pkce

ROOT = Path(__file__).resolve().parents[2]
AUTHORIZATION_URL = "https://example.com/kit/oauth"


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> Iterator[SandboxServer]:
    with SandboxServer(authorization_url=AUTHORIZATION_URL) as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def clocked(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(authorization_url=AUTHORIZATION_URL, clock=clock) as server:
        yield server


def get(url: str) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=5)


def install(server: SandboxServer) -> str:
    """Click Install and return the ``redirect`` Kit handed to the Authorization URL."""
    response = get(server.install_url)
    assert response.status_code == 302, response.text
    return flow.location_params(response)["redirect"]


def connect(server: SandboxServer) -> None:
    """Run authorize, consent and the code exchange, as the app does between the redirects."""
    tokens = flow.connect(server.base_url)
    assert tokens["access_token"]


def heading(response: requests.Response) -> str:
    assert response.status_code == 200, response.text
    return response.text.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_store_page_lists_the_app_with_an_install_link(store: SandboxServer) -> None:
    response = get(store.app_store_url)
    assert response.status_code == 200
    assert store.app_store_url == f"{store.base_url}/apps"
    assert heading(response) == "App Store"
    assert SANDBOX_APP_NAME in response.text
    assert f'href="/apps/{store.app_id}/install"' in response.text and ">Install<" in response.text
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert get(store.app_store_url + "/").status_code == 200


def test_app_id_is_short_stable_and_names_the_urls(store: SandboxServer) -> None:
    assert store.app_id.isdigit() and len(store.app_id) == 6
    with SandboxServer() as other:
        assert other.app_id == store.app_id
    with SandboxServer(client_id="another-client") as other:
        assert other.app_id != store.app_id
    assert store.app_page_url == f"{store.base_url}/apps/{store.app_id}"
    assert store.install_url == f"{store.app_page_url}/install"


def test_install_redirects_to_the_authorization_url_with_the_encoded_redirect(
    store: SandboxServer,
) -> None:
    response = get(store.install_url)
    assert response.status_code == 302
    back = f"{store.base_url}/apps/{store.app_id}?success=true"
    assert response.headers["Location"] == f"{AUTHORIZATION_URL}?redirect={quote_plus(back)}"
    assert response.headers["Cache-Control"] == "no-store"
    assert flow.location_params(response) == {"redirect": back}
    assert store.store.install_started_at(store.app_id) is not None


def test_install_keeps_a_query_the_authorization_url_already_has(store: SandboxServer) -> None:
    store.authorization_url = "https://example.com/kit/oauth?tenant=a%20b&x=1"
    response = get(store.install_url)
    back = quote_plus(f"{store.app_page_url}?success=true")
    assert response.headers["Location"] == (
        f"https://example.com/kit/oauth?tenant=a%20b&x=1&redirect={back}"
    )


def test_without_an_authorization_url_install_does_not_redirect() -> None:
    with SandboxServer() as server:
        assert server.authorization_url is None
        response = get(server.install_url)
        assert response.status_code == 409
        assert "Location" not in response.headers
        assert "This app has no Authorization URL yet" in response.text
        assert server.store.install_started_at(server.app_id) is None
        server.authorization_url = "http://127.0.0.1:9/kit/oauth"
        assert (
            get(server.install_url)
            .headers["Location"]
            .startswith("http://127.0.0.1:9/kit/oauth?redirect=")
        )
        server.authorization_url = None
        assert get(server.install_url).status_code == 409


def test_app_page_says_installed_only_after_install_then_code_exchange(
    store: SandboxServer,
) -> None:
    assert heading(get(store.app_page_url)) == "Not installed yet"
    assert heading(get(store.app_page_url + "?success=true")) == "Not installed yet"
    back = install(store)
    assert heading(get(back)) == "Not installed yet"
    connect(store)
    page = get(back)
    assert heading(page) == "Installed"
    assert SANDBOX_APP_NAME in page.text and ">Install<" not in page.text
    assert heading(get(store.app_page_url)) == "Not installed yet"


def test_success_without_any_exchange_is_not_installed(store: SandboxServer) -> None:
    back = install(store)
    page = get(back)
    assert heading(page) == "Not installed yet"
    assert "has not finished connecting" in page.text
    assert f'href="/apps/{store.app_id}/install"' in page.text


def test_an_exchange_before_the_install_started_does_not_count(
    clocked: SandboxServer, clock: FakeClock
) -> None:
    connect(clocked)
    clock.now += 1
    back = install(clocked)
    assert heading(get(back)) == "Not installed yet"
    clock.now += 1
    connect(clocked)
    assert heading(get(back)) == "Installed"
    clock.now += 1
    assert heading(get(install(clocked))) == "Not installed yet"


def test_refreshes_and_failed_exchanges_after_the_install_do_not_count(
    clocked: SandboxServer, clock: FakeClock
) -> None:
    tokens = flow.connect(clocked.base_url)
    clock.now += 1
    back = install(clocked)
    clock.now += 1
    assert flow.refresh(clocked.base_url, tokens["refresh_token"]).status_code == 200
    pkce = Pkce.new()
    code = flow.get_code(clocked.base_url, pkce)
    assert flow.exchange(clocked.base_url, code, Pkce.new()).status_code == 400
    assert heading(get(back)) == "Not installed yet"


@pytest.mark.parametrize(
    "path",
    ["/apps/999999", "/apps/999999/install", "/apps/{id}/settings", "/apps/{id}/install/x"],
)
def test_unknown_apps_and_pages_are_404(store: SandboxServer, path: str) -> None:
    response = get(store.base_url + path.format(id=store.app_id))
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert "App not found" in response.text


def test_app_store_pages_answer_get_only(store: SandboxServer) -> None:
    response = requests.post(store.install_url, allow_redirects=False, timeout=5)
    assert response.status_code == 405 and "Location" not in response.headers
    assert store.store.install_started_at(store.app_id) is None


def test_pages_escape_the_app_name() -> None:
    name = '<script>alert("x")</script> & Co'
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
    with SandboxServer(app_name=name, authorization_url=AUTHORIZATION_URL) as server:
        back = install(server)
        pages = [get(server.app_store_url), get(server.app_page_url), get(back)]
        connect(server)
        pages.append(get(back))
        assert heading(pages[-1]) == "Installed"
        for page in pages:
            assert "<script>" not in page.text
            assert escaped in page.text
        server.authorization_url = None
        unset = get(server.install_url)
        assert unset.status_code == 409
        assert "<script>" not in unset.text and escaped in unset.text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "/kit/oauth",
        "https://",
        "https://example.com/a b",
        "https://example.com/\r\nSet-Cookie: x=1",
        "https://exämple.com/",
    ],
)
def test_bad_authorization_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Authorization URL"):
        SandboxServer(authorization_url=url)
    with SandboxServer() as server:
        with pytest.raises(ValueError, match="Authorization URL"):
            server.authorization_url = url
        assert server.authorization_url is None


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kit_desktop.sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_cli_authorization_url_flag() -> None:
    target = "http://127.0.0.1:9/kit/oauth"
    process = start_cli("--port", "0", "--authorization-url", target)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        store = get(f"{base_url}/apps")
        assert store.status_code == 200
        match = re.search(r'href="/apps/(\d+)/install"', store.text)
        assert match, store.text
        app_id = match.group(1)
        assert app_id == app_id_for(SANDBOX_CLIENT_ID)
        response = get(f"{base_url}/apps/{app_id}/install")
        assert response.status_code == 302
        back = quote_plus(f"{base_url}/apps/{app_id}?success=true")
        assert response.headers["Location"] == f"{target}?redirect={back}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert target in err and "Traceback" not in err


def test_cli_refuses_a_bad_authorization_url() -> None:
    process = start_cli("--authorization-url", "ftp://example.com/")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    assert "Authorization URL" in err and "Traceback" not in err
