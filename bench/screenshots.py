"""Render the window in each main state to docs/screenshots/*.png (under Xvfb when available).

The states are built from real values: a real sandbox connection provides the tokens and
the account, so the pictures show what a creator sees. Run: .venv/bin/python -m bench.screenshots
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"


def _ensure_display() -> subprocess.Popen[bytes] | None:
    """Start Xvfb on :99 unless a display is set (offscreen is the fallback)."""
    if os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        return None
    if shutil.which("Xvfb") is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    server = subprocess.Popen(["Xvfb", ":99", "-screen", "0", "1280x1000x24", "-nolisten", "tcp"])
    time.sleep(1.0)
    os.environ["DISPLAY"] = ":99"
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return server


def render() -> list[Path]:
    """Render every state and return the files written."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from kit_desktop import transitions as step
    from kit_desktop.auth.pkce import METHOD
    from kit_desktop.config import Settings
    from kit_desktop.errors import ReconnectNeededError
    from kit_desktop.state import (
        AccountView,
        AttemptView,
        Phase,
        SessionView,
        StorageView,
        TokenView,
    )
    from kit_desktop.ui.main_window import MainWindow
    from tests.helpers import flow

    app = QApplication.instance() or QApplication(sys.argv)
    from kit_desktop.auth.oauth import OAuthClient
    from kit_desktop.sandbox import SandboxServer

    with SandboxServer(auto_approve=True) as sandbox:
        tokens = flow.connect(sandbox.base_url)
        client = OAuthClient(Settings().with_sandbox(sandbox.base_url))
        attempt = client.new_attempt("http://127.0.0.1:53219/callback")
    now = time.time()
    account = AccountView("Sandbox Creator Studio", "creator@example.com")
    token_view = TokenView(
        tokens["access_token"],
        "Bearer",
        "public",
        now - 120,
        now - 120 + tokens["expires_in"],
        None,
    )
    secure = StorageView("GNOME Keyring", True)
    attempt_view = AttemptView(
        attempt.verifier,
        attempt.challenge,
        METHOD,
        attempt.state,
        attempt.redirect_uri,
        attempt.url,
    )
    base = SessionView(practice=False, storage=secure)
    connected = replace(
        base,
        phase=Phase.CONNECTED,
        account=account,
        tokens=token_view,
        headline="Connected as Sandbox Creator Studio (creator@example.com)",
    )
    states = {
        "not-connected": (replace(base, headline="Not connected"), None, False),
        "waiting": (
            replace(
                base,
                phase=Phase.WAITING,
                headline="Waiting for you to click Allow in Kit",
                detail="Kit is open in your browser. Click Allow there, then come back here.",
                waiting_until=now + 272,
            ),
            attempt_view,
            False,
        ),
        "connected-details": (connected, attempt_view, True),
        "reconnect-needed": (
            # The real step, naming the account the saved connection was for.
            step.reconnect_needed(base, ReconnectNeededError(), account),
            None,
            False,
        ),
        "storage-warning": (
            replace(
                connected,
                storage=StorageView(
                    "this session only",
                    False,
                    "Your computer's secure storage is not available, so you will need to "
                    "connect again next time you open the app.",
                ),
            ),
            None,
            False,
        ),
        "practice-mode": (replace(connected, practice=True), None, False),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (view, attempt_shown, details) in states.items():
            settings = QSettings(str(Path(folder) / f"{name}.ini"), QSettings.Format.IniFormat)
            window = MainWindow(settings)
            window.resize(640, 900 if details else 720)
            window.show_view(view)
            window.show_attempt(attempt_shown)
            window.details_panel.set_expanded(details)
            window.show()
            for _ in range(5):
                app.processEvents()
                time.sleep(0.05)
            path = OUT / f"{name}.png"
            window.grab().save(str(path))
            written.append(path)
            window.close()
            window.deleteLater()
    return written


def print_pictures(make: Callable[[], list[Path]]) -> None:
    """Run ``make`` on a display (Xvfb when none is set) and print the files it wrote."""
    server = _ensure_display()
    try:
        for path in make():
            print(path.relative_to(ROOT))
    finally:
        if server is not None:
            server.terminate()


def main() -> None:
    """Render and print the files."""
    print_pictures(render)


if __name__ == "__main__":
    main()
