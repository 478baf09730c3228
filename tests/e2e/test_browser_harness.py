"""The real-browser harness: headless Chromium answers the sandbox's consent page."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from kit_desktop.sandbox import SandboxServer
from tests.helpers.browser import (
    BrowserUser,
    FinalPage,
    browser_env,
    chromium_path,
    open_in_thread,
    wait_for_result,
)
from tests.helpers.flow import Pkce, authorize_params
from tests.helpers.realparts import require

pytestmark = pytest.mark.browser

DONE_PAGE = b"<!doctype html><title>Done</title><h1>Done</h1><p>Return to the app.</p>"


class Receiver:
    """A stand-in for the app's loopback receiver: records ``/callback``, shows ``/done``."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.called = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The receiver's origin."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def callback_url(self) -> str:
        """The redirect URI to register with the sandbox."""
        return f"{self.base_url}/callback"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            receiver.paths.append(parts.path)
            if parts.path == "/callback":
                query = parse_qs(parts.query)
                receiver.queries.append({key: values[0] for key, values in query.items()})
                receiver.called.set()
                self._send(302, b"", {"Location": "/done"})
            elif parts.path == "/done":
                self._send(200, DONE_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            else:
                self._send(404, b"Not found", {"Content-Type": "text/plain"})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running stand-in receiver."""
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def kit(receiver: Receiver) -> Iterator[SandboxServer]:
    """A sandbox that shows consent and redirects to the stand-in receiver."""
    with SandboxServer(redirect_uris=[receiver.callback_url]) as server:
        yield server


@pytest.fixture
def state() -> str:
    """A fresh OAuth state value."""
    return "state-" + os.urandom(8).hex()


@pytest.fixture
def authorize_url(kit: SandboxServer, receiver: Receiver, state: str) -> str:
    """An authorization URL as the app would build it, with PKCE."""
    params = authorize_params(Pkce.new(), redirect_uri=receiver.callback_url, state=state)
    return f"{kit.base_url}/v4/oauth/authorize?{urlencode(params)}"


def assert_done(page: FinalPage, receiver: Receiver) -> None:
    assert page.url == f"{receiver.base_url}/done"
    assert page.status == 200
    assert page.title == "Done"
    assert "Done" in page.text


def test_allow_sends_a_code_to_the_receiver(
    browser_user: BrowserUser, receiver: Receiver, authorize_url: str, state: str
) -> None:
    page = browser_user.visit_and_decide(authorize_url, "allow")

    assert_done(page, receiver)
    assert len(receiver.queries) == 1
    query = receiver.queries[0]
    assert query["state"] == state
    assert len(query["code"]) >= 32
    assert "error" not in query


def test_deny_sends_access_denied(
    browser_user: BrowserUser, receiver: Receiver, authorize_url: str, state: str
) -> None:
    page = browser_user.visit_and_decide(authorize_url, "deny")

    assert_done(page, receiver)
    assert receiver.queries == [
        {
            "error": "access_denied",
            "error_description": "The resource owner or authorization server denied the request.",
            "state": state,
        }
    ]


def test_none_stays_on_the_consent_page(
    browser_user: BrowserUser, kit: SandboxServer, receiver: Receiver, authorize_url: str
) -> None:
    page = browser_user.visit_and_decide(authorize_url, "none")

    assert page.url == authorize_url
    assert page.status == 200
    assert page.title == f"Authorize {kit.app.name} - Kit"
    assert "would like to connect to your Kit account" in page.text
    assert receiver.paths == []


def test_a_receiver_that_is_gone_ends_on_an_error_page(
    browser_user: BrowserUser, receiver: Receiver, authorize_url: str
) -> None:
    receiver.stop()

    page = browser_user.visit_and_decide(authorize_url, "allow")

    assert page.url.startswith("chrome-error://")
    assert page.status is None
    assert receiver.queries == []


def test_the_browser_runs_in_another_thread(
    receiver: Receiver, authorize_url: str, state: str
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")

    job = open_in_thread(authorize_url, "allow")
    assert receiver.called.wait(timeout=20)
    page = job.wait(timeout=20)

    assert job.done
    assert_done(page, receiver)
    assert receiver.queries[0]["state"] == state


def test_a_browser_user_refuses_other_threads(browser_user: BrowserUser) -> None:
    errors: list[BaseException] = []

    def visit() -> None:
        try:
            browser_user.visit_and_decide("about:blank", "none")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=visit)
    thread.start()
    thread.join(timeout=10)

    assert len(errors) == 1
    assert "thread" in str(errors[0])


def test_webbrowser_with_the_browser_env_runs_the_test_user(
    tmp_path: Path, receiver: Receiver, authorize_url: str, state: str
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    result = tmp_path / "browser.json"
    env = {**os.environ, **browser_env("deny", result)}
    opener = "import sys, webbrowser; sys.exit(0 if webbrowser.open(sys.argv[1]) else 3)"

    # The app's own route: webbrowser.open() reading BROWSER, from another working directory.
    opened = subprocess.run(
        [sys.executable, "-c", opener, authorize_url],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert opened.returncode == 0, opened.stderr
    page = wait_for_result(result, timeout=30)
    assert_done(page, receiver)
    assert receiver.queries[0]["error"] == "access_denied"
    assert receiver.queries[0]["state"] == state
