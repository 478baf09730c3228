"""The main window: paints at once, then fills itself with its sections (window_content).

The window shows a one-line "Starting" page on its first paint; :meth:`MainWindow.build`
(called right after that paint) imports and creates the sections. Until then the
window only remembers what it is told to show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, QSettings, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from kit_desktop import APP_NAME

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTabWidget

    from kit_desktop.doctor_report import Checkup
    from kit_desktop.state import AttemptView, InstallQuestion, SessionView
    from kit_desktop.ui.api_panel import ApiPanel
    from kit_desktop.ui.connection_card import ConnectionCard
    from kit_desktop.ui.doctor_dialog import CheckupDialog
    from kit_desktop.ui.notice import Notice
    from kit_desktop.ui.pkce_panel import PkcePanel
    from kit_desktop.ui.token_panel import TokenPanel
    from kit_desktop.ui.window_content import WindowContent

GEOMETRY_KEY = "window/geometry"
#: The first window's height in text lines: room for the connected page, Details closed.
DEFAULT_HEIGHT_LINES = 47
NOTICE_MS = 5000


class MainWindow(QMainWindow):
    """The one window. Passive: it shows snapshots and emits intents; the session decides.

    Signals:
        connect_requested(): Connect to Kit, Reconnect or Try again (the button or Ctrl+K).
        cancel_requested(): The primary button (or Esc) while an attempt runs.
        disconnect_requested(): Disconnect… (the button or the menu), after the creator
            confirmed; it has no shortcut.
        reopen_requested(): "Open the page again".
        refresh_requested(): "Refresh now".
        auto_renew_toggled(bool): "Renew automatically" changed.
        generate_requested(): "Generate new values" in Details.
        retry_storage_requested(): "Try again" on the storage warning.
        checkup_requested(): Help > "Check this computer…" (its dialog already says
            "Checking…"; answer with :meth:`show_checkup`).
        diagnostics_requested(): Help > Copy diagnostics.
        paste_submitted(str): Kit's code or redirected address, pasted while waiting.
        install_answered(bool): The answer to an install question: True to go on.
        closing(): The window is about to close.
        api_panel_built(object): The API requests page (an ``ApiPanel``) was just built,
            the first time it was shown or asked for; wire it to its controller then.
    """

    connect_requested = Signal()
    cancel_requested = Signal()
    disconnect_requested = Signal()
    reopen_requested = Signal()
    refresh_requested = Signal()
    auto_renew_toggled = Signal(bool)
    generate_requested = Signal()
    retry_storage_requested = Signal()
    checkup_requested = Signal()
    diagnostics_requested = Signal()
    paste_submitted = Signal(str)
    install_answered = Signal(bool)
    closing = Signal()
    api_panel_built = Signal(object)

    def __init__(
        self,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        deferred: bool = False,
    ) -> None:
        """Make the window and restore its size and position.

        Args:
            settings: Where window state is kept (never secrets); defaults to the app's own.
            parent: The parent widget.
            clock: Wall-clock time in seconds, for the countdowns (tests pass their own).
            deferred: Show only "Starting" until :meth:`build` is called (fast first paint).
        """
        super().__init__(parent)
        self._settings = settings if settings is not None else QSettings(APP_NAME, APP_NAME)
        self._clock = clock
        self._content: WindowContent | None = None
        self._view: SessionView | None = None
        self._quit_box: QMessageBox | None = None
        self._quit_anyway = False  # the creator chose to quit and lose the connection
        self._attempt: AttemptView | None = None
        self._install_box: QMessageBox | None = None
        self._install_replace: QAbstractButton | None = None
        self._checkup: CheckupDialog | None = None
        self.setWindowTitle(APP_NAME)
        geometry = self._settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            em = self.fontMetrics().height()
            self.resize(em * 40, em * DEFAULT_HEIGHT_LINES)
        if deferred:
            self.setCentralWidget(_starting_page(self.tr("Starting {app}…").format(app=APP_NAME)))
        else:
            self.build()

    def build(self) -> None:
        """Create and wire every section (once), then show the latest snapshot."""
        if self._content is not None:
            return
        from kit_desktop.state import SessionView
        from kit_desktop.ui.window_content import WindowContent

        self._content = WindowContent(self, self._settings, self._clock)
        self.show_view(self._view if self._view is not None else SessionView())
        if self._attempt is not None:
            self.show_attempt(self._attempt)

    @property
    def is_built(self) -> bool:
        """Whether the sections exist yet."""
        return self._content is not None

    @property
    def content(self) -> WindowContent:
        """The sections (after :meth:`build`)."""
        if self._content is None:
            raise RuntimeError("the window has not been built yet")
        return self._content

    @property
    def card(self) -> ConnectionCard:
        """The connection card."""
        return self.content.card

    @property
    def token_panel(self) -> TokenPanel:
        """The access section."""
        return self.content.tokens

    @property
    def details_panel(self) -> PkcePanel:
        """The collapsible Details section."""
        return self.content.details

    @property
    def api_panel(self) -> ApiPanel:
        """The API requests page (built now if it was not yet: see :attr:`api_panel_built`)."""
        return self.content.api

    @property
    def api_panel_ready(self) -> bool:
        """Whether the API requests page has been built."""
        return self.content.api_built

    @property
    def tabs(self) -> QTabWidget:
        """The Connection and API requests pages."""
        return self.content.tabs

    @property
    def practice_banner(self) -> Notice:
        """The practice-mode banner."""
        return self.content.practice

    def show_view(self, view: SessionView) -> None:
        """Show a new session snapshot everywhere it matters."""
        self._view = view
        title = self.tr("{app} (practice)") if view.practice else "{app}"
        self.setWindowTitle(title.format(app=APP_NAME))
        if self._content is not None:
            self._content.show_view(view)

    def show_attempt(self, attempt: AttemptView | None) -> None:
        """Show the PKCE values of the current attempt (``None`` when there is none)."""
        self._attempt = attempt
        if self._content is not None:
            self._content.show_attempt(attempt)

    def show_paste_error(self, text: str) -> None:
        """Say, next to the paste field, why what was pasted was not accepted."""
        if self._content is not None:
            self._content.card.show_paste_error(text)

    def show_notice(self, text: str) -> None:
        """Show a short message in the status bar for a few seconds (plain text)."""
        self.statusBar().showMessage(text, NOTICE_MS)

    def show_install_question(self, question: InstallQuestion) -> None:
        """Ask whether Kit's install may go on (a newer question wins).

        The window flashes in the taskbar rather than jumping in front: the request came
        from the browser, which any web page can steer.
        """
        from kit_desktop.ui.dialogs import ask_install

        if self._install_box is not None:
            box, self._install_box = self._install_box, None
            box.done(-1)  # withdrawn: neither answer
        box, self._install_replace = ask_install(
            self, question.text, question.agree, question.refuse
        )
        box.finished.connect(self._on_install_box_finished)
        self._install_box = box
        QApplication.alert(self)

    @property
    def install_box(self) -> QMessageBox | None:
        """The open install question, if any."""
        return self._install_box

    @Slot(int)
    def _on_install_box_finished(self, result: int) -> None:
        box = self._install_box
        if box is None or self.sender() is not box:
            return  # withdrawn for a newer question
        self._install_box = None
        self.install_answered.emit(box.clickedButton() is self._install_replace)

    @Slot()
    def start_checkup(self) -> None:
        """Open the check-up dialog saying "Checking…" and ask for the checks."""
        from kit_desktop.ui.doctor_dialog import CheckupDialog

        dialog = self._checkup
        if dialog is None:
            dialog = CheckupDialog(self)
            dialog.finished.connect(self._on_checkup_finished)
            self._checkup = dialog
        dialog.show_running()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        self.checkup_requested.emit()

    def show_checkup(self, checkup: Checkup) -> None:
        """Show a check-up's results in its dialog (dropped if the creator closed it)."""
        if self._checkup is not None:
            self._checkup.show_results(checkup)

    @property
    def checkup_dialog(self) -> CheckupDialog | None:
        """The open check-up dialog, if any."""
        return self._checkup

    @Slot(int)
    def _on_checkup_finished(self, result: int) -> None:
        del result
        self._checkup = None

    def bring_to_front(self) -> None:
        """Raise and activate the window; flash it in the taskbar if the system refuses focus."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()
        if not self.isActiveWindow():
            QApplication.alert(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Save the window's geometry, announce ``closing`` and close.

        A real connection kept only in memory (no secure storage) would be lost: then the
        creator is asked first, and the window stays open unless they choose "Quit".
        """
        if self._would_lose_connection():
            event.ignore()
            self._ask_before_quitting()
            return
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.sync()
        self.closing.emit()
        super().closeEvent(event)

    @property
    def quit_box(self) -> QMessageBox | None:
        """The open "quit and lose the connection?" question, if any."""
        return self._quit_box

    def _would_lose_connection(self) -> bool:
        view = self._view
        if self._quit_anyway or view is None or view.practice or not view.holds_tokens:
            return False
        return view.storage is not None and not view.storage.secure

    def _ask_before_quitting(self) -> None:
        from kit_desktop.ui.dialogs import ask_quit_losing_connection

        if self._quit_box is not None:
            self._quit_box.raise_()
            return
        box, quit_button = ask_quit_losing_connection(self)
        self._quit_box = box

        def answered(_result: int) -> None:
            self._quit_box = None
            if box.clickedButton() is quit_button:
                self._quit_anyway = True
                self.close()

        box.finished.connect(answered)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Re-resolve palette colours in the style sheet when the system switches light/dark."""
        if self._content is not None and event.type() in (
            QEvent.Type.PaletteChange,
            QEvent.Type.ThemeChange,
        ):
            self._content.restyle()
        super().changeEvent(event)


def _starting_page(text: str) -> QWidget:
    """Return a page with ``text`` in its middle.

    Stretches centre it, not ``Qt`` alignment flags: importing the ``Qt`` namespace
    costs about 15 ms, a seventh of a bare window's start-up.
    """
    page = QWidget()
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(QLabel(text, page))
    row.addStretch(1)
    column = QVBoxLayout(page)
    column.addStretch(1)
    column.addLayout(row)
    column.addStretch(1)
    return page
