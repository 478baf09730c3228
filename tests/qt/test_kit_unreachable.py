"""Connect checks that Kit can be reached before anyone is sent to the browser (issue 16, 2).

The window is the real app in practice mode; "Kit unreachable" is its practice Kit
stopped (the port then refuses, as an offline computer's connection would fail). The
command line is the real ``main.py connect`` against a port that refuses.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop import reach
from kit_desktop.errors import KitUnreachableError
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import Phase
from tests.helpers.gui_apps import QT_NOISE, recorder, show_app
from tests.helpers.main_process import run_main
from tests.helpers.ports import refused_port
from tests.helpers.screen import visible_text

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)
ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "Kit can't be reached from this computer right now, so your browser was not opened."


def phase_of(gui: GuiApp) -> Phase:
    assert gui.session is not None
    return gui.session.view.phase


def test_the_window_says_kit_cannot_be_reached_and_opens_no_browser(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    opened: list[str] = []
    gui = show_app(qtbot, gui_apps, opener=recorder(opened))
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
    sandbox.stop()  # Kit is out of reach

    gui.window.card.primary_button.click()

    qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED, timeout=15_000)
    shown = visible_text(gui.window.card)
    assert UNREACHABLE in shown
    assert "Check your internet connection, then click “Try again”." in shown
    assert gui.window.card.primary_button.text() == "Try again"
    assert "Kit is open in your browser" not in shown
    assert opened == [], "nobody is sent to a page that cannot load"
    assert not session.attempts.listening, "nothing waits for an answer that cannot come"


def test_cancel_while_checking_ends_quietly_and_the_late_check_is_dropped(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    # A slow network is the one part faked: the check waits until the test lets it go.
    release = threading.Event()

    def slow_check(url: str) -> None:
        release.wait(10)

    opened: list[str] = []
    gui = show_app(qtbot, gui_apps, opener=recorder(opened))
    session = gui.session
    assert session is not None
    session.reach = slow_check
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
    gui.window.card.primary_button.click()
    assert phase_of(gui) is Phase.OPENING
    assert gui.window.card.primary_button.text() == "Cancel"

    gui.window.card.primary_button.click()
    assert phase_of(gui) is Phase.NOT_CONNECTED
    assert "Connecting was cancelled." in visible_text(gui.window.card)
    release.set()
    qtbot.wait(300)
    assert session.view.phase is Phase.NOT_CONNECTED and opened == []
    assert not session.attempts.listening


def test_connect_on_the_command_line_says_kit_cannot_be_reached(tmp_path: Path) -> None:
    marker = tmp_path / "browser-ran"
    with refused_port() as port:
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "KIT_CLIENT_ID": "offline-client",
            "KIT_AUTHORIZE_URL": f"{base}/v4/oauth/authorize",
            "KIT_TOKEN_URL": f"{base}/v4/oauth/token",
            "KIT_API_URL": base,
            "KIT_ROUTE": "direct",
            "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",
            "BROWSER": f"touch {marker}",
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        done = run_main("connect", env=env)
    assert done.returncode == 1
    assert done.stdout == "", "no link is printed for a page that cannot load"
    assert UNREACHABLE in done.stderr
    assert "Check your internet connection, then run connect again." in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()


def test_an_unknown_name_is_unreachable_too() -> None:
    with pytest.raises(KitUnreachableError) as raised:
        reach.check_reachable("https://kit-desktop-test.invalid/oauth/authorize", timeout=3)
    assert "name not found" in raised.value.detail


def test_a_remote_address_that_takes_no_connection_does_not_lock_the_creator_out() -> None:
    """A firewall or a proxy script the check cannot read may still let the browser out."""
    reach.check_reachable("https://192.0.2.1/oauth/authorize", timeout=1)  # TEST-NET-1


def test_the_check_goes_to_the_proxy_the_system_would_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "internal.example")
    assert reach._first_hop("https://app.kit.com/oauth/authorize") == ("proxy.example", 3128)
    assert reach._first_hop("https://internal.example/x") == ("internal.example", 443)
    assert reach._first_hop("http://127.0.0.1:9/x") == ("127.0.0.1", 9), "practice: direct"
    monkeypatch.delenv("https_proxy")
    assert reach._first_hop("https://app.kit.com/oauth/authorize") == ("app.kit.com", 443)


def test_an_install_agreed_to_during_the_check_is_not_undone_by_the_checks_answer(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    release, browser_gate = threading.Event(), threading.Event()

    def slow_check(url: str) -> None:
        release.wait(10)

    opened: list[str] = []

    def slow_browser(url: str) -> bool:  # the browser takes its time to come up
        opened.append(url)
        browser_gate.wait(10)
        return True

    gui = show_app(qtbot, gui_apps, opener=slow_browser)
    session = gui.session
    assert session is not None
    session.reach = slow_check
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
    gui.window.card.primary_button.click()  # Connect: Kit is being checked
    assert phase_of(gui) is Phase.OPENING

    session.start_install("https://app.kit.com/apps/123?success=true")  # the window asks
    session.answer_install(True)  # the creator agrees: the install's attempt starts
    install_attempt = session.attempts.attempt
    assert install_attempt is not None
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=15_000)

    release.set()  # the check answers while the install's browser is still opening
    qtbot.wait(300)
    browser_gate.set()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=15_000)
    assert session.attempts.attempt is install_attempt, "the install's attempt goes on"
    assert len(opened) == 1, "the browser was opened once"
