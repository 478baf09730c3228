"""What the window says about practice mode, Disconnect and its keys (issue 16, items 7, 8, 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from kit_desktop.state import Phase
from kit_desktop.ui.info_dialog import InfoDialog
from kit_desktop.ui.main_window import MainWindow
from tests.qt.test_ui_support import (
    OFFSCREEN_NOISE,
    FakeClock,
    box_button,
    build_window,
    disconnect_box,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton
REPO = Path(__file__).resolve().parents[2]
CONNECT_PHASES = (Phase.NOT_CONNECTED, Phase.RECONNECT_NEEDED, Phase.FAILED)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    window = build_window(qtbot, tmp_path, FakeClock())
    window.activateWindow()
    qtbot.waitActive(window)
    return window


def menu(window: MainWindow, title: str) -> QMenu:
    (found,) = [a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == title]
    assert isinstance(found, QMenu)
    return found


def item_texts(window: MainWindow, title: str) -> list[str]:
    return [a.text() for a in menu(window, title).actions() if not a.isSeparator()]


def item(window: MainWindow, title: str, text: str) -> QAction:
    (found,) = [a for a in menu(window, title).actions() if a.text() == text]
    return found


def open_info(qtbot: QtBot, window: MainWindow) -> InfoDialog:
    qtbot.waitUntil(lambda: window.findChild(InfoDialog) is not None, timeout=1000)
    dialog = window.findChild(InfoDialog)
    assert isinstance(dialog, InfoDialog)
    qtbot.waitExposed(dialog)
    return dialog


# --- item 7: practice mode, in plain words ------------------------------------------------------


def test_the_practice_banner_says_what_practice_mode_is(window: MainWindow) -> None:
    window.show_view(view(Phase.NOT_CONNECTED, practice=True))
    banner = window.practice_banner
    assert banner.isVisible()
    assert banner.text == (
        "Practice mode: Kit Desktop is using a built-in practice Kit with sample data. "
        "Nothing you do here reaches your real Kit account."
    )
    assert banner.accessibleName() == banner.text
    assert banner.button is not None and banner.button.text() == "Learn more…"


def test_help_explains_how_to_connect_a_real_account_in_practice_mode(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_view(view(Phase.NOT_CONNECTED, practice=True))
    assert item_texts(window, "Help") == [
        "How to connect your real Kit account…",
        "Check this computer…",
        "Copy diagnostics",
        "About Kit Desktop",
    ]
    item(window, "Help", "How to connect your real Kit account…").trigger()
    dialog = open_info(qtbot, window)
    assert dialog.windowTitle() == "Connecting your real Kit account"
    assert dialog.heading == "Kit Desktop is in practice mode"
    text = dialog.text
    for words in (
        "sample data",
        "Nothing you do here reaches your real Kit account.",
        "because this copy of Kit Desktop has no Kit app set up",
        "a publisher who has set up a Kit app for it (in Kit: Automate > Apps > Build)",
        "docs/publishing.md",
    ):
        assert words in text
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in dialog.paragraphs)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=1000)


def test_the_help_dialog_names_true_places() -> None:
    """The file and Kit's screens the dialog names are the ones the publisher's guide uses."""
    guide = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    assert "**Automate > Apps**, then **Build**" in guide
    assert "no `client_id`" in guide  # practice mode: no Kit app set up


def test_the_banners_learn_more_opens_the_same_help(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view(view(Phase.CONNECTED, practice=True))
    button = window.practice_banner.button
    assert button is not None
    QTest.mouseClick(button, LEFT)
    assert open_info(qtbot, window).heading == "Kit Desktop is in practice mode"


def test_outside_practice_help_explains_how_connecting_works(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_view(view(Phase.NOT_CONNECTED, practice=False))
    assert not window.practice_banner.isVisible()
    item(window, "Help", "How connecting to Kit works…").trigger()
    dialog = open_info(qtbot, window)
    assert "practice" not in dialog.text.lower()
    assert "Click Connect to Kit (Ctrl+K)" in dialog.text
    assert "Kit Desktop never sees your password." in dialog.text


# --- item 8: the Disconnect question says what happens, with buttons named for it ----------------


def test_the_disconnect_question_says_what_disconnecting_does(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_view(view(Phase.CONNECTED))
    QTest.mouseClick(window.card.primary_button, LEFT)
    box = disconnect_box(qtbot, window)
    assert box.textFormat() == Qt.TextFormat.PlainText
    words = f"{box.text()}\n{box.informativeText()}"
    assert box.text() == "Disconnect from Kit?"
    assert box.informativeText() == (
        "Kit Desktop will forget the connection on this computer and ask Kit to end this "
        "app's access. Your Kit account itself is not changed, and you can connect again "
        "at any time."
    )
    assert "sign out" not in words.lower()
    assert sorted(button.text() for button in box.buttons()) == ["Cancel", "Disconnect"]
    assert box.defaultButton() is box_button(box, "Cancel")
    assert box.escapeButton() is box_button(box, "Cancel")
    cancel = box_button(box, "Cancel")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is cancel, timeout=1000)
    box.close()


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Escape])
def test_enter_or_escape_on_the_question_keeps_the_connection(
    qtbot: QtBot, window: MainWindow, key: Qt.Key
) -> None:
    window.show_view(view(Phase.CONNECTED))
    QTest.mouseClick(window.card.primary_button, LEFT)
    box = disconnect_box(qtbot, window)
    with qtbot.assertNotEmitted(window.disconnect_requested):
        QTest.keyClick(box, key)
        qtbot.waitUntil(lambda: window.content.disconnect_box is None, timeout=1000)


def test_the_question_goes_away_when_there_is_nothing_left_to_disconnect(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_view(view(Phase.CONNECTED))
    window.card.primary_button.click()
    box = disconnect_box(qtbot, window)
    with qtbot.assertNotEmitted(window.disconnect_requested):
        window.show_view(view(Phase.RECONNECT_NEEDED))
        qtbot.waitUntil(lambda: not box.isVisible(), timeout=1000)
    assert window.content.disconnect_box is None


# --- item 13: Ctrl+K only ever connects; Disconnect has no shortcut and always asks --------------


@pytest.mark.parametrize("phase", [Phase.CONNECTED, Phase.RENEWING])
def test_ctrl_k_never_disconnects(qtbot: QtBot, window: MainWindow, phase: Phase) -> None:
    window.show_view(view(phase))
    with (
        qtbot.assertNotEmitted(window.disconnect_requested),
        qtbot.assertNotEmitted(window.connect_requested),
    ):
        QTest.keyClick(window, Qt.Key.Key_K, CTRL)
        QTest.keyClick(window, Qt.Key.Key_K, CTRL)
    assert window.content.disconnect_box is None
    assert window.findChild(QMessageBox) is None


@pytest.mark.parametrize("phase", [Phase.OPENING, Phase.WAITING, Phase.FINISHING])
def test_ctrl_k_never_cancels_a_connection_under_way(
    qtbot: QtBot, window: MainWindow, phase: Phase
) -> None:
    """A second Ctrl+K does not undo the first: Esc (or the Cancel button) cancels."""
    window.show_view(view(phase))
    with (
        qtbot.assertNotEmitted(window.cancel_requested),
        qtbot.assertNotEmitted(window.connect_requested),
    ):
        QTest.keyClick(window, Qt.Key.Key_K, CTRL)
    with qtbot.waitSignal(window.cancel_requested, timeout=1000):
        QTest.keyClick(window, Qt.Key.Key_Escape)


@pytest.mark.parametrize("phase", list(Phase))
def test_ctrl_k_names_only_connecting(window: MainWindow, phase: Phase) -> None:
    window.show_view(view(phase))
    ctrl_k = [
        a
        for a in window.findChildren(QAction)
        if any(key.toString() == "Ctrl+K" for key in a.shortcuts())
    ]
    assert len(ctrl_k) == 1
    (connect,) = ctrl_k
    assert connect.text() in ("Connect to Kit", "Reconnect", "Try again")
    assert connect.isEnabled() is (phase in CONNECT_PHASES)
    tip = window.card.primary_button.toolTip()
    assert ("Ctrl+K" in tip) is (phase in CONNECT_PHASES), tip
    if phase in CONNECT_PHASES:
        assert tip == f"{window.card.primary_button.text()} (Ctrl+K)"


def test_disconnect_is_a_menu_item_without_a_shortcut_that_asks_first(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert "Disconnect…" in item_texts(window, "Connection")
    disconnect = item(window, "Connection", "Disconnect…")
    assert disconnect.shortcuts() == []
    window.show_view(view(Phase.NOT_CONNECTED))
    assert not disconnect.isEnabled()
    window.show_view(view(Phase.CONNECTED))
    assert disconnect.isEnabled()
    assert window.card.primary_button.toolTip() == "Disconnect from Kit, after asking"
    with qtbot.assertNotEmitted(window.disconnect_requested):
        disconnect.trigger()
        box = disconnect_box(qtbot, window)
    with qtbot.waitSignal(window.disconnect_requested, timeout=1000):
        QTest.mouseClick(box_button(box, "Disconnect"), LEFT)
