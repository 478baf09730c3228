"""The running app (``GuiApp``) for tests: shown offscreen, its keyring in memory, torn down.

Use the ``gui_apps`` fixture (``tests/helpers/fixtures.py``) and :func:`show_app`; the
module's ``QT_NOISE`` lists the offscreen platform's harmless warnings for
``pytest.mark.qt_log_ignore``.
"""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from tests.helpers.fake_keyrings import MemoryKeyring

#: Two loopback redirect URIs on ports the app picks: the first takes installs.
LOOPBACK = ("http://127.0.0.1:0/callback", "http://127.0.0.1:0/callback")
#: What the offscreen platform says about raising windows; harmless.
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
