"""The publisher's kit end to end: ``make relay-site``'s folder, hosted, carries a real connect.

``packaging/relay_site.py`` bakes a folder for three loopback ports; a plain static web
server hosts it (as GitHub Pages or any https host would); a standalone sandbox plays Kit
with the hosted page registered as its Redirect URI and Authorization URL; the real app
(not practice mode) connects, and installs from the App Store, in real Chromium.

The sandbox is not ``strict_https`` here: the hosted page is plain http on another origin,
which Kit's https rule would refuse (that rule is tested with the sandbox's own page).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request, Route
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.relay_page import (
    META_APP_HOSTS,
    META_CALLBACK_PATH,
    META_CALLBACK_PORTS,
    META_INSTALL_PORT,
    meta,
)
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from tests.helpers.browser import BrowserJob, chromium_path, open_in_thread
from tests.helpers.browser_steps import InBrowser
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.ports import probed_ports
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
#: Kit's app host, as the baked page and the app allow it; the browser maps it to the sandbox.
KIT_APP = "https://app.kit.com"
QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
pytestmark = [pytest.mark.browser, pytest.mark.qt_log_ignore(*QT_NOISE)]


def bake_folder(out: Path, redirect_uris: tuple[str, ...]) -> str:
    """Run ``packaging/relay_site.py`` as ``make relay-site`` does; return what it printed."""
    env = {**os.environ, "KIT_REDIRECT_URI": " ".join(redirect_uris)}
    result = subprocess.run(
        [sys.executable, "packaging/relay_site.py", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class StaticHost:
    """A plain static web server for one folder, like any https static host; records paths."""

    def __init__(self, folder: Path) -> None:
        self.requests: list[str] = []
        host = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                host.requests.append(self.path)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=folder))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The hosted relay page's address."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/relay.html"

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._thread.join(timeout=5)
        self._httpd.server_close()


@dataclass
class Road:
    """Everything on a creator's road: the hosted page, Kit, the app and its browsers."""

    ports: tuple[int, ...]
    site: StaticHost
    kit: SandboxServer
    gui: GuiApp
    browsers: list[BrowserJob] = field(default_factory=list)


@pytest.fixture
def road(qtbot: QtBot, tmp_path: Path) -> Iterator[Road]:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    ports = probed_ports(3)
    uris = tuple(f"http://127.0.0.1:{port}/callback" for port in ports)
    said = bake_folder(tmp_path / "relay-site", uris)
    assert "relay_url is not set yet" in said
    page = (tmp_path / "relay-site" / "relay.html").read_text(encoding="utf-8")
    assert meta(page, META_CALLBACK_PORTS) == " ".join(map(str, ports))
    assert meta(page, META_INSTALL_PORT) == str(ports[0])
    assert meta(page, META_CALLBACK_PATH) == "/callback"
    assert meta(page, META_APP_HOSTS) == "app.kit.com"
    assert (tmp_path / "relay-site" / ".nojekyll").is_file()
    with ExitStack() as stack:
        site = StaticHost(tmp_path / "relay-site")
        stack.callback(site.stop)
        kit = SandboxServer(redirect_uris=(site.url,), authorization_url=site.url).start()
        stack.callback(kit.stop)
        browsers: list[BrowserJob] = []

        def opener(url: str) -> bool:
            browsers.append(open_in_thread(url, "allow", timeout=30))
            return True

        settings = replace(
            Settings(redirect_uris=uris).with_sandbox(kit.base_url), relay_url=site.url
        )
        gui = GuiApp(settings, practice=False, opener=opener, backend=MemoryKeyring())
        stack.callback(gui.window.close)
        stack.callback(gui.shutdown)
        gui.show()
        qtbot.waitUntil(
            lambda: gui.session is not None and gui.session.view.storage is not None,
            timeout=10_000,
        )
        yield Road(ports, site, kit, gui, browsers)


def test_a_connect_goes_through_the_hosted_folder(qtbot: QtBot, road: Road) -> None:
    session = road.gui.session
    assert session is not None
    road.gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=40_000)
    qtbot.waitUntil(lambda: bool(road.browsers) and road.browsers[0].done, timeout=30_000)
    page = road.browsers[0].wait()
    assert "Connected" in page.text, page
    assert any(page.url.startswith(f"http://127.0.0.1:{port}/") for port in road.ports), page
    assert any(line.startswith("/relay.html?code=") for line in road.site.requests)
    assert session.view.headline.startswith("Connected as")


class KitAppInstall:
    """A creator clicks Install in Kit's App Store and Allow (steps for :class:`InBrowser`).

    Kit's App Store is on ``https://app.kit.com``, another origin than the publisher's page;
    the browser maps that host onto the sandbox (Playwright routes) and writes Kit's host
    into the sandbox's ``redirect``, so the hosted page and the app judge the real thing.
    """

    def __init__(self, kit: SandboxServer) -> None:
        self.kit = kit
        self.sent_back = ""
        self.url = ""

    def __call__(self, page: Page) -> str:
        page.context.route(f"{KIT_APP}/**", self._as_kit)
        page.goto(self.kit.install_url.replace(self.kit.base_url, KIT_APP, 1), wait_until="load")

        def back_to_kit(request: Request) -> bool:
            return request.url.startswith(f"{KIT_APP}/apps/{self.kit.app_id}")

        # Routes see only the first request of a navigation, not the redirects after it, so
        # the app's redirect back to Kit fails to resolve (offline): load that address again.
        with page.expect_event("requestfailed", back_to_kit, timeout=30_000) as back:
            page.click("#allow")
        try:
            page.wait_for_url("chrome-error://**")
        except PlaywrightError as exc:  # Playwright may report the failed navigation itself
            if "ERR_NAME_NOT_RESOLVED" not in exc.message:
                raise
            page.wait_for_url("chrome-error://**")
        self.sent_back = back.value.url
        page.goto(self.sent_back, wait_until="load")
        self.url = page.url
        return page.inner_text("body")

    def _as_kit(self, route: Route) -> None:
        sandbox = route.request.url.replace(KIT_APP, self.kit.base_url, 1)
        answer = route.fetch(url=sandbox, max_redirects=0)
        headers = dict(answer.headers)
        if "location" in headers:
            headers["location"] = headers["location"].replace(
                quote(self.kit.base_url, safe=""), quote(KIT_APP, safe="")
            )
        route.fulfill(response=answer, headers=headers)


def test_an_app_store_install_goes_through_the_hosted_folder(qtbot: QtBot, road: Road) -> None:
    session = road.gui.session
    assert session is not None
    install = KitAppInstall(road.kit)
    browser = InBrowser(install)
    qtbot.waitUntil(lambda: not browser.is_alive(), timeout=60_000)
    text = browser.outcome()
    assert install.sent_back == f"{KIT_APP}/apps/{road.kit.app_id}?success=true"
    assert install.url == install.sent_back
    assert "Installed" in text
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert not road.browsers, "an install runs in Kit's own tab; no other is opened"
    hops = road.site.requests
    assert any(line.startswith("/relay.html?redirect=https%3A%2F%2Fapp.kit.com") for line in hops)
    assert any(line.startswith("/relay.html?code=") for line in hops)
