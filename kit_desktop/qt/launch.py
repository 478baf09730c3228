"""Start the window as fast as a bare one: paint first, then everything else.

Before the first paint only Qt, the window's frame and the single-instance check are
loaded. Right after it, :func:`_finish` sets up logging, reads the settings and hands
the window to :class:`kit_desktop.qt.gui.GuiApp`, which builds the sections and starts
the sandbox, keyring and requests.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from kit_desktop import APP_NAME, __version__
from kit_desktop.paths import resource_path
from kit_desktop.qt.first_paint import AfterFirstPaint
from kit_desktop.qt.single_instance import SingleInstance
from kit_desktop.qt.startup_probe import StartupProbe, probe_settle_ms
from kit_desktop.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kit_desktop.qt.gui import GuiApp


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
    if not instance.claim():
        return 0
    window = MainWindow(deferred=True)
    instance.activated.connect(window.bring_to_front)
    started: list[GuiApp] = []

    def finish() -> None:
        from kit_desktop.qt.gui import finish_start

        gui = finish_start(window, practice=practice)
        if gui is None:  # the settings are unusable; the creator has been told why
            app.exit(2)
            return
        started.append(gui)

    AfterFirstPaint(window, finish)
    window.show()
    settle_ms = probe_settle_ms()
    if settle_ms is not None:
        StartupProbe(window, settle_ms)  # installed last, so it sees the paint first
    try:
        return app.exec()
    finally:
        for gui in started:
            gui.shutdown()
        instance.release()
