"""The route to Kit: the relay for Kit's own endpoints; a build without its relay page says so.

Kit's app settings accept only https addresses (``../shared/kit/REAL-KIT.md`` item 1), so
a build aimed at Kit goes through the publisher's relay page. Without one, the window, the
command line and diagnostics say what the publisher must set, and no browser opens.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings, load_settings
from kit_desktop.connection import Connection
from kit_desktop.errors import ConfigError, RelayPageMissingError
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.services import build_services
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.gui_apps import LOOPBACK, QT_NOISE, recorder, show_app
from tests.helpers.main_process import run_main

ROOT = Path(__file__).resolve().parents[2]
RELAY = "https://publisher.example/kit-desktop/relay.html"
pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)


@pytest.mark.parametrize(
    ("settings", "relay", "missing"),
    [
        (Settings(client_id="c"), True, True),  # Kit's endpoints: the relay, and none is set
        (Settings(client_id="c", relay_url=RELAY), True, False),
        (Settings(client_id="c", route="direct"), False, False),  # should Kit accept loopback
        (Settings(client_id="c", route="relay"), True, True),
        (Settings().with_sandbox("http://127.0.0.1:4000"), False, False),  # another server
        (Settings(relay_url=RELAY).with_sandbox("http://127.0.0.1:4000"), True, False),
        (Settings(authorize_url="https://app.convertkit.com/oauth/authorize"), True, True),
    ],
)
def test_the_route_follows_the_endpoints(settings: Settings, relay: bool, missing: bool) -> None:
    assert settings.uses_relay is relay
    assert settings.relay_missing is missing
    assert ("cannot connect" in settings.route_summary) is missing


def test_the_route_setting_is_read_and_checked(tmp_path: Path) -> None:
    toml = tmp_path / "kit_app.toml"
    toml.write_text('[kit]\nroute = "direct"\n', encoding="utf-8")
    assert load_settings({}, toml).route == "direct"
    assert load_settings({"KIT_ROUTE": "relay"}, toml).route == "relay"
    with pytest.raises(ConfigError, match="route must be 'auto', 'relay' or 'direct'"):
        load_settings({"KIT_ROUTE": "loopback"}, toml)


def test_connecting_without_the_relay_page_binds_nothing() -> None:
    connection = Connection(build_services(Settings(client_id="c"), backend=MemoryKeyring()))
    with pytest.raises(RelayPageMissingError) as caught:
        connection.begin_attempt()
    assert "relay_url" in caught.value.user_message
    assert "docs/publishing.md" in caught.value.user_message


@pytest.fixture
def kit_build(qtbot: QtBot, gui_apps: list[GuiApp]) -> tuple[GuiApp, list[str]]:
    """The window of a build for real Kit (a client ID, Kit's endpoints) without relay_url."""
    opened: list[str] = []
    settings = Settings(client_id="publisher-client", redirect_uris=LOOPBACK)
    return show_app(qtbot, gui_apps, settings, recorder(opened), practice=False), opened


def card_text(gui: GuiApp) -> str:
    return " ".join(label.text() for label in gui.window.card.findChildren(QLabel))


def test_the_window_says_at_start_what_the_publisher_must_set(
    qtbot: QtBot, kit_build: tuple[GuiApp, list[str]]
) -> None:
    gui, opened = kit_build
    session = gui.session
    assert session is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED)
    assert session.view.headline == "Kit Desktop can't connect to Kit yet"
    words = card_text(gui)
    assert "has not set the https relay page" in words and "relay_url" in words
    assert "Please tell the publisher" in words
    assert "Route: relay, but no relay page is set" in session.diagnostics()
    with qtbot.waitSignal(session.changed, timeout=5000) as shown:
        gui.window.card.primary_button.click()  # Connect ("Try again") says the same
    assert shown.args is not None and shown.args[0].phase is Phase.FAILED
    assert "has not set the https relay page" in shown.args[0].detail
    assert session.view.phase is Phase.FAILED
    assert session.view.last_error_code == "RelayPageMissingError"
    assert opened == [], "nobody is sent to Kit"
    assert not session.attempts.listening, "nothing listens"


def test_connect_on_the_command_line_says_so_and_opens_no_browser(tmp_path: Path) -> None:
    marker = tmp_path / "browser-ran"
    env = {
        **os.environ,
        "KIT_CLIENT_ID": "publisher-client",
        "BROWSER": f"touch {marker}",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = run_main("connect", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "has not set the https relay page" in done.stderr and "relay_url" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()
