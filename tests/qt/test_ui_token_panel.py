"""The access section: live countdown, lifetime bar, refresh, auto-renew, storage, the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QProgressBar
from pytestqt.qtbot import QtBot

from kit_desktop.state import Phase, TokenView
from kit_desktop.ui.format import format_local_time
from kit_desktop.ui.main_window import MainWindow
from kit_desktop.ui.token_panel import TokenPanel
from tests.qt.test_ui_support import (
    HOSTILE,
    INSECURE,
    NOW,
    OFFSCREEN_NOISE,
    SECURE,
    TOKENS,
    FakeClock,
    build_window,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, clock: FakeClock) -> MainWindow:
    return build_window(qtbot, tmp_path, clock)


@pytest.fixture
def panel(window: MainWindow) -> TokenPanel:
    return window.token_panel


def remaining(panel: TokenPanel) -> QLabel:
    found = panel.findChild(QLabel, "remaining")
    assert isinstance(found, QLabel)
    return found


def lifetime(panel: TokenPanel) -> QProgressBar:
    bars = [bar for bar in panel.findChildren(QProgressBar) if bar.maximum() > 0]
    assert len(bars) == 1
    return bars[0]


def busy(panel: TokenPanel) -> QProgressBar:
    bars = [bar for bar in panel.findChildren(QProgressBar) if bar.maximum() == 0]
    assert len(bars) == 1
    return bars[0]


def texts(panel: TokenPanel) -> list[str]:
    return [
        lbl.text() for lbl in panel.findChildren(QLabel) if lbl.isVisibleTo(panel) and lbl.text()
    ]


def test_nothing_to_show_before_connecting(window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.NOT_CONNECTED))
    assert "Once you are connected, you can see here how long access lasts." in texts(panel)
    assert not panel.refresh_button.isVisibleTo(panel)
    assert panel.token_field.value == ""


def test_countdown_with_an_injected_clock(
    qtbot: QtBot, window: MainWindow, panel: TokenPanel, clock: FakeClock
) -> None:
    window.show_view(view(Phase.CONNECTED))
    assert remaining(panel).text() == "Expires in 1 h 58 min"
    assert lifetime(panel).value() == round(7080 / 7200 * 1000)
    clock.now += 7080 - 42
    qtbot.waitUntil(lambda: remaining(panel).text() == "Expires in 42 s", timeout=3000)
    clock.now += 60  # past expiry, e.g. after the machine slept
    qtbot.waitUntil(lambda: remaining(panel).text() == "Expired", timeout=3000)
    assert lifetime(panel).value() == 0


def test_times_are_local(window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED))
    shown = texts(panel)
    assert format_local_time(TOKENS.expires_at or 0, now=NOW) in shown
    assert format_local_time(TOKENS.issued_at, now=NOW) in shown
    assert f"Last renewed {format_local_time(NOW - 120, now=NOW)}" in shown


def test_a_token_without_expiry(window: MainWindow, panel: TokenPanel) -> None:
    tokens = TokenView("tok", "Bearer", None, NOW, None, None)
    window.show_view(view(Phase.CONNECTED, tokens=tokens))
    assert remaining(panel).text() == "Does not expire"
    assert not lifetime(panel).isVisibleTo(panel)
    assert "Not renewed yet" in texts(panel)


def test_refresh_now_emits(qtbot: QtBot, window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED))
    assert panel.refresh_button.isEnabled()
    assert not busy(panel).isVisibleTo(panel)
    with qtbot.waitSignal(window.refresh_requested, timeout=1000):
        QTest.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)


def test_refresh_disabled_and_busy_while_refreshing(window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED, refreshing=True))
    assert not panel.refresh_button.isEnabled()
    assert busy(panel).isVisibleTo(panel)
    window.show_view(view(Phase.CONNECTED, refreshing=False))
    assert panel.refresh_button.isEnabled()
    assert not busy(panel).isVisibleTo(panel)


def test_refresh_error_is_inline_and_plain(window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED, refresh_error=HOSTILE))
    labels = [lbl for lbl in panel.findChildren(QLabel) if lbl.text() == HOSTILE]
    assert len(labels) == 1
    assert labels[0].isVisibleTo(panel)
    assert labels[0].textFormat() == Qt.TextFormat.PlainText
    window.show_view(view(Phase.CONNECTED))
    assert not labels[0].isVisibleTo(panel)


def test_auto_renew_reflects_the_view_and_emits_only_for_the_user(
    qtbot: QtBot, window: MainWindow, panel: TokenPanel
) -> None:
    toggles: list[bool] = []
    window.auto_renew_toggled.connect(toggles.append)
    window.show_view(view(Phase.CONNECTED, auto_renew=False))
    assert not panel.auto_renew_box.isChecked()
    window.show_view(view(Phase.CONNECTED, auto_renew=True))
    assert panel.auto_renew_box.isChecked()
    assert toggles == []
    box = panel.auto_renew_box
    indicator = QPoint(box.fontMetrics().height() // 2, box.height() // 2)
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, NO_MODIFIER, indicator)
    assert toggles == [False]


def test_secure_storage_is_named(window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED, storage=SECURE))
    assert "Saved securely in GNOME Keyring" in texts(panel)
    window.show_view(view(Phase.NOT_CONNECTED, storage=SECURE))
    assert "Your connection will be saved securely in GNOME Keyring" in texts(panel)


def test_insecure_storage_warns_and_offers_try_again(
    qtbot: QtBot, window: MainWindow, panel: TokenPanel
) -> None:
    window.show_view(view(Phase.CONNECTED, storage=INSECURE))
    assert INSECURE.warning in texts(panel)
    assert not any(text.startswith("Saved securely") for text in texts(panel))
    buttons = [b for b in panel.findChildren(type(panel.refresh_button)) if b.text() == "Try again"]
    assert len(buttons) == 1
    assert buttons[0].isVisibleTo(panel)
    with qtbot.waitSignal(window.retry_storage_requested, timeout=1000):
        QTest.mouseClick(buttons[0], Qt.MouseButton.LeftButton)


def test_storage_warning_is_plain_text(window: MainWindow, panel: TokenPanel) -> None:
    storage = INSECURE.__class__(location="x", secure=False, warning=HOSTILE)
    window.show_view(view(Phase.CONNECTED, storage=storage))
    (shown,) = [lbl for lbl in panel.findChildren(QLabel) if lbl.text() == HOSTILE]
    assert shown.textFormat() == Qt.TextFormat.PlainText


def test_token_masked_reveal_and_copy(qtbot: QtBot, window: MainWindow, panel: TokenPanel) -> None:
    window.show_view(view(Phase.CONNECTED))
    field = panel.token_field
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Password
    assert TOKENS.access_token not in field.line_edit.displayText()
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.displayText() == TOKENS.access_token
    QGuiApplication.clipboard().clear()
    QTest.mouseClick(field.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == TOKENS.access_token
    assert window.statusBar().currentMessage() == "Access token copied."


def test_the_same_token_stays_revealed_across_snapshots(
    window: MainWindow, panel: TokenPanel
) -> None:
    window.show_view(view(Phase.CONNECTED))
    panel.token_field.reveal_button.click()
    window.show_view(view(Phase.CONNECTED, refreshing=True))
    assert panel.token_field.revealed
