"""The connection card through the window: one sentence and one primary button per phase."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.state import Phase
from kit_desktop.ui.main_window import MainWindow
from tests.qt.test_ui_support import (
    ATTEMPT,
    HEADLINES,
    HOSTILE,
    OFFSCREEN_NOISE,
    FakeClock,
    box_button,
    build_window,
    disconnect_box,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
LEFT = Qt.MouseButton.LeftButton

INTENTS = (
    "connect_requested",
    "cancel_requested",
    "disconnect_requested",
    "reopen_requested",
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, clock: FakeClock) -> MainWindow:
    return build_window(qtbot, tmp_path, clock)


def label(window: MainWindow, name: str) -> QLabel:
    found = window.card.findChild(QLabel, name)
    assert isinstance(found, QLabel)
    return found


def shown(window: MainWindow, widget: QWidget) -> bool:
    return widget.isVisibleTo(window)


@pytest.mark.parametrize(
    ("phase", "button", "intent"),
    [
        (Phase.NOT_CONNECTED, "Connect to Kit", "connect_requested"),
        (Phase.OPENING, "Cancel", "cancel_requested"),
        (Phase.WAITING, "Cancel", "cancel_requested"),
        (Phase.FINISHING, "Cancel", "cancel_requested"),
        (Phase.CONNECTED, "Disconnect…", "disconnect_requested"),
        (Phase.RENEWING, "Disconnect…", "disconnect_requested"),
        (Phase.RECONNECT_NEEDED, "Reconnect", "connect_requested"),
        (Phase.FAILED, "Try again", "connect_requested"),
    ],
)
def test_each_phase_has_its_sentence_and_primary_intent(
    qtbot: QtBot,
    window: MainWindow,
    phase: Phase,
    button: str,
    intent: str,
) -> None:
    window.show_view(view(phase))
    assert label(window, "headline").text() == HEADLINES[phase]
    primary = window.card.primary_button
    assert primary.text() == button
    assert primary.isEnabled()
    others = [getattr(window, name) for name in INTENTS if name != intent]
    with (
        qtbot.waitSignal(getattr(window, intent), timeout=1000),
        qtbot.assertNotEmitted(others[0]),
        qtbot.assertNotEmitted(others[1]),
        qtbot.assertNotEmitted(others[2]),
    ):
        QTest.mouseClick(primary, Qt.MouseButton.LeftButton)
        if intent == "disconnect_requested":  # only after saying so
            QTest.mouseClick(box_button(disconnect_box(qtbot, window), "Disconnect"), LEFT)


def test_detail_is_shown_only_when_given(window: MainWindow) -> None:
    window.show_view(view(Phase.NOT_CONNECTED))
    assert not shown(window, label(window, "detail"))
    window.show_view(view(Phase.FAILED, detail="Kit did not answer. Try again in a minute."))
    assert label(window, "detail").text() == "Kit did not answer. Try again in a minute."
    assert shown(window, label(window, "detail"))


def test_waiting_shows_countdown_and_three_actions(window: MainWindow) -> None:
    window.show_attempt(ATTEMPT)
    window.show_view(view(Phase.WAITING))
    card = window.card
    assert label(window, "countdown").text() == "Time left: 4:32"
    assert shown(window, label(window, "countdown"))
    assert [b.text() for b in (card.reopen_button, card.copy_link_button, card.primary_button)] == [
        "Open the page again",
        "Copy link",
        "Cancel",
    ]
    for button in (card.reopen_button, card.copy_link_button, card.primary_button):
        assert shown(window, button)
        assert button.isEnabled()


@pytest.mark.parametrize("phase", [p for p in Phase if p is not Phase.WAITING])
def test_wait_actions_only_while_waiting(window: MainWindow, phase: Phase) -> None:
    window.show_attempt(ATTEMPT)
    window.show_view(view(phase))
    assert not shown(window, window.card.reopen_button)
    assert not shown(window, window.card.copy_link_button)
    assert not shown(window, label(window, "countdown"))


def test_countdown_follows_the_wall_clock(
    qtbot: QtBot, window: MainWindow, clock: FakeClock
) -> None:
    window.show_view(view(Phase.WAITING))
    countdown = label(window, "countdown")
    assert countdown.text() == "Time left: 4:32"
    clock.now += 60.5
    qtbot.waitUntil(lambda: countdown.text() == "Time left: 3:32", timeout=3000)
    clock.now += 1000  # the machine slept past the time-out
    qtbot.waitUntil(lambda: countdown.text() == "Time left: 0:00", timeout=3000)


def test_open_again_emits_reopen(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view(view(Phase.WAITING))
    with qtbot.waitSignal(window.reopen_requested, timeout=1000):
        QTest.mouseClick(window.card.reopen_button, Qt.MouseButton.LeftButton)


def test_copy_link_puts_the_url_on_the_clipboard(qtbot: QtBot, window: MainWindow) -> None:
    QGuiApplication.clipboard().clear()
    window.show_attempt(ATTEMPT)
    window.show_view(view(Phase.WAITING))
    QTest.mouseClick(window.card.copy_link_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == ATTEMPT.url
    assert window.statusBar().currentMessage().startswith("Link copied")


def test_copy_link_is_disabled_without_a_url(window: MainWindow) -> None:
    window.show_attempt(None)
    window.show_view(view(Phase.WAITING))
    assert not window.card.copy_link_button.isEnabled()


@pytest.mark.parametrize(("answer", "emitted"), [("Disconnect", True), ("Cancel", False)])
def test_disconnect_asks_first(
    qtbot: QtBot, window: MainWindow, answer: str, emitted: bool
) -> None:
    window.show_view(view(Phase.CONNECTED))
    confirmed: list[bool] = []
    window.disconnect_requested.connect(lambda: confirmed.append(True))
    QTest.mouseClick(window.card.primary_button, LEFT)
    box = disconnect_box(qtbot, window)
    assert box.windowTitle() == "Disconnect from Kit?"
    assert confirmed == []
    QTest.mouseClick(box_button(box, answer), LEFT)
    qtbot.waitUntil(lambda: window.content.disconnect_box is None, timeout=1000)
    assert confirmed == ([True] if emitted else [])


def test_practice_banner(window: MainWindow) -> None:
    window.show_view(view(Phase.NOT_CONNECTED, practice=True))
    banner = window.practice_banner
    assert shown(window, banner)
    assert banner.text.startswith("Practice mode: ")
    assert "practice" in window.windowTitle()
    window.show_view(view(Phase.NOT_CONNECTED, practice=False))
    assert not shown(window, banner)


def test_network_text_is_shown_literally(window: MainWindow) -> None:
    """Catalogue 68: provider text with HTML renders as the raw characters."""
    window.show_view(view(Phase.FAILED, headline=HOSTILE, detail=HOSTILE))
    for name in ("headline", "detail"):
        shown_label = label(window, name)
        assert shown_label.textFormat() == Qt.TextFormat.PlainText
        assert shown_label.text() == HOSTILE
        assert shown_label.openExternalLinks() is False
