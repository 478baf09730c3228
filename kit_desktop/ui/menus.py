"""The window's menu actions and their keyboard shortcuts (shown in menus and tooltips)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

#: Connect, Reconnect or Try again; never anything else (a shortcut never turns destructive).
SHORTCUT_CONNECT = QKeySequence("Ctrl+K")
SHORTCUT_CANCEL = QKeySequence("Esc")
SHORTCUT_REOPEN = QKeySequence("Ctrl+O")
SHORTCUT_COPY_LINK = QKeySequence("Ctrl+Shift+C")
SHORTCUT_REFRESH = QKeySequence("Ctrl+R")
SHORTCUT_DETAILS = QKeySequence("Ctrl+D")


def set_shortcut_tip(widget: QWidget, text: str, shortcut: QKeySequence | None = None) -> None:
    """Give ``widget`` a tooltip naming its action and shortcut: "Refresh now (Ctrl+R)"."""
    if shortcut is None:
        widget.setToolTip(text)
        return
    keys = shortcut.toString(QKeySequence.SequenceFormat.NativeText)
    widget.setToolTip(f"{text} ({keys})")


class WindowMenus(QObject):
    """The Connection and Help menus; the window connects each action to its intent.

    Attributes:
        connect_to_kit: "Connect to Kit", "Reconnect" or "Try again" (Ctrl+K); off otherwise.
        cancel: "Cancel connecting" (Esc), only while an attempt runs.
        disconnect_kit: "Disconnect…", only while connected; no shortcut, and it always asks.
        reopen: "Open the page again" (Ctrl+O).
        copy_link: "Copy link" (Ctrl+Shift+C).
        refresh: "Refresh now" (Ctrl+R).
        details: "Show details", checkable (Ctrl+D).
        quit: "Quit" (the platform's Quit keys).
        connect_help: "How to connect your real Kit account…" (practice) or
            "How connecting to Kit works…".
        checkup: "Check this computer…".
        diagnostics: "Copy diagnostics".
        about: "About Kit Desktop".
    """

    def __init__(self, window: QMainWindow) -> None:
        """Create the actions on ``window`` (so their shortcuts work) and fill its menu bar."""
        super().__init__(window)
        self._window = window
        self.connect_to_kit = self._action(
            self.tr("Connect to Kit"),
            SHORTCUT_CONNECT,
            self.tr("Opens Kit in your browser so you can allow this app to connect."),
        )
        self.cancel = self._action(
            self.tr("Cancel connecting"), SHORTCUT_CANCEL, self.tr("Stops connecting.")
        )
        self.disconnect_kit = self._action(
            self.tr("Disconnect…"),
            None,
            self.tr("Forgets the connection on this computer, after asking you."),
        )
        self.reopen = self._action(
            self.tr("Open the page again"),
            SHORTCUT_REOPEN,
            self.tr("Opens Kit's page in your browser again."),
        )
        self.copy_link = self._action(
            self.tr("Copy link"), SHORTCUT_COPY_LINK, self.tr("Copies the address of Kit's page.")
        )
        self.refresh = self._action(
            self.tr("Refresh now"), SHORTCUT_REFRESH, self.tr("Renews access to Kit now.")
        )
        self.details = self._action(
            self.tr("Show details"), SHORTCUT_DETAILS, self.tr("Shows the security values.")
        )
        self.details.setCheckable(True)
        self.quit = self._action(
            self.tr("Quit"),
            QKeySequence(QKeySequence.StandardKey.Quit),
            self.tr("Closes Kit Desktop."),
        )
        self.connect_help = self._action(
            self.tr("How connecting to Kit works…"),
            None,
            self.tr("Explains how Kit Desktop connects to your Kit account."),
        )
        self.checkup = self._action(
            self.tr("Check this computer…"),
            None,
            self.tr("Checks what connecting to Kit needs here, and says what to do."),
        )
        self.diagnostics = self._action(
            self.tr("Copy diagnostics"),
            None,
            self.tr("Copies details that help support, without any passwords or keys."),
        )
        self.about = self._action(self.tr("About Kit Desktop"), None, self.tr("Shows the version."))

        connection = window.menuBar().addMenu(self.tr("&Connection"))
        connection.addAction(self.connect_to_kit)
        connection.addAction(self.cancel)
        connection.addAction(self.reopen)
        connection.addAction(self.copy_link)
        connection.addSeparator()
        connection.addAction(self.refresh)
        connection.addAction(self.details)
        connection.addSeparator()
        connection.addAction(self.disconnect_kit)
        connection.addSeparator()
        connection.addAction(self.quit)
        help_menu = window.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self.connect_help)
        help_menu.addSeparator()
        help_menu.addAction(self.checkup)
        help_menu.addAction(self.diagnostics)
        help_menu.addAction(self.about)

    def set_practice(self, practice: bool) -> None:
        """Name the Help item for practice mode (how to use a real account) or not."""
        if practice:
            self.connect_help.setText(self.tr("How to connect your real Kit account…"))
        else:
            self.connect_help.setText(self.tr("How connecting to Kit works…"))

    def _action(self, text: str, shortcut: QKeySequence | None, description: str) -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(description)
        self._window.addAction(action)
        return action
