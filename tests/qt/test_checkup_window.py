"""Help > "Check this computer…" in the real window (issue 17, item 2).

The app runs in practice mode; its practice Kit answers the token endpoint slowly, so the
check-up is still running while the test watches the window go on handling events.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox.faults import Fault
from kit_desktop.ui.doctor_dialog import CHECKING
from tests.helpers.gui_apps import QT_NOISE, show_app

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)
DELAY = 1.5


def help_action(gui: GuiApp, text: str) -> QAction:
    for menu_action in gui.window.menuBar().actions():
        menu = menu_action.menu()
        if menu_action.text().replace("&", "") == "Help" and isinstance(menu, QMenu):
            for action in menu.actions():
                if action.text() == text:
                    return action
    raise AssertionError(f"no Help item {text!r}")


def test_check_this_computer_runs_off_the_gui_thread_and_shows_each_line(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = show_app(qtbot, gui_apps)
    assert gui.sandbox is not None
    gui.sandbox.faults.set("/v4/oauth/token", Fault("delay", seconds=DELAY))
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()

    help_action(gui, "Check this computer…").trigger()

    dialog = gui.window.checkup_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.heading == CHECKING
    assert dialog.running and not dialog.copy_button.isEnabled()
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=int(DELAY * 1000))
    assert dialog.running, "the window kept handling events while the checks ran"
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    timer.stop()

    text = dialog.text
    assert "checking this computer for the practice Kit" in text
    for title in (
        "Ports for Kit's answer",
        "Receiving Kit's answer on this computer",
        "Secure storage",
        "This computer's clock",
        "Proxy and certificate settings",
        "Web browser",
        "Kit's servers",
        "Relay page",
    ):
        assert f"  {title}: " in text
    assert text.splitlines()[-1] == dialog.heading
    for title in ("Receiving Kit's answer", "Secure storage", "Kit's servers", "Relay page"):
        assert any(row.startswith("OK") and title in row for row in text.splitlines()), text

    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    dialog.close_button.click()
    qtbot.waitUntil(lambda: gui.window.checkup_dialog is None)
