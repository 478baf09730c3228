"""The window's menu actions and their keyboard shortcuts (shown in menus and tooltips)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

SHORTCUT_PRIMARY = QKeySequence("Ctrl+K")
SHORTCUT_REOPEN = QKeySequence("Ctrl+O")
SHORTCUT_COPY_LINK = QKeySequence("Ctrl+Shift+C")
SHORTCUT_REFRESH = QKeySequence("Ctrl+R")
SHORTCUT_DETAILS = QKeySequence("Ctrl+D")


def set_shortcut_tip(widget: QWidget, text: str, shortcut: QKeySequence) -> None:
    """Give ``widget`` a tooltip naming its action and shortcut: "Refresh now (Ctrl+R)"."""
    keys = shortcut.toString(QKeySequence.SequenceFormat.NativeText)
    widget.setToolTip(f"{text} ({keys})")


class WindowMenus(QObject):
    """The Connection and Help menus; the window connects each action to its intent.

    Attributes:
        primary: The card's primary action (Ctrl+K; also Esc while an attempt runs).
        reopen: "Open the page again" (Ctrl+O).
        copy_link: "Copy link" (Ctrl+Shift+C).
        refresh: "Refresh now" (Ctrl+R).
        details: "Show details", checkable (Ctrl+D).
        quit: "Quit" (the platform's Quit keys).
        diagnostics: "Copy diagnostics".
        about: "About Kit Desktop".
    """

    def __init__(self, window: QMainWindow) -> None:
        """Create the actions on ``window`` (so their shortcuts work) and fill its menu bar."""
        super().__init__(window)
        self._window = window
        self.primary = self._action(
            self.tr("Connect to Kit"), SHORTCUT_PRIMARY, self.tr("The main step for now.")
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
        self.diagnostics = self._action(
            self.tr("Copy diagnostics"),
            None,
            self.tr("Copies details that help support, without any passwords or keys."),
        )
        self.about = self._action(self.tr("About Kit Desktop"), None, self.tr("Shows the version."))

        connection = window.menuBar().addMenu(self.tr("&Connection"))
        connection.addAction(self.primary)
        connection.addAction(self.reopen)
        connection.addAction(self.copy_link)
        connection.addSeparator()
        connection.addAction(self.refresh)
        connection.addAction(self.details)
        connection.addSeparator()
        connection.addAction(self.quit)
        help_menu = window.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self.diagnostics)
        help_menu.addAction(self.about)

    def set_primary(self, text: str, *, escape_cancels: bool) -> None:
        """Name the primary action; Esc is an extra shortcut only while it cancels."""
        self.primary.setText(text)
        keys = [SHORTCUT_PRIMARY]
        if escape_cancels:
            keys.append(QKeySequence("Esc"))
        self.primary.setShortcuts(keys)

    def _action(self, text: str, shortcut: QKeySequence | None, description: str) -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(description)
        self._window.addAction(action)
        return action
