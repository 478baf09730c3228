"""Where Kit Desktop's idle memory goes: resident MiB after each start-up stage.

    .venv/bin/python -m bench.memory_stages

Runs in one process, offscreen, with no Secret Service: QApplication, the window shown
before it is built (what the first paint costs), the built window, then each runtime
dependency in the order the app loads them. Printed, and written to
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from bench.report import write_section
from kit_desktop.qt.startup_probe import memory_kib

HEADING = "## Where idle memory goes (bench/memory_stages.py)"
INTRO = (
    "Resident memory of one process after each stage, offscreen, no Secret Service. "
    "The bare window of the start-up table needs about 52 MiB. requests and keyring alone "
    "add about 30 MiB (keyring's Secret Service backend loads SecretStorage, which loads "
    "cryptography's 11 MB Rust library even when no Secret Service answers), more than the "
    "25% the memory target allows over the bare window; both are runtime dependencies the "
    "app needs at start-up to show a saved connection."
)


def _now_mib() -> float:
    return memory_kib()[1] / 1024


def main() -> None:
    """Measure each stage and print the table."""
    app = QApplication(sys.argv)
    stages: list[tuple[str, float]] = [("QApplication", _now_mib())]
    from kit_desktop.ui.main_window import MainWindow

    window = MainWindow(deferred=True)
    window.show()

    def load() -> None:
        stages.append(("window painted, not yet built (what the first paint needs)", _now_mib()))
        window.build()
        stages.append(("window built: every section (the API page waits for its tab)", _now_mib()))
        import requests  # noqa: F401 - measured for its import

        stages.append(("requests (urllib3, ssl, charset_normalizer, idna)", _now_mib()))
        import keyring

        keyring.get_keyring()
        stages.append(("keyring, backends discovered (SecretStorage, cryptography)", _now_mib()))
        from kit_desktop.sandbox import SandboxServer

        sandbox = SandboxServer(loopback_any_port=True).start()
        stages.append(("the practice sandbox, started", _now_mib()))
        from kit_desktop.qt import api_requests, session  # noqa: F401 - measured

        stages.append(("session and API controllers", _now_mib()))
        window.tabs.setCurrentIndex(1)
        stages.append(("the API requests page, once opened", _now_mib()))
        sandbox.stop()
        app.quit()

    QTimer.singleShot(100, load)
    app.exec()
    window.close()
    lines = [HEADING, "", INTRO, "", "| stage | resident MiB | added |", "|---|---|---|"]
    previous = 0.0
    for name, mib in stages:
        lines.append(f"| {name} | {mib:.1f} | +{mib - previous:.1f} |")
        previous = mib
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(
        Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md", HEADING, section
    )


if __name__ == "__main__":
    main()
