r"""Kit's lists as a creator meets them: the real window on Xvfb, practice mode, pictures.

Connect (a browser stand-in clicks Allow), list subscribers on the API requests page, open
the Table tab, export every page to CSV, then Help > "Check this computer…". Pictures go to
docs/screenshots/lists-*.png. Run inside a Secret Service session, e.g.::

    dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock \
        --components=secrets >/dev/null; .venv/bin/python -m bench.lists_walk'
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.screenshots import OUT, ROOT, print_pictures


def walk() -> list[Path]:
    """Walk the steps; return the pictures written."""
    from PySide6.QtWidgets import QApplication, QWidget

    from kit_desktop.config import Settings
    from kit_desktop.gui.gui_app import GuiApp
    from kit_desktop.state import Phase
    from tests.helpers.user_browser import UserBrowser

    app = QApplication.instance() or QApplication(sys.argv)
    written: list[Path] = []

    def wait(done: Callable[[], bool], what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            app.processEvents()
            time.sleep(0.01)

    def shoot(widget: QWidget, name: str) -> None:
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        path = OUT / f"lists-{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    OUT.mkdir(parents=True, exist_ok=True)
    gui = GuiApp(Settings(), practice=True, opener=UserBrowser("allow").open)
    gui.window.resize(900, 720)
    gui.show()
    wait(lambda: gui.session is not None and gui.session.view.storage is not None, "window")
    session = gui.session
    assert session is not None
    try:
        if not session.view.phase.has_tokens:
            gui.window.card.primary_button.click()
        wait(lambda: session.view.phase is Phase.CONNECTED, "connected")
        gui.window.tabs.setCurrentIndex(1)
        wait(lambda: gui.api is not None, "the API page")
        panel, api = gui.window.api_panel, gui.api
        assert api is not None
        panel.composer.path_field.setText("/v4/subscribers")
        wait(panel.composer.send_button.isEnabled, "Send")
        panel.composer.send_button.click()
        view = panel.response_view
        wait(lambda: view.tabs.indexOf(view.table_page) >= 0, "the table")
        view.tabs.setCurrentWidget(view.table_page)
        shoot(gui.window, "1-subscribers-table")
        target = Path(tempfile.mkdtemp()) / "subscribers.csv"
        panel.choose_export_path = lambda _parent, _suggested: str(target)
        finished: list[object] = []
        api.export_finished.connect(finished.append)
        view.export_button.click()
        wait(lambda: bool(finished), "the export")
        shoot(gui.window, "2-exported")
        gui.window.start_checkup()
        dialog = gui.window.checkup_dialog
        assert dialog is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "Checking…" in _text(dialog):
            app.processEvents()
            time.sleep(0.05)
        shoot(dialog, "3-check-this-computer")
    finally:
        gui.shutdown()
        gui.window.close()
    return written


def _text(widget: object) -> str:
    from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QWidget

    assert isinstance(widget, QWidget)
    parts = [label.text() for label in widget.findChildren(QLabel)]
    parts += [edit.toPlainText() for edit in widget.findChildren(QPlainTextEdit)]
    parts += [edit.toPlainText() for edit in widget.findChildren(QTextEdit)]
    return "\n".join(parts)


def main() -> None:
    """Walk and print the pictures written."""
    os.chdir(ROOT)
    print_pictures(walk)


if __name__ == "__main__":
    main()
