"""The window as a whole: shortcuts, menus, accessibility, tab order, settings and closing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLineEdit,
    QProgressBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from kit_desktop import __version__
from kit_desktop.state import Phase
from kit_desktop.ui.info_dialog import InfoDialog
from kit_desktop.ui.main_window import MainWindow
from tests.qt.test_ui_support import (
    ATTEMPT,
    INSECURE,
    OFFSCREEN_NOISE,
    TOKENS,
    FakeClock,
    build_window,
    settings_at,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

CTRL = Qt.KeyboardModifier.ControlModifier
NO_MOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, clock: FakeClock) -> MainWindow:
    window = build_window(qtbot, tmp_path, clock)
    window.activateWindow()
    qtbot.waitActive(window)
    return window


def action(window: MainWindow, text: str) -> QAction:
    (found,) = [a for a in window.findChildren(QAction) if a.text() == text]
    return found


@pytest.mark.parametrize(
    ("phase", "key", "modifiers", "intent"),
    [
        (Phase.NOT_CONNECTED, Qt.Key.Key_K, CTRL, "connect_requested"),
        (Phase.FAILED, Qt.Key.Key_K, CTRL, "connect_requested"),
        (Phase.RECONNECT_NEEDED, Qt.Key.Key_K, CTRL, "connect_requested"),
        (Phase.WAITING, Qt.Key.Key_Escape, NO_MOD, "cancel_requested"),
        (Phase.OPENING, Qt.Key.Key_Escape, NO_MOD, "cancel_requested"),
        (Phase.WAITING, Qt.Key.Key_O, CTRL, "reopen_requested"),
        (Phase.CONNECTED, Qt.Key.Key_R, CTRL, "refresh_requested"),
    ],
)
def test_shortcuts_trigger_intents(
    qtbot: QtBot,
    window: MainWindow,
    phase: Phase,
    key: Qt.Key,
    modifiers: Qt.KeyboardModifier,
    intent: str,
) -> None:
    window.show_view(view(phase))
    with qtbot.waitSignal(getattr(window, intent), timeout=1000):
        QTest.keyClick(window, key, modifiers)


def test_escape_does_nothing_when_no_attempt_runs(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view(view(Phase.CONNECTED))
    with (
        qtbot.assertNotEmitted(window.cancel_requested),
        qtbot.assertNotEmitted(window.disconnect_requested),
    ):
        QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.content.disconnect_box is None


def test_ctrl_r_does_nothing_while_refreshing(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view(view(Phase.CONNECTED, refreshing=True))
    with qtbot.assertNotEmitted(window.refresh_requested):
        QTest.keyClick(window, Qt.Key.Key_R, CTRL)


def test_ctrl_d_toggles_details(qtbot: QtBot, window: MainWindow) -> None:
    toggle = window.details_panel.toggle_button
    assert not toggle.isChecked()
    QTest.keyClick(window, Qt.Key.Key_D, CTRL)
    assert toggle.isChecked()
    QTest.keyClick(window, Qt.Key.Key_D, CTRL)
    assert not toggle.isChecked()


def test_ctrl_shift_c_copies_the_link(qtbot: QtBot, window: MainWindow) -> None:
    QGuiApplication.clipboard().clear()
    window.show_attempt(ATTEMPT)
    window.show_view(view(Phase.WAITING))
    QTest.keyClick(window, Qt.Key.Key_C, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert QGuiApplication.clipboard().text() == ATTEMPT.url


def test_menu_shows_the_connect_and_cancel_actions_and_their_shortcuts(
    window: MainWindow,
) -> None:
    window.show_view(view(Phase.WAITING))
    assert action(window, "Cancel connecting").shortcut().toString() == "Esc"
    assert action(window, "Cancel connecting").isEnabled()
    assert not action(window, "Connect to Kit").isEnabled()
    window.show_view(view(Phase.NOT_CONNECTED))
    assert action(window, "Connect to Kit").shortcut().toString() == "Ctrl+K"
    assert action(window, "Connect to Kit").isEnabled()
    assert not action(window, "Cancel connecting").isEnabled()


def test_copy_diagnostics(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.diagnostics_requested, timeout=1000):
        action(window, "Copy diagnostics").trigger()


def test_about_box_is_plain_and_names_the_version(qtbot: QtBot, window: MainWindow) -> None:
    action(window, "About Kit Desktop").trigger()
    qtbot.waitUntil(lambda: window.findChild(InfoDialog) is not None, timeout=1000)
    box = window.findChild(InfoDialog)
    assert isinstance(box, InfoDialog)
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in box.paragraphs)
    assert box.heading == f"Kit Desktop {__version__}"
    box.close()


def test_show_notice(window: MainWindow) -> None:
    window.show_notice("<b>Copied</b>")
    assert window.statusBar().currentMessage() == "<b>Copied</b>"


@pytest.mark.parametrize("phase", list(Phase))
def test_every_control_has_an_accessible_name_and_description(
    window: MainWindow, phase: Phase
) -> None:
    window.details_panel.set_expanded(True)
    window.show_attempt(ATTEMPT)
    window.show_view(view(phase, storage=INSECURE, refresh_error="Kit did not answer."))
    controls = [
        widget
        for widget in window.findChildren(QWidget)
        if isinstance(widget, QAbstractButton | QLineEdit | QProgressBar)
        and not widget.objectName().startswith("qt_")  # Qt's own, e.g. the menu-bar overflow
    ]
    assert len(controls) > 20
    for control in controls:
        assert control.accessibleName(), control
        assert control.accessibleDescription(), control


def test_tab_order_follows_the_page(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view(view(Phase.CONNECTED, storage=INSECURE))
    order = [window.card.primary_button]
    window.card.primary_button.setFocus()
    for _ in range(3):
        focused = QApplication.focusWidget()
        assert focused is not None
        QTest.keyClick(focused, Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())  # type: ignore[arg-type]
    panel = window.token_panel
    storage_button = [b for b in panel.findChildren(QAbstractButton) if b.text() == "Try again"]
    assert order == [
        window.card.primary_button,
        panel.refresh_button,
        panel.auto_renew_box,
        *storage_button,
    ]


def test_geometry_is_restored(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, clock: FakeClock
) -> None:
    window.resize(QSize(520, 430))
    window.move(QPoint(30, 40))
    window.close()
    again = build_window(qtbot, tmp_path, clock)
    assert again.size() == QSize(520, 430)
    assert again.pos() == QPoint(30, 40)


def test_secrets_never_reach_the_settings(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    window.details_panel.set_expanded(True)
    window.show_attempt(ATTEMPT)
    window.show_view(view(Phase.CONNECTED))
    window.token_panel.token_field.reveal_button.click()
    window.details_panel.verifier_field.reveal_button.click()
    with qtbot.waitSignal(window.closing, timeout=1000):
        window.close()
    stored = (tmp_path / "kit-desktop.ini").read_text(encoding="utf-8")
    assert settings_at(tmp_path).allKeys()
    for secret in (TOKENS.access_token, ATTEMPT.verifier, ATTEMPT.state, ATTEMPT.url):
        assert secret not in stored


def test_bring_to_front_restores_a_minimised_window(window: MainWindow) -> None:
    window.showMinimized()
    window.bring_to_front()
    assert not window.isMinimized()
    assert window.isVisible()


def test_bring_to_front_flashes_when_focus_is_refused(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerted: list[QWidget] = []
    monkeypatch.setattr(MainWindow, "isActiveWindow", lambda _self: False)
    monkeypatch.setattr(QApplication, "alert", lambda widget, _ms=0: alerted.append(widget))
    window.bring_to_front()
    assert alerted == [window]


def test_follows_a_palette_switch(qtbot: QtBot, window: MainWindow) -> None:
    """Light to dark at run time: the card is drawn on the new palette's base colour."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette()
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Base, QColor("#1f1f1f"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    card = window.card
    inside = QPoint(card.width() // 2, card.height() - 4)

    def card_colour() -> QColor:
        return card.grab().toImage().pixelColor(inside)

    assert card_colour() == before.color(QPalette.ColorRole.Base)
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: card_colour() == QColor("#1f1f1f"), timeout=2000)
    finally:
        app.setPalette(before)
    qtbot.waitUntil(lambda: card_colour() == before.color(QPalette.ColorRole.Base), timeout=2000)


def test_the_api_page_is_built_when_first_shown_and_knows_the_connection(
    qtbot: QtBot, window: MainWindow
) -> None:
    def ready() -> bool:  # read afresh each time (mypy would keep the first answer)
        return window.api_panel_ready

    window.show_view(view(Phase.CONNECTED, tokens=TOKENS))
    assert not ready(), "most creators never open it: nothing built yet"
    built: list[object] = []
    window.api_panel_built.connect(built.append)

    window.tabs.setCurrentIndex(1)

    assert ready() and built == [window.api_panel]
    assert window.tabs.currentWidget() is window.api_panel
    assert window.tabs.tabText(1) == "API requests" and window.tabs.count() == 2
    assert window.api_panel._connected, "the view shown before it existed reached it"
    window.tabs.setCurrentIndex(0)
    window.tabs.setCurrentIndex(1)
    assert built == [window.api_panel], "built once"
