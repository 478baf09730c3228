"""The Details section: closed by default, remembered, and showing the attempt's PKCE values."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot

from kit_desktop.state import Phase
from kit_desktop.ui.main_window import MainWindow
from kit_desktop.ui.pkce_panel import PkcePanel
from kit_desktop.ui.window_content import DETAILS_KEY
from tests.qt.test_ui_support import (
    ATTEMPT,
    OFFSCREEN_NOISE,
    FakeClock,
    build_window,
    settings_at,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, clock: FakeClock) -> MainWindow:
    return build_window(qtbot, tmp_path, clock)


@pytest.fixture
def details(window: MainWindow) -> PkcePanel:
    return window.details_panel


def values(details: PkcePanel) -> list[str]:
    return [edit.text() for edit in details.findChildren(QLineEdit)]


def test_closed_by_default(window: MainWindow, details: PkcePanel) -> None:
    assert not details.expanded
    assert not details.generate_button.isVisibleTo(window)
    assert details.toggle_button.isVisibleTo(window)


def test_open_state_is_remembered(
    qtbot: QtBot, window: MainWindow, details: PkcePanel, tmp_path: Path, clock: FakeClock
) -> None:
    QTest.mouseClick(details.toggle_button, Qt.MouseButton.LeftButton)
    assert details.expanded
    assert details.generate_button.isVisibleTo(window)
    assert settings_at(tmp_path).value(DETAILS_KEY, False, type=bool) is True
    window.close()

    again = build_window(qtbot, tmp_path, clock, show=False)
    assert again.details_panel.expanded
    again.details_panel.toggle_button.click()
    assert settings_at(tmp_path).value(DETAILS_KEY, True, type=bool) is False


def test_shows_the_attempt(window: MainWindow, details: PkcePanel) -> None:
    details.set_expanded(True)
    window.show_attempt(ATTEMPT)
    shown = values(details)
    for value in (ATTEMPT.verifier, ATTEMPT.challenge, ATTEMPT.state, ATTEMPT.redirect_uri):
        assert value in shown
    assert ATTEMPT.url in shown
    labels = [lbl.text() for lbl in details.findChildren(QLabel)]
    assert "S256" in labels
    for name in ("Code verifier", "Code challenge", "Method", "State", "Redirect URI"):
        assert name in labels


def test_verifier_masked_reveal_and_copy(
    qtbot: QtBot, window: MainWindow, details: PkcePanel
) -> None:
    details.set_expanded(True)
    window.show_attempt(ATTEMPT)
    field = details.verifier_field
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Password
    assert ATTEMPT.verifier not in field.line_edit.displayText()
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.displayText() == ATTEMPT.verifier
    QGuiApplication.clipboard().clear()
    QTest.mouseClick(field.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == ATTEMPT.verifier


def test_no_attempt_says_so(window: MainWindow, details: PkcePanel) -> None:
    details.set_expanded(True)
    window.show_attempt(ATTEMPT)
    window.show_attempt(None)
    assert all(value == "" for value in values(details))
    visible = [lbl.text() for lbl in details.findChildren(QLabel) if lbl.isVisibleTo(details)]
    assert "No values yet: they are made when you connect." in visible


@pytest.mark.parametrize("phase", list(Phase))
def test_generate_only_when_nothing_connects_or_is_connected(
    window: MainWindow, details: PkcePanel, phase: Phase
) -> None:
    details.set_expanded(True)
    window.show_view(view(phase))
    offered = not (phase.attempt_running or phase.has_tokens)
    assert details.generate_button.isVisibleTo(details) is offered


def test_generate_emits(qtbot: QtBot, window: MainWindow, details: PkcePanel) -> None:
    details.set_expanded(True)
    with qtbot.waitSignal(window.generate_requested, timeout=1000):
        QTest.mouseClick(details.generate_button, Qt.MouseButton.LeftButton)
