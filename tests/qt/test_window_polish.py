"""The window as a creator sees it: fit, focus, borders in the dark, About, the paste error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import Phase
from kit_desktop.ui.badge import Badge, Glyph
from kit_desktop.ui.main_window import MainWindow
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.theme import Tone, contrast
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_ui_support import (
    ATTEMPT,
    INSECURE,
    OFFSCREEN_NOISE,
    FakeClock,
    build_window,
    settings_at,
    view,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

LEFT = Qt.MouseButton.LeftButton
#: A focus indication must change at least this many pixels around the control.
FOCUS_PIXELS = 20


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    window = build_window(qtbot, tmp_path, FakeClock())
    window.activateWindow()
    qtbot.waitActive(window)
    return window


@pytest.fixture
def real(qtbot: QtBot, tmp_path: Path) -> Iterator[GuiApp]:
    """The composed app in practice mode, in a window at its default size (fresh settings)."""
    gui = GuiApp(
        Settings(redirect_uris=("http://127.0.0.1:0/callback",)),
        practice=True,
        opener=UserBrowser("allow").open,
        backend=MemoryKeyring(),
        window=MainWindow(settings_at(tmp_path), deferred=True),
    )
    gui.show()
    qtbot.waitUntil(
        lambda: gui.session is not None and gui.session.view.phase is Phase.NOT_CONNECTED,
        timeout=10_000,
    )
    yield gui
    gui.shutdown()
    gui.window.close()


def page(window: MainWindow) -> QScrollArea:
    scroll = window.tabs.widget(0)
    assert isinstance(scroll, QScrollArea)
    return scroll


def in_viewport(window: MainWindow, widget: QWidget) -> QRect:
    viewport = page(window).viewport()
    return QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())


def connect(qtbot: QtBot, gui: GuiApp) -> None:
    session = gui.session
    assert session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=15_000)


# --- (a) the connected page fits; opening Details brings it into view ---------------------------


def test_the_connected_page_fits_the_default_window(qtbot: QtBot, real: GuiApp) -> None:
    window = real.window
    connect(qtbot, real)
    scroll = page(window)
    qtbot.waitUntil(lambda: window.card.primary_button.text() == "Disconnect…", timeout=2000)
    assert window.practice_banner.isVisible()
    assert scroll.verticalScrollBar().maximum() == 0, "the connected page scrolls"
    viewport = scroll.viewport().rect()
    for widget in (window.practice_banner, window.card, window.token_panel):
        assert viewport.contains(in_viewport(window, widget)), widget
    assert viewport.contains(in_viewport(window, window.details_panel.toggle_button))


@pytest.mark.parametrize("with_values", [False, True])
def test_opening_details_brings_them_into_view(
    qtbot: QtBot, window: MainWindow, with_values: bool
) -> None:
    window.show_attempt(ATTEMPT if with_values else None)
    window.show_view(view(Phase.CONNECTED, practice=True))
    scroll, details = page(window), window.details_panel
    height = scroll.viewport().height()
    QTest.mouseClick(details.toggle_button, LEFT)
    assert details.expanded

    def shown() -> bool:
        rect = in_viewport(window, details)
        whole_or_from_its_top = rect.bottom() < height or rect.top() < height // 8
        return scroll.verticalScrollBar().value() > 0 and rect.top() >= 0 and whole_or_from_its_top

    qtbot.waitUntil(shown, timeout=2000)
    assert scroll.viewport().rect().contains(in_viewport(window, details.toggle_button))
    assert scroll.viewport().rect().contains(in_viewport(window, details.generate_button))


# --- (b) focus at launch; every Tab stop shows that it has focus -------------------------------


def test_the_primary_button_has_focus_at_launch(qtbot: QtBot, real: GuiApp) -> None:
    window = real.window
    assert window.focusWidget() is window.card.primary_button
    window.activateWindow()
    qtbot.waitActive(window)
    assert QApplication.focusWidget() is window.card.primary_button
    assert window.card.primary_button.text() == "Connect to Kit"


def _around(window: MainWindow, widget: QWidget) -> QImage:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()).adjusted(-3, -3, 3, 3)
    return window.grab(rect).toImage()


def _changed_pixels(one: QImage, other: QImage) -> int:
    return sum(
        one.pixel(x, y) != other.pixel(x, y)
        for y in range(one.height())
        for x in range(one.width())
    )


def _tab_round(qtbot: QtBot, window: MainWindow) -> list[tuple[QWidget, int]]:
    """Tab once round the window with real key presses; how much each stop's focus shows."""
    seen: list[tuple[QWidget, int]] = []
    primary = window.card.primary_button
    primary.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(primary, Qt.Key.Key_Tab)  # from here on the window shows keyboard focus
    after = QApplication.focusWidget()
    assert after is not None
    QTest.keyClick(after, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is primary
    for _ in range(60):
        focused = QApplication.focusWidget()
        assert focused is not None
        if any(widget is focused for widget, _ in seen):
            return seen
        with_focus = _around(window, focused)
        focused.clearFocus()
        without = _around(window, focused)
        focused.setFocus(Qt.FocusReason.TabFocusReason)
        seen.append((focused, _changed_pixels(with_focus, without)))
        QTest.keyClick(focused, Qt.Key.Key_Tab)
    raise AssertionError("Tab never came back round")


@pytest.mark.parametrize("phase", [Phase.CONNECTED, Phase.WAITING])
def test_every_tab_stop_shows_a_focus_ring(qtbot: QtBot, window: MainWindow, phase: Phase) -> None:
    window.details_panel.set_expanded(True)
    window.show_attempt(ATTEMPT)
    window.show_view(view(phase, storage=INSECURE, practice=True))
    if phase is Phase.WAITING:
        window.card.paste_box.toggle_button.click()
    url = window.details_panel.findChildren(QLineEdit)[-1]
    qtbot.waitUntil(lambda: url.height() >= url.sizeHint().height(), timeout=2000)  # laid out
    stops = _tab_round(qtbot, window)
    assert len(stops) > 10
    assert window.practice_banner.button in [widget for widget, _ in stops]
    unmarked = [
        f"{type(widget).__name__} {widget.accessibleName()!r} {changed}"
        for widget, changed in stops
        if changed < FOCUS_PIXELS
    ]
    assert unmarked == [], "these Tab stops show no focus"


# --- (c) card borders read on light and dark palettes -------------------------------------------


def _qt_dark() -> QPalette:
    """What Qt works out from a dark button colour: its ``mid`` is almost the window colour."""
    return QPalette(QColor("#2b2b2b"))


def _explicit_dark() -> QPalette:
    """A dark theme's palette, set role by role."""
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202326"),
        (QPalette.ColorRole.WindowText, "#fcfcfc"),
        (QPalette.ColorRole.Base, "#141618"),
        (QPalette.ColorRole.Text, "#fcfcfc"),
        (QPalette.ColorRole.Button, "#292c30"),
        (QPalette.ColorRole.ButtonText, "#fcfcfc"),
        (QPalette.ColorRole.Mid, "#1b1e20"),
        (QPalette.ColorRole.PlaceholderText, "#a1a9b1"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def _border_contrasts(window: MainWindow) -> tuple[float, float]:
    """The card's top border against the window just above it and the card just inside."""
    card = window.card
    image = window.grab().toImage()
    top = card.mapTo(window, QPoint(card.width() // 2, 0))
    border = image.pixelColor(top)
    outside = image.pixelColor(top - QPoint(0, 3))
    inside = image.pixelColor(top + QPoint(0, 3))
    return contrast(border, outside), contrast(border, inside)


@pytest.mark.parametrize("dark", [_qt_dark, _explicit_dark], ids=["qt-derived", "explicit"])
def test_card_borders_show_on_dark_and_light_palettes(
    qtbot: QtBot, window: MainWindow, dark: Callable[[], QPalette]
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    light = app.palette()
    window.show_view(view(Phase.CONNECTED))
    assert min(_border_contrasts(window)) >= 2.0, "light"
    try:
        app.setPalette(dark())
        qtbot.waitUntil(
            lambda: window.card.grab().toImage().pixelColor(20, 20).lightness() < 60, timeout=2000
        )
        assert min(_border_contrasts(window)) >= 2.0, _border_contrasts(window)
    finally:
        app.setPalette(light)


# --- (d) About reads as lines, not a column of words --------------------------------------------


def test_the_about_box_is_wide_enough_to_read(qtbot: QtBot, window: MainWindow) -> None:
    (about,) = [a for a in window.findChildren(QAction) if a.text() == "About Kit Desktop"]
    about.trigger()

    def text_label() -> QLabel | None:
        for label in window.findChildren(QLabel):
            if label.text().startswith("Connects your Kit") and label.isVisible():
                return label
        return None

    qtbot.waitUntil(lambda: text_label() is not None, timeout=1000)
    label = text_label()
    assert label is not None
    em = label.fontMetrics().height()
    box = label.window()
    qtbot.waitExposed(box)
    assert label.wordWrap()
    assert box.width() >= em * 24
    assert label.width() >= em * 20
    assert label.height() <= label.fontMetrics().lineSpacing() * 4, "at most four lines"
    box.close()


# --- (e) the paste box's error looks and reads like an error ------------------------------------


def test_the_paste_error_is_a_warning_with_a_badge_and_is_announced(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.show_view(view(Phase.WAITING))
    box = window.card.paste_box
    message = "That is not Kit's answer. Copy the whole address, then paste it again."
    window.show_paste_error(message)
    error = box.findChild(QLabel, "pasteError")
    assert isinstance(error, QLabel) and error.isVisible()
    assert error.text() == message
    notice = error.parentWidget()
    assert isinstance(notice, Notice)
    assert notice.property("notice") == "warning"
    badge = notice.findChild(Badge)
    assert badge is not None and badge.isVisible()
    assert (badge.tone, badge.glyph) == (Tone.ATTENTION, Glyph.ALERT)
    tinted = notice.grab().toImage().pixelColor(notice.width() - 4, notice.height() // 2)
    plain = window.card.grab().toImage().pixelColor(window.card.width() - 4, 4)
    assert tinted != plain, "the error stands on a warning tint"
    assert notice.accessibleName() == message
    assert notice.accessibleDescription()
    assert message in box.field.accessibleDescription()
    assert QApplication.focusWidget() is box.field
    box.field.setText("something else")
    assert not error.isVisible()
    assert message not in box.field.accessibleDescription()


def test_details_restored_open_leave_the_page_at_its_top(qtbot: QtBot, tmp_path: Path) -> None:
    settings_at(tmp_path).setValue("window/details_expanded", True)
    window = build_window(qtbot, tmp_path, FakeClock())
    window.show_view(view(Phase.CONNECTED, practice=True))
    assert window.details_panel.expanded
    qtbot.waitUntil(lambda: page(window).verticalScrollBar().maximum() > 0, timeout=2000)
    later: list[bool] = []
    QTimer.singleShot(0, lambda: later.append(True))  # after any scroll the start queued
    qtbot.waitUntil(lambda: later == [True], timeout=1000)
    assert page(window).verticalScrollBar().value() == 0
    assert window.practice_banner.visibleRegion().boundingRect().top() == 0
