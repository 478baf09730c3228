"""Shared pieces for the window tests: a settable clock, sample snapshots, a window builder.

It holds no tests; the ``test_ui_`` prefix only keeps it beside the files that use it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractButton, QMessageBox
from pytestqt.qtbot import QtBot

from kit_desktop.state import (
    AccountView,
    AttemptView,
    Phase,
    SessionView,
    StorageView,
    TokenView,
)
from kit_desktop.ui.main_window import MainWindow

NOW = 1_760_000_000.0
HOSTILE = "<a href='https://evil'>Click</a><img src=x>"
#: The offscreen platform warns that it cannot size or raise windows; nothing else is ignored.
OFFSCREEN_NOISE = r"^This plugin does not support (propagateSizeHints|raise)\(\)$"

ACCOUNT = AccountView(name="Ada Lovelace", email="ada@example.com")
SECURE = StorageView(location="GNOME Keyring", secure=True)
INSECURE = StorageView(
    location="this session only",
    secure=False,
    warning="Your access could not be saved securely, so you will need to connect again next time.",
)
ATTEMPT = AttemptView(
    verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    method="S256",
    state="state-af0ifjsldkj-123",
    redirect_uri="http://127.0.0.1:8765/callback",
    url="https://api.kit.com/v4/oauth/authorize?client_id=abc&state=state-af0ifjsldkj-123",
)
TOKENS = TokenView(
    access_token="kit-access-token-5ecret-value",
    token_type="Bearer",
    scope="public",
    issued_at=NOW - 120,
    expires_at=NOW + 7080,
    last_renewed=NOW - 120,
)

HEADLINES = {
    Phase.NOT_CONNECTED: "Not connected",
    Phase.OPENING: "Opening Kit in your browser",
    Phase.WAITING: "Waiting for you to click Allow in Kit",
    Phase.FINISHING: "Finishing",
    Phase.CONNECTED: "Connected as Ada Lovelace (ada@example.com)",
    Phase.RENEWING: "Renewing access",
    Phase.RECONNECT_NEEDED: "Reconnect needed",
    Phase.FAILED: "Could not connect",
}


class FakeClock:
    """Wall-clock time that only moves when a test moves it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def view(phase: Phase, **changes: object) -> SessionView:
    """A plausible snapshot for ``phase``; keyword arguments override fields."""
    fields: dict[str, object] = {
        "phase": phase,
        "headline": HEADLINES[phase],
        "storage": SECURE,
    }
    if phase is Phase.WAITING:
        fields["waiting_until"] = NOW + 272
    if phase.has_tokens:
        fields["account"] = ACCOUNT
        fields["tokens"] = TOKENS
    if phase is Phase.RENEWING:
        fields["refreshing"] = True
    if phase is Phase.FAILED:
        fields["detail"] = "You clicked Deny in Kit. Click Try again to connect."
    fields.update(changes)
    return SessionView(**fields)  # type: ignore[arg-type]


def settings_at(path: Path) -> QSettings:
    """QSettings on a throwaway ini file."""
    return QSettings(str(path / "kit-desktop.ini"), QSettings.Format.IniFormat)


def build_window(
    qtbot: QtBot, tmp_path: Path, clock: FakeClock, *, show: bool = True
) -> MainWindow:
    """A MainWindow on throwaway settings and a fake clock, shown and exposed."""
    window = MainWindow(settings_at(tmp_path), clock=clock)
    qtbot.addWidget(window)
    if show:
        window.show()
        qtbot.waitExposed(window)
    return window


def disconnect_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    """The "Disconnect from Kit?" question, once the window has opened it."""
    qtbot.waitUntil(lambda: window.content.disconnect_box is not None, timeout=1000)
    box = window.content.disconnect_box
    assert box is not None
    qtbot.waitExposed(box)
    return box


def box_button(box: QMessageBox, text: str) -> QAbstractButton:
    """The button of ``box`` that reads ``text``."""
    (found,) = [button for button in box.buttons() if button.text() == text]
    return found
