"""The baseline for bench/startup.py: a bare PySide6 window that quits after its first paint.

QApplication + QMainWindow with a label, watched by the same start-up probe as the app.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from kit_desktop.qt.startup_probe import StartupProbe, probe_settle_ms


def main() -> int:
    """Show the bare window and run until the probe quits it."""
    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("Bare PySide6 window")
    window.setCentralWidget(QLabel("Hello from PySide6"))
    window.resize(320, 120)
    StartupProbe(window, probe_settle_ms() or 0)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
