"""Details' "Generate new values" shows what the next attempt would use (issue 16, item 9)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import Phase
from kit_desktop.ui.pkce_panel import NO_VALUES_CONNECTED, PREVIEW_NOTE, USED_NOTE
from tests.helpers.gui_apps import QT_NOISE, show_app
from tests.helpers.screen import visible_text
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)


def test_generated_values_name_the_redirect_uri_the_next_attempt_sends_kit(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = show_app(qtbot, gui_apps, opener=UserBrowser("allow").open)
    session = gui.session
    assert session is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED)
    details = gui.window.details_panel
    details.set_expanded(True)
    relay = session.services.settings.relay_url
    assert relay, "practice walks Kit's road: the relay page"

    details.generate_button.click()
    qtbot.waitUntil(lambda: details.redirect_field.value != "")
    assert details.redirect_field.value == relay
    assert PREVIEW_NOTE in visible_text(details)

    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=15_000)
    shown = visible_text(details)
    assert details.redirect_field.value == relay, "the values the connection used"
    assert USED_NOTE in shown and PREVIEW_NOTE not in shown
    assert not details.generate_button.isVisibleTo(details), "new values would serve nothing"
    session.generate_values()  # even if asked: nothing changes while connected
    qtbot.wait(100)
    assert USED_NOTE in visible_text(details)


def test_a_restored_connection_says_why_there_are_no_values(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = show_app(qtbot, gui_apps)
    details = gui.window.details_panel
    details.set_expanded(True)
    details.set_attempt_running(False, connected=True)
    assert NO_VALUES_CONNECTED in visible_text(details)
    assert not details.generate_button.isVisibleTo(details)
