"""The running app with real Chromium: an App Store install, relay mode, and the paste fallback.

The app runs in-process (offscreen) in practice mode; Chromium runs on its own thread
(Playwright's sync API stays in the thread that starts it) while the test's thread runs
the Qt event loop.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, sync_playwright
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from tests.helpers.browser import CHROMIUM_FLAGS, BrowserJob, chromium_path, open_in_thread
from tests.helpers.gui_apps import LOOPBACK, QT_NOISE, show_app
from tests.helpers.realparts import require
from tests.helpers.relay_server import RelaySite

pytestmark = [pytest.mark.browser, pytest.mark.qt_log_ignore(*QT_NOISE)]


@pytest.fixture
def apps(gui_apps: list[GuiApp]) -> list[GuiApp]:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    return gui_apps


def start(
    qtbot: QtBot,
    apps: list[GuiApp],
    settings: Settings,
    opener: Callable[[str], bool],
    *,
    practice: bool = True,
) -> GuiApp:
    return show_app(qtbot, apps, settings, opener, practice=practice)


def test_install_from_the_sandbox_app_store_in_chromium(qtbot: QtBot, apps: list[GuiApp]) -> None:
    gui = start(qtbot, apps, Settings(redirect_uris=LOOPBACK), lambda url: False)
    assert gui.sandbox is not None and gui.session is not None
    session = gui.session
    job = open_in_thread(gui.sandbox.install_url, "allow", timeout=30)
    qtbot.waitUntil(lambda: job.done, timeout=40_000)
    page = job.wait()
    assert page.url.startswith(gui.sandbox.app_page_url), page
    assert "Installed" in page.text
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert session.view.headline.startswith("Connected as")
    assert gui.sandbox.relay.pages_served == 2, "in through the relay page, and back through it"


def test_install_with_kits_bare_redirect_in_chromium(qtbot: QtBot, apps: list[GuiApp]) -> None:
    # Kit's authentication docs show ?redirect=https://app.kit.com/apps (no app id).
    gui = start(qtbot, apps, Settings(redirect_uris=LOOPBACK), lambda url: False)
    assert gui.sandbox is not None and gui.session is not None
    gui.sandbox.store.redirect_form = "bare"
    session = gui.session
    job = open_in_thread(gui.sandbox.install_url, "allow", timeout=30)
    qtbot.waitUntil(lambda: job.done, timeout=40_000)
    page = job.wait()
    assert page.url == gui.sandbox.app_store_url, page
    assert "App Store" in page.text and "Installed" in page.text
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)


def test_practice_connect_walks_the_relay_road_in_chromium(
    qtbot: QtBot, apps: list[GuiApp]
) -> None:
    jobs: list[BrowserJob] = []

    def opener(url: str) -> bool:
        jobs.append(open_in_thread(url, "allow", timeout=30))
        return True

    gui = start(qtbot, apps, Settings(redirect_uris=LOOPBACK), opener)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=40_000)
    page = jobs[0].wait()
    assert "Connected as Sandbox Creator Studio" in page.text
    assert sandbox.relay.pages_served == 1
    assert sandbox.app.redirect_uris == (sandbox.relay_url,), "registered as Kit would take it"


@pytest.fixture
def kit_with_site() -> Iterator[tuple[SandboxServer, RelaySite]]:
    """A Kit stand-in whose registered Redirect URI is a relay page on a separate site."""
    with RelaySite() as site, SandboxServer(redirect_uris=(site.url(),)) as kit:
        yield kit, site


def relay_settings(kit: SandboxServer, site: RelaySite) -> Settings:
    """An app configured for ``kit`` (not practice mode) with the site's relay page."""
    return replace(
        Settings(redirect_uris=LOOPBACK).with_sandbox(kit.base_url), relay_url=site.url()
    )


def register_attempt_port(site: RelaySite, session: KitSession | None) -> None:
    """Bake the port the app bound into the site's page, as a publisher's build would."""
    assert session is not None and session.attempts.attempt is not None
    site.settings["kit-desktop-callback-ports"] = session.attempts.attempt.state.split(".")[0]


def test_relay_mode_connects_through_the_relay_page(
    qtbot: QtBot, apps: list[GuiApp], kit_with_site: tuple[SandboxServer, RelaySite]
) -> None:
    kit, site = kit_with_site
    jobs: list[object] = []

    def opener(url: str) -> bool:
        register_attempt_port(site, gui.session)
        jobs.append(open_in_thread(url, "allow", timeout=30))
        return True

    gui = start(qtbot, apps, relay_settings(kit, site), opener, practice=False)
    session = gui.session
    assert session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=40_000)
    job = jobs[0]
    assert hasattr(job, "wait")
    page = job.wait()
    assert "Connected" in page.text
    assert any(line.startswith("/relay.html?code=") for line in site.requests)


class FallbackVisit(threading.Thread):
    """Allow in Kit; the relay cannot reach the app (refused); Back shows the code."""

    def __init__(self, url: str, app_port: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.app_port = app_port
        self.code = ""
        self.words = ""
        self.error = ""
        self.start()

    def run(self) -> None:
        profile = tempfile.mkdtemp(prefix="kit-test-chromium-")
        try:
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    profile,
                    executable_path=chromium_path(),
                    headless=True,
                    args=list(CHROMIUM_FLAGS),
                    chromium_sandbox=False,
                )
                try:
                    self._visit(context.new_page())
                finally:
                    context.close()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def _visit(self, page: Page) -> None:
        def refuse(route: Route) -> None:
            route.abort("connectionrefused")

        page.route(f"http://127.0.0.1:{self.app_port}/callback*", refuse)
        page.goto(self.url, wait_until="load")
        page.click("#allow")
        for _ in range(2):  # Playwright may first report the refused navigation itself
            try:
                page.wait_for_url("chrome-error://**", timeout=15_000)
                break
            except PlaywrightError as exc:
                if "ERR_CONNECTION_REFUSED" not in exc.message:
                    raise
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        page.go_back(wait_until="load")
        page.wait_for_selector("#code", state="visible", timeout=10_000)
        self.code = page.input_value("#code") or page.inner_text("#code")
        self.words = page.inner_text("body")


def test_relay_fallback_code_pasted_into_the_app(
    qtbot: QtBot, apps: list[GuiApp], kit_with_site: tuple[SandboxServer, RelaySite]
) -> None:
    kit, site = kit_with_site
    opened: list[str] = []

    def opener(url: str) -> bool:
        register_attempt_port(site, gui.session)
        opened.append(url)
        return True

    gui = start(qtbot, apps, relay_settings(kit, site), opener, practice=False)
    session = gui.session
    assert session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=10_000)
    attempt = session.attempts.attempt
    assert attempt is not None
    port = int(attempt.state.split(".")[0])
    visit = FallbackVisit(opened[0], port)
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=45_000)
    assert not visit.error, visit.error
    assert "paste" in visit.words.lower()
    assert visit.code
    box = gui.window.card.paste_box
    box.toggle_button.click()
    box.field.setText(visit.code)
    box.continue_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
