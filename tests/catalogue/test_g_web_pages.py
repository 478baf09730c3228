"""Catalogue G, cases 71, 73 and 76: web pages in the creator's browser, and what they cannot do.

Any page the creator has open can make their browser request 127.0.0.1 addresses: hidden
(``<img>``, ``<iframe>``, ``fetch`` with ``no-cors``) or as a top-level navigation. The
pages here are served from a second local origin (``http://localhost:PORT``, another site
than ``127.0.0.1``) and opened in real headless Chromium, while the real app runs in
practice mode: its install entry, its loopback receiver, the sandbox's App Store.
"""

from __future__ import annotations

import argparse
import io
import logging
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Page
from pytestqt.qtbot import QtBot

from kit_desktop.cli import Cli
from kit_desktop.cli_args import add_commands
from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import build_services
from kit_desktop.state import AttemptView, Phase
from tests.helpers.browser import chromium_path
from tests.helpers.browser_steps import InBrowser
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.gui_apps import LOOPBACK, QT_NOISE, no_browser, recorder, show_app
from tests.helpers.realparts import require
from tests.helpers.relay_server import RelaySite
from tests.helpers.user_browser import UserBrowser

pytestmark = [pytest.mark.browser, pytest.mark.qt_log_ignore(*QT_NOISE)]


@pytest.fixture
def apps(gui_apps: list[GuiApp]) -> list[GuiApp]:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    return gui_apps


def start(qtbot: QtBot, apps: list[GuiApp], opener: Callable[[str], bool] = no_browser) -> GuiApp:
    return show_app(qtbot, apps, opener=opener)


def install_entry(gui: GuiApp) -> str:
    """The app's install entry with Kit's (here: the sandbox's) app page as ``redirect``."""
    assert gui.installs is not None and gui.sandbox is not None
    return f"{gui.installs.url}?redirect={quote(gui.sandbox.app_page_url + '?success=true')}"


def hidden_requests_page(*targets: str) -> str:
    """A page that makes the browser request ``targets`` without showing them."""
    tags = "".join(
        f'<img src="{target}" alt=""><iframe src="{target}"></iframe>'
        f'<link rel="stylesheet" href="{target}">'
        for target in targets
    )
    fetches = "".join(
        f'fetch("{target}", {{mode: "no-cors"}}).catch(() => 0);' for target in targets
    )
    return (
        "<!doctype html><title>A page</title><link rel=icon href='data:,'>"
        f"{tags}<script>{fetches}</script>"
    )


def visit(url: str) -> Callable[[Page], str]:
    """Steps: open ``url`` and let it load (and make whatever requests it makes)."""

    def steps(page: Page) -> str:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)
        return page.title()

    return steps


def connect(qtbot: QtBot, gui: GuiApp) -> None:
    """Connect in practice with a browser stand-in that clicks Allow."""
    session = gui.session
    assert session is not None
    gui.opener = UserBrowser("allow").open
    session.opener = gui.opener
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED)


def asked(gui: GuiApp) -> bool:
    """Whether the window asks the creator about an install now."""
    return getattr(gui.window, "install_box", None) is not None


def attention(gui: GuiApp) -> list[bool]:
    raised: list[bool] = []
    assert gui.session is not None
    gui.session.attention_requested.connect(lambda: raised.append(True))
    return raised


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The app's log lines for requests refused as not being a page the creator opened."""
    words = ("not a page visit", "refused an install entry (sec-fetch")
    return [r.getMessage() for r in caplog.records if any(w in r.getMessage() for w in words)]


def test_c71_hidden_requests_from_a_web_page_start_nothing(
    qtbot: QtBot, apps: list[GuiApp], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kit_desktop")
    gui = start(qtbot, apps)
    raised = attention(gui)
    entry = install_entry(gui)
    with RelaySite(extra_pages={"/page.html": hidden_requests_page(entry)}) as site:
        evil = f"http://localhost:{site.port}/page.html"
        browser = InBrowser(visit(evil))
        qtbot.waitUntil(lambda: not browser.is_alive(), timeout=30_000)
        browser.outcome()
    session = gui.session
    assert session is not None
    # img, iframe, stylesheet and fetch: all four arrived, and each was refused
    qtbot.waitUntil(lambda: len(refusals(caplog)) >= 4 or session.attempts.attempt is not None)
    assert session.view.phase is Phase.NOT_CONNECTED
    assert session.attempts.attempt is None
    assert raised == [], "a web page never pulls the window forward"


def test_c71_hidden_requests_cannot_use_or_spoil_a_running_attempt(
    qtbot: QtBot, apps: list[GuiApp], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kit_desktop")
    opened: list[str] = []
    gui = start(qtbot, apps, recorder(opened))
    session = gui.session
    assert session is not None
    attempts: list[AttemptView] = []
    session.attempt_changed.connect(attempts.append)
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
    attempt = session.attempts.attempt
    start_link = opened[0]
    page_html = hidden_requests_page(start_link, install_entry(gui))
    with RelaySite(extra_pages={"/page.html": page_html}) as site:
        evil = f"http://localhost:{site.port}/page.html"
        browser = InBrowser(visit(evil))
        qtbot.waitUntil(lambda: not browser.is_alive(), timeout=30_000)
        browser.outcome()
    qtbot.waitUntil(lambda: len(refusals(caplog)) >= 8 or session.attempts.attempt is not attempt)
    assert session.view.phase is Phase.WAITING
    assert (
        session.attempts.attempt is not None
        and session.attempts.attempt.state == attempts[-1].state
    )
    UserBrowser("allow").open(start_link)  # the creator's own visit still works
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED)


def navigate_from_a_web_page(site: RelaySite, target: str) -> Callable[[Page], str]:
    """Steps: open a page on another origin that sends the whole tab to ``target``."""
    site.extra_pages["/go.html"] = (
        "<!doctype html><title>Go</title><link rel=icon href='data:,'>"
        f"<script>window.location.replace({target!r});</script>"
    )

    def steps(page: Page) -> str:
        page.goto(f"http://localhost:{site.port}/go.html", wait_until="commit")
        page.wait_for_url(lambda url: "/go.html" not in url, wait_until="load")
        return page.inner_text("body")

    return steps


def test_c71_a_web_page_cannot_replace_a_saved_connection(qtbot: QtBot, apps: list[GuiApp]) -> None:
    gui = start(qtbot, apps)
    connect(qtbot, gui)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None and session.view.tokens is not None
    saved = session.view.tokens.access_token
    raised = attention(gui)
    with RelaySite() as site:
        browser = InBrowser(navigate_from_a_web_page(site, install_entry(gui)))
        qtbot.waitUntil(
            lambda: asked(gui) or session.view.phase is not Phase.CONNECTED, timeout=30_000
        )
        words = browser.outcome()
    assert session.view.phase is Phase.CONNECTED, "nothing was replaced on the page's say-so"
    assert "asking in its window" in words and "Nothing changes unless you agree there" in words
    box = gui.window.install_box
    assert box is not None and "replaces your connection to creator@example.com" in box.text()
    assert raised == []
    box.reject()  # "Keep current connection"
    qtbot.waitUntil(lambda: gui.window.install_box is None)
    assert session.view.phase is Phase.CONNECTED
    assert session.view.tokens is not None and session.view.tokens.access_token == saved
    assert sandbox.oauth.check_access_token(saved).status == "ok"


def test_c71_a_web_page_cannot_replace_a_running_attempt(qtbot: QtBot, apps: list[GuiApp]) -> None:
    opened: list[str] = []
    gui = start(qtbot, apps, recorder(opened))
    session = gui.session
    assert session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
    state = session.attempts.attempt.state if session.attempts.attempt else ""
    with RelaySite() as site:
        browser = InBrowser(navigate_from_a_web_page(site, install_entry(gui)))
        qtbot.waitUntil(
            lambda: asked(gui) or session.view.headline.startswith("Kit asked"), timeout=30_000
        )
        browser.outcome()
    assert session.attempts.attempt is not None and session.attempts.attempt.state == state, (
        "not replaced"
    )
    box = gui.window.install_box
    assert box is not None and "replaces the connection you started" in box.text()
    box.reject()
    UserBrowser("allow").open(opened[0])  # the creator's own Allow still works
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED)


def test_c76_an_install_the_creator_agreed_to_replaces_and_revokes(
    qtbot: QtBot, apps: list[GuiApp]
) -> None:
    gui = start(qtbot, apps)
    connect(qtbot, gui)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None and session.view.tokens is not None
    old = session.view.tokens.access_token
    assert sandbox.oauth.check_access_token(old).status == "ok"
    installer = UserBrowser("allow")
    gui.opener = installer.open
    session.opener = installer.open
    with RelaySite() as site:
        # Kit's App Store, then the relay page, then the install entry: a real install.
        browser = InBrowser(navigate_from_a_web_page(site, sandbox.install_url))
        qtbot.waitUntil(lambda: asked(gui), timeout=30_000)
        browser.outcome()
    box = gui.window.install_box
    assert box is not None
    replace = next(b for b in box.buttons() if b.text() == "Replace connection")
    replace.click()
    qtbot.waitUntil(lambda: installer.opened == 1)
    qtbot.waitUntil(
        lambda: (
            session.view.phase is Phase.CONNECTED
            and session.view.tokens is not None
            and session.view.tokens.access_token != old
        )
    )
    installer.join()
    assert installer.visits[0].done_status == 303, "the browser goes back to Kit's app page"
    # Catalogue 76: the replaced tokens were revoked at Kit, not just forgotten.
    assert sandbox.oauth.check_access_token(old).status == "invalid"
    answer = requests.get(
        f"{sandbox.base_url}/v4/account",
        headers={"Authorization": f"Bearer {old}"},
        timeout=10,
    )
    assert answer.status_code == 401


def test_c76_a_reconnect_on_the_command_line_revokes_the_replaced_tokens(
    sandbox_for_cli: SandboxServer,
) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", action="store_true")
    add_commands(parser)
    settings = Settings(redirect_uris=LOOPBACK, route="direct").with_sandbox(
        sandbox_for_cli.base_url
    )
    services = build_services(settings, backend=MemoryKeyring())
    browser = UserBrowser("allow")
    out = io.StringIO()
    cli = Cli(settings, services=services, opener=browser.open, out=out, err=io.StringIO())
    assert cli.run(parser.parse_args(["connect"])) == 0
    first = services.tokens.tokens
    assert first is not None
    assert cli.run(parser.parse_args(["connect"])) == 0
    second = services.tokens.tokens
    assert second is not None and second.access_token != first.access_token
    assert sandbox_for_cli.oauth.check_access_token(first.access_token).status == "invalid"
    assert sandbox_for_cli.oauth.check_access_token(second.access_token).status == "ok"


@pytest.fixture
def sandbox_for_cli() -> Iterator[SandboxServer]:
    with SandboxServer(loopback_any_port=True, redirect_uris=LOOPBACK) as server:
        yield server
