"""The running app (``GuiApp``) for tests: shown offscreen, its keyring in memory, torn down.

Use the ``gui_apps`` fixture (``tests/helpers/fixtures.py``) and :func:`show_app`; the
module's ``QT_NOISE`` lists the offscreen platform's harmless warnings for
``pytest.mark.qt_log_ignore``.
"""

from __future__ import annotations

from collections.abc import Callable

from keyring.backend import KeyringBackend
from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import MemoryKeyring

#: Two loopback redirect URIs on ports the app picks: the first takes installs.
LOOPBACK = ("http://127.0.0.1:0/callback", "http://127.0.0.1:0/callback")
#: What the offscreen platform says about raising windows; harmless.
#: Milliseconds to wait for a connection through the sandbox.
WAIT_MS = 15_000
QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)


def no_browser(url: str) -> bool:
    """A browser opener that opens nothing (the test drives the browser itself)."""
    return False


def recorder(opened: list[str]) -> Callable[[str], bool]:
    """A browser opener that only notes what it was asked to open."""

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    return opener


def show_app(
    qtbot: QtBot,
    made: list[GuiApp],
    settings: Settings | None = None,
    opener: Callable[[str], bool] = no_browser,
    *,
    practice: bool = True,
) -> GuiApp:
    """Show the app (practice mode by default) and wait until its session has started.

    Args:
        qtbot: The test's qtbot.
        made: The ``gui_apps`` fixture's list; the app is shut down after the test.
        settings: The app's settings (default: two loopback redirect URIs on free ports).
        opener: The browser opener.
        practice: Start the built-in sandbox and use it.
    """
    gui = GuiApp(
        settings or Settings(redirect_uris=LOOPBACK),
        practice=practice,
        opener=opener,
        backend=MemoryKeyring(),
    )
    made.append(gui)
    gui.show()
    qtbot.waitUntil(
        lambda: gui.session is not None and gui.session.view.storage is not None, timeout=10_000
    )
    return gui


def kit_settings(server: SandboxServer) -> Settings:
    """Settings for a Kit that is a sandbox over HTTP (direct route, a port the app picks)."""
    base = server.base_url
    return Settings(
        client_id=server.app.client_id,
        authorize_url=f"{base}/v4/oauth/authorize",
        token_url=f"{base}/v4/oauth/token",
        revoke_url=f"{base}/v4/oauth/revoke",
        api_url=base,
        route="direct",
        redirect_uris=("http://127.0.0.1:0/callback",),
    )


def connected_to(
    qtbot: QtBot,
    made: list[GuiApp],
    server: SandboxServer,
    backend: KeyringBackend | None = None,
) -> GuiApp:
    """The real app against ``server`` (not practice), connected by a browser that allows.

    Args:
        qtbot: The test's qtbot.
        made: The ``gui_apps`` fixture's list.
        server: The sandbox standing in for Kit.
        backend: The keyring (default: this computer's, the Secret Service in run-suite.sh).
    """
    from tests.helpers.user_browser import UserBrowser

    gui = GuiApp(
        kit_settings(server), practice=False, opener=UserBrowser("allow").open, backend=backend
    )
    made.append(gui)
    gui.show()
    qtbot.waitUntil(lambda: gui.session is not None and gui.session.view.storage is not None)
    session = gui.session
    assert session is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=WAIT_MS)
    return gui
