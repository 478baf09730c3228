"""A minimal window until the real one lands: shows practice mode and the sandbox address."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from kit_desktop import APP_NAME
from kit_desktop.config import Settings


def run_window(settings: Settings, *, sandbox: bool) -> int:
    """Show the placeholder window (starting the sandbox in practice mode) until closed."""
    app = QApplication.instance() or QApplication(sys.argv)
    server = None
    if sandbox:
        from kit_desktop.sandbox import SandboxServer

        server = SandboxServer().start()
        text = (
            "Practice mode: a built-in Kit sandbox, not your real account.\n\n"
            f"The sandbox is running at {server.base_url}"
        )
    else:
        text = f"Kit app {settings.client_id} is configured."
    window = QMainWindow()
    window.setWindowTitle(APP_NAME)
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setMargin(24)
    window.setCentralWidget(label)
    window.resize(520, 200)
    window.show()
    try:
        return app.exec()
    finally:
        if server is not None:
            server.stop()
