"""Kit's own refusals, through the real window against the practice Kit's switches.

Each test flips one of the sandbox's Kit behaviours (``server.behaviours``) on the running
practice Kit and checks what a creator reads: in the card, and in the API requests page.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.errors import RateLimitedError, ReconnectNeededError
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import Phase
from tests.helpers.gui_apps import QT_NOISE, show_app
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)
WAIT_MS = 15_000


def connected_app(qtbot: QtBot, gui_apps: list[GuiApp]) -> GuiApp:
    gui = show_app(qtbot, gui_apps, opener=UserBrowser("allow").open)
    assert gui.session is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: gui.session is not None and gui.session.view.phase is Phase.CONNECTED)
    return gui


def send(qtbot: QtBot, gui: GuiApp, path: str) -> str:
    """GET ``path`` from the API requests page as a creator would; return the problem shown."""
    gui.window.tabs.setCurrentIndex(1)
    panel = gui.window.api_panel
    panel.composer.path_field.setText(path)
    qtbot.waitUntil(panel.composer.send_button.isEnabled, timeout=WAIT_MS)
    panel.composer.send_button.click()
    view = panel.response_view
    qtbot.waitUntil(lambda: view.message.isVisibleTo(panel) or bool(view.status_text))
    return view.message.text if view.message.isVisibleTo(panel) else ""


def test_an_account_that_lost_app_access_is_told_to_check_its_plan_not_to_reconnect(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = show_app(qtbot, gui_apps, opener=UserBrowser("allow").open)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None
    sandbox.behaviours.account_lost_access = True

    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=WAIT_MS)

    detail = session.view.detail
    assert detail.startswith("Kit says:") and "Check your plan and billing in Kit" in detail
    assert "connecting again will not help" in detail
    assert session.view.tokens is not None, "the connection is kept: it is not the problem"
    shown = send(qtbot, gui, "/v4/subscribers")
    assert "Check your plan and billing in Kit" in shown
    assert session.view.phase is Phase.CONNECTED, "no 'Reconnect needed' for this"


def test_a_refusal_by_permission_says_who_can_change_it(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = connected_app(qtbot, gui_apps)
    assert gui.sandbox is not None
    gui.sandbox.behaviours.forbidden = True

    shown = send(qtbot, gui, "/v4/subscribers")

    assert shown.startswith("Your Kit account is not allowed to do this.")
    assert "ask the account's owner, or Kit's support" in shown
    assert "Kit says: You do not have sufficient permissions" in shown
    assert gui.session is not None and gui.session.view.phase is Phase.CONNECTED


def test_kits_429_turns_send_off_and_each_429_in_a_row_waits_longer(
    qtbot: QtBot, gui_apps: list[GuiApp]
) -> None:
    gui = connected_app(qtbot, gui_apps)
    assert gui.sandbox is not None and gui.api is not None
    gui.sandbox.behaviours.force_429 = True
    waits: list[float] = []
    gui.api.rate_limited.connect(waits.append)

    shown = send(qtbot, gui, "/v4/tags")

    assert shown == (
        "Kit asked Kit Desktop to slow down (too many requests on this connection; another "
        "program may be using it too); try again in 2 s."
    )
    hint = gui.window.api_panel.composer.hint.text()
    assert hint.startswith("Kit asked to wait before the next request; try again in")
    assert not gui.window.api_panel.composer.send_button.isEnabled()
    assert waits == [2.0]
    failures: list[object] = []
    gui.api.failed.connect(failures.append)
    qtbot.waitUntil(gui.window.api_panel.composer.send_button.isEnabled, timeout=WAIT_MS)
    gui.window.api_panel.composer.send_button.click()
    qtbot.waitUntil(lambda: len(waits) == 2, timeout=WAIT_MS)
    assert waits == [2.0, 4.0], "Kit sends no Retry-After: the wait doubles"
    assert isinstance(failures[-1], RateLimitedError)


@pytest.mark.parametrize("shape", ["oauth", "kit"])
def test_an_expired_refresh_token_means_reconnect_in_either_error_shape(
    qtbot: QtBot, gui_apps: list[GuiApp], shape: str
) -> None:
    """Kit's token errors may come as ``{"errors": [...]}``: still read as Kit meant them."""
    gui = connected_app(qtbot, gui_apps)
    session, sandbox = gui.session, gui.sandbox
    assert session is not None and sandbox is not None
    sandbox.behaviours.token_error_shape = shape  # type: ignore[assignment]
    sandbox.behaviours.refresh_token_lifetime = 0.001

    session.refresh_now()

    qtbot.waitUntil(lambda: session.view.phase is Phase.RECONNECT_NEEDED, timeout=WAIT_MS)
    assert session.view.headline.startswith("Reconnect needed for Sandbox Creator Studio")
    assert session.view.detail == ReconnectNeededError.default_message
    assert session.view.last_error_code == "ReconnectNeededError"
