"""Start the window as fast as a bare one: paint first, then everything else.

Before the first paint only Qt, the window's frame and the single-instance check are
loaded. Right after it, :func:`_finish` sets up logging, reads the settings and hands
the window to :class:`kit_desktop.gui.gui_app.GuiApp`, which builds the sections and starts
the sandbox, keyring and requests.

When another account holds the single-instance name (catalogue G74) the window starts
anyway, without the check, and says so in a message box, on stderr and in the log.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kit_desktop import APP_NAME, __version__
from kit_desktop.errors import NameTakenError, NotPrivateError
from kit_desktop.paths import resource_path
from kit_desktop.private_files import private_dir, tighten_file
from kit_desktop.qt.first_paint import AfterFirstPaint
from kit_desktop.qt.single_instance import Claim, SingleInstance
from kit_desktop.qt.startup_probe import StartupProbe, probe_settle_ms
from kit_desktop.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kit_desktop.gui.gui_app import GuiApp

log = logging.getLogger(__name__)


def start_window(*, practice: bool) -> int:
    """Run the window until it is closed; return the exit code.

    Args:
        practice: ``--sandbox`` was given (with no client ID configured the app
            practises anyway).
    """
    app = QApplication.instance() or QApplication(sys.argv)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    QApplication.setWindowIcon(QIcon(str(resource_path("icons", "kit-desktop.png"))))
    QGuiApplication.setDesktopFileName("kit-desktop")
    instance = SingleInstance()
    if instance.claim_name() is Claim.ALREADY_RUNNING:
        return 0
    problem = instance.problem
    if problem is not None:
        print(problem.user_message, file=sys.stderr, flush=True)
    window = MainWindow(deferred=True)
    instance.activated.connect(window.bring_to_front)
    started: list[GuiApp] = []

    def finish() -> None:
        from kit_desktop.gui.gui_app import finish_start

        gui = finish_start(window, practice=practice)  # logging is set up from here on
        if problem is not None:
            log.warning("%s (%s)", problem.user_message, problem.detail)
        tighten_settings()
        if gui is None:  # the settings are unusable; the creator has been told why
            app.exit(2)
            return
        started.append(gui)

    AfterFirstPaint(window, finish)
    window.show()
    if problem is not None:
        show_name_taken(window, problem)
    settle_ms = probe_settle_ms()
    if settle_ms is not None:
        StartupProbe(window, settle_ms)  # installed last, so it sees the paint first
    try:
        return app.exec()
    finally:
        for gui in started:
            gui.shutdown()
        instance.release()


def show_name_taken(parent: QWidget, problem: NameTakenError) -> QMessageBox:
    """Tell the creator, without blocking the start, that another account holds the name."""
    from PySide6.QtCore import Qt  # only on this rare path: the namespace is slow to load

    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, "", parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(problem.user_message)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def tighten_settings() -> None:
    """Make the settings file (and the app's folder holding it) private (catalogue G75).

    Under the app's umask Qt creates them private, and rewrites keep a file's mode; this
    tightens what an older version left readable. Only the app's own folder is touched
    (on macOS the file sits in the shared ``~/Library/Preferences``); the Windows
    registry has no file.
    """
    if sys.platform == "win32":
        return
    path = Path(QSettings().fileName())
    if path.parent.name == APP_NAME:
        try:
            private_dir(path.parent)
        except (NotPrivateError, OSError) as exc:
            log.warning("the settings folder could not be made private: %s", exc)
            return
    tighten_file(path)
