"""The main window: connection card, access, details, menus and shortcuts, wired in one place."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QSettings, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kit_desktop import APP_NAME
from kit_desktop.qt.state import AttemptView, Phase, SessionView
from kit_desktop.ui.api_panel import ApiPanel
from kit_desktop.ui.api_tabs import page_tabs
from kit_desktop.ui.connection_card import ConnectionCard
from kit_desktop.ui.dialogs import confirm_disconnect, show_about
from kit_desktop.ui.menus import (
    SHORTCUT_COPY_LINK,
    SHORTCUT_DETAILS,
    SHORTCUT_PRIMARY,
    SHORTCUT_REFRESH,
    SHORTCUT_REOPEN,
    WindowMenus,
    set_shortcut_tip,
)
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.pkce_panel import PkcePanel
from kit_desktop.ui.theme import STYLE_SHEET
from kit_desktop.ui.token_panel import TokenPanel

GEOMETRY_KEY = "window/geometry"
DETAILS_KEY = "window/details_expanded"
NOTICE_MS = 5000


class MainWindow(QMainWindow):
    """The one window. Passive: it shows snapshots and emits intents; the session decides.

    Signals:
        connect_requested(): The primary action in a not-connected, reconnect or failed phase.
        cancel_requested(): The primary action (or Esc) while an attempt runs.
        disconnect_requested(): The primary action while connected, after the creator confirmed.
        reopen_requested(): "Open the page again".
        refresh_requested(): "Refresh now".
        auto_renew_toggled(bool): "Renew automatically" changed.
        generate_requested(): "Generate new values" in Details.
        retry_storage_requested(): "Try again" on the storage warning.
        diagnostics_requested(): Help > Copy diagnostics.
        closing(): The window is about to close.
    """

    connect_requested = Signal()
    cancel_requested = Signal()
    disconnect_requested = Signal()
    reopen_requested = Signal()
    refresh_requested = Signal()
    auto_renew_toggled = Signal(bool)
    generate_requested = Signal()
    retry_storage_requested = Signal()
    diagnostics_requested = Signal()
    closing = Signal()

    def __init__(
        self,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Build the window and restore its size, position and Details state.

        Args:
            settings: Where window state is kept (never secrets); defaults to the app's own.
            parent: The parent widget.
            clock: Wall-clock time in seconds, for the countdowns (tests pass their own).
        """
        super().__init__(parent)
        self._settings = settings if settings is not None else QSettings(APP_NAME, APP_NAME)
        self._view = SessionView()
        self.setWindowTitle(APP_NAME)
        self.setStyleSheet(STYLE_SHEET)

        self._practice = Notice("practice", parent=self)
        self._practice.set_text(
            self.tr("Practice mode: a built-in Kit sandbox, not your real account")
        )
        self._card = ConnectionCard(clock, self)
        self._tokens = TokenPanel(clock, self)
        self._details = PkcePanel(self)
        self._api = ApiPanel(self)
        self._build_layout()
        self._menus = WindowMenus(self)
        self._connect_signals()
        self._chain_focus()
        self._show_shortcuts_in_tooltips()

        self._details.set_expanded(bool(self._settings.value(DETAILS_KEY, False, type=bool)))
        geometry = self._settings.value(GEOMETRY_KEY)
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            em = self.fontMetrics().height()
            self.resize(em * 40, em * 44)
        self.show_view(self._view)

    @property
    def card(self) -> ConnectionCard:
        """The connection card."""
        return self._card

    @property
    def token_panel(self) -> TokenPanel:
        """The access section."""
        return self._tokens

    @property
    def details_panel(self) -> PkcePanel:
        """The collapsible Details section."""
        return self._details

    @property
    def api_panel(self) -> ApiPanel:
        """The API requests page."""
        return self._api

    @property
    def tabs(self) -> QTabWidget:
        """The Connection and API requests pages."""
        return self._tabs

    @property
    def practice_banner(self) -> Notice:
        """The practice-mode banner."""
        return self._practice

    def show_view(self, view: SessionView) -> None:
        """Show a new session snapshot everywhere it matters."""
        self._view = view
        self._practice.setVisible(view.practice)
        title = self.tr("{app} (practice)") if view.practice else "{app}"
        self.setWindowTitle(title.format(app=APP_NAME))
        self._card.show_view(view)
        self._tokens.show_view(view)
        self._details.set_attempt_running(view.phase.attempt_running)
        self._api.show_connected(view.phase.has_tokens, self._api_reason(view.phase))
        self._sync_actions()

    def show_attempt(self, attempt: AttemptView | None) -> None:
        """Show the PKCE values of the current attempt (``None`` when there is none)."""
        self._card.show_attempt(attempt)
        self._details.show_attempt(attempt)
        self._sync_actions()

    def show_notice(self, text: str) -> None:
        """Show a short message in the status bar for a few seconds (plain text)."""
        self.statusBar().showMessage(text, NOTICE_MS)

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
        """Save the window's geometry, announce ``closing`` and close."""
        self._settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self._settings.sync()
        self.closing.emit()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Re-resolve palette colours in the style sheet when the system switches light/dark."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ThemeChange):
            self.setStyleSheet(STYLE_SHEET)
        super().changeEvent(event)

    def _build_layout(self) -> None:
        em = self.fontMetrics().height()
        column = QWidget(self)
        column.setMaximumWidth(em * 52)
        stack = QVBoxLayout(column)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(round(em * 1.5))
        stack.addWidget(self._practice)
        stack.addWidget(self._card)
        stack.addWidget(self._tokens)
        stack.addWidget(self._details)
        stack.addStretch(1)
        page = QWidget(self)
        row = QHBoxLayout(page)
        margin = round(em * 1.5)
        row.setContentsMargins(margin, margin, margin, margin)
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setAccessibleName(self.tr("Kit connection"))
        self._tabs = page_tabs(self.tr("Pages"), self)
        self._tabs.addTab(scroll, self.tr("Connection"))
        self._tabs.addTab(self._api, self.tr("API requests"))
        self.setCentralWidget(self._tabs)

    def _connect_signals(self) -> None:
        self._card.connect_requested.connect(self.connect_requested)
        self._card.cancel_requested.connect(self.cancel_requested)
        self._card.disconnect_requested.connect(self._on_card_disconnect_requested)
        self._card.reopen_requested.connect(self.reopen_requested)
        self._card.link_copied.connect(self._on_card_link_copied)
        self._tokens.refresh_requested.connect(self.refresh_requested)
        self._tokens.auto_renew_toggled.connect(self.auto_renew_toggled)
        self._tokens.retry_storage_requested.connect(self.retry_storage_requested)
        self._tokens.copied.connect(self._on_value_copied)
        self._details.generate_requested.connect(self.generate_requested)
        self._details.copied.connect(self._on_value_copied)
        self._details.expanded_changed.connect(self._on_details_expanded_changed)
        self._menus.primary.triggered.connect(self._on_primary_triggered)
        self._menus.reopen.triggered.connect(self.reopen_requested)
        self._menus.copy_link.triggered.connect(self._on_copy_link_triggered)
        self._menus.refresh.triggered.connect(self.refresh_requested)
        self._menus.details.toggled.connect(self._details.set_expanded)
        self._menus.diagnostics.triggered.connect(self.diagnostics_requested)
        self._menus.about.triggered.connect(self._on_about_triggered)
        self._menus.quit.triggered.connect(self.close)
        self._api.notice.connect(self.show_notice)

    def _chain_focus(self) -> None:
        chain = [
            *self._card.focus_chain(),
            *self._tokens.focus_chain(),
            *self._details.focus_chain(),
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _sync_actions(self) -> None:
        phase = self._view.phase
        primary = self._card.primary_text(phase)
        self._menus.set_primary(primary, escape_cancels=phase.attempt_running)
        set_shortcut_tip(self._card.primary_button, primary.rstrip("…"), SHORTCUT_PRIMARY)
        waiting = phase is Phase.WAITING
        self._menus.reopen.setEnabled(waiting)
        self._menus.copy_link.setEnabled(waiting and self._card.copy_link_button.isEnabled())
        self._menus.refresh.setEnabled(self._tokens.can_refresh)

    def _api_reason(self, phase: Phase) -> str:
        if phase is Phase.RECONNECT_NEEDED:
            return self.tr("Kit needs you to connect again, on the Connection tab.")
        if phase.attempt_running:
            return self.tr("Finish connecting first, on the Connection tab.")
        return self.tr("Connect to Kit first, on the Connection tab.")

    def _show_shortcuts_in_tooltips(self) -> None:
        set_shortcut_tip(self._card.reopen_button, self._menus.reopen.text(), SHORTCUT_REOPEN)
        set_shortcut_tip(
            self._card.copy_link_button, self._menus.copy_link.text(), SHORTCUT_COPY_LINK
        )
        set_shortcut_tip(self._tokens.refresh_button, self._menus.refresh.text(), SHORTCUT_REFRESH)
        set_shortcut_tip(self._details.toggle_button, self._menus.details.text(), SHORTCUT_DETAILS)

    @Slot()
    def _on_primary_triggered(self) -> None:
        self._card.trigger_primary()

    @Slot()
    def _on_copy_link_triggered(self) -> None:
        self._card.copy_link()

    @Slot()
    def _on_card_disconnect_requested(self) -> None:
        if confirm_disconnect(self):
            self.disconnect_requested.emit()

    @Slot()
    def _on_card_link_copied(self) -> None:
        self.show_notice(self.tr("Link copied. Paste it into your browser's address bar."))

    @Slot(str)
    def _on_value_copied(self, name: str) -> None:
        self.show_notice(self.tr("{name} copied.").format(name=name))

    @Slot(bool)
    def _on_details_expanded_changed(self, expanded: bool) -> None:
        self._menus.details.setChecked(expanded)
        self._settings.setValue(DETAILS_KEY, expanded)

    @Slot()
    def _on_about_triggered(self) -> None:
        show_about(self)
