"""Everything inside the main window: sections, tabs, menus, shortcuts and their wiring.

Built by :meth:`MainWindow.build`, right after the window's first paint, so the window
appears as fast as a bare one. The API requests page is built the first time it is shown
(or asked for): most creators never open it, and it holds about 5 MiB of widgets.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Slot
from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from kit_desktop.state import AttemptView, Phase, SessionView
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

if TYPE_CHECKING:
    from kit_desktop.ui.api_panel import ApiPanel
    from kit_desktop.ui.main_window import MainWindow

DETAILS_KEY = "window/details_expanded"


class WindowContent(QObject):
    """The window's sections, wired to the window's intent signals.

    Args:
        window: The window to fill (its central widget and menus are replaced).
        settings: Where the Details state is kept.
        clock: Wall-clock time in seconds, for the countdowns.
    """

    def __init__(
        self, window: MainWindow, settings: QSettings, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(window)
        self.window = window
        self._settings = settings
        self._view = SessionView()
        window.setStyleSheet(STYLE_SHEET)
        self.practice = Notice("practice", parent=window)
        self.practice.set_text(
            self.tr("Practice mode: a built-in Kit sandbox, not your real account")
        )
        self.card = ConnectionCard(clock, window)
        self.tokens = TokenPanel(clock, window)
        self.details = PkcePanel(window)
        self._api: ApiPanel | None = None
        self._api_page = QWidget(window)  # the API page's place until it is first shown
        self._build_layout()
        self._menus = WindowMenus(window)
        self._connect_signals()
        self._chain_focus()
        self._show_shortcuts_in_tooltips()
        self.details.set_expanded(bool(settings.value(DETAILS_KEY, False, type=bool)))

    def restyle(self) -> None:
        """Re-resolve palette colours in the style sheet (light/dark switch)."""
        self.window.setStyleSheet(STYLE_SHEET)

    def show_view(self, view: SessionView) -> None:
        """Show a new session snapshot everywhere it matters."""
        self._view = view
        self.practice.setVisible(view.practice)
        self.card.show_view(view)
        self.tokens.show_view(view)
        self.details.set_attempt_running(view.phase.attempt_running)
        if self._api is not None:
            self._api.show_connected(view.phase.has_tokens, self._api_reason(view.phase))
        self._sync_actions()

    def show_attempt(self, attempt: AttemptView | None) -> None:
        """Show the PKCE values of the current attempt (``None`` when there is none)."""
        self.card.show_attempt(attempt)
        self.details.show_attempt(attempt)
        self._sync_actions()

    def _build_layout(self) -> None:
        window = self.window
        em = window.fontMetrics().height()
        column = QWidget(window)
        column.setMaximumWidth(em * 52)
        stack = QVBoxLayout(column)
        stack.setContentsMargins(0, 0, 0, 0)
        stack.setSpacing(round(em * 1.5))
        stack.addWidget(self.practice)
        stack.addWidget(self.card)
        stack.addWidget(self.tokens)
        stack.addWidget(self.details)
        stack.addStretch(1)
        page = QWidget(window)
        row = QHBoxLayout(page)
        margin = round(em * 1.5)
        row.setContentsMargins(margin, margin, margin, margin)
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        scroll = QScrollArea(window)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setAccessibleName(self.tr("Kit connection"))
        self.tabs = page_tabs(self.tr("Pages"), window)
        self.tabs.addTab(scroll, self.tr("Connection"))
        self.tabs.addTab(self._api_page, self.tr("API requests"))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        window.setCentralWidget(self.tabs)

    def _connect_signals(self) -> None:
        self.card.connect_requested.connect(self.window.connect_requested)
        self.card.cancel_requested.connect(self.window.cancel_requested)
        self.card.disconnect_requested.connect(self._on_card_disconnect_requested)
        self.card.reopen_requested.connect(self.window.reopen_requested)
        self.card.link_copied.connect(self._on_card_link_copied)
        self.card.paste_submitted.connect(self.window.paste_submitted)
        self.tokens.refresh_requested.connect(self.window.refresh_requested)
        self.tokens.auto_renew_toggled.connect(self.window.auto_renew_toggled)
        self.tokens.retry_storage_requested.connect(self.window.retry_storage_requested)
        self.tokens.copied.connect(self._on_value_copied)
        self.details.generate_requested.connect(self.window.generate_requested)
        self.details.copied.connect(self._on_value_copied)
        self.details.expanded_changed.connect(self._on_details_expanded_changed)
        self._menus.primary.triggered.connect(self._on_primary_triggered)
        self._menus.reopen.triggered.connect(self.window.reopen_requested)
        self._menus.copy_link.triggered.connect(self._on_copy_link_triggered)
        self._menus.refresh.triggered.connect(self.window.refresh_requested)
        self._menus.details.toggled.connect(self.details.set_expanded)
        self._menus.diagnostics.triggered.connect(self.window.diagnostics_requested)
        self._menus.about.triggered.connect(self._on_about_triggered)
        self._menus.quit.triggered.connect(self.window.close)

    @property
    def api_built(self) -> bool:
        """Whether the API requests page has been built yet."""
        return self._api is not None

    @property
    def api(self) -> ApiPanel:
        """The API requests page, built now if it was not yet."""
        if self._api is None:
            from kit_desktop.ui.api_panel import ApiPanel

            panel = ApiPanel(self.window)
            tabs, index = self.tabs, self.tabs.indexOf(self._api_page)
            showing = tabs.currentIndex() == index
            blocked = tabs.blockSignals(True)  # the same page, in its place: no tab change
            tabs.insertTab(index, panel, tabs.tabText(index))
            tabs.removeTab(index + 1)
            if showing:
                tabs.setCurrentIndex(index)
            tabs.blockSignals(blocked)
            self._api_page.deleteLater()
            panel.notice.connect(self.window.show_notice)
            phase = self._view.phase
            panel.show_connected(phase.has_tokens, self._api_reason(phase))
            self._api = panel
            self.window.api_panel_built.emit(panel)
        return self._api

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if self._api is None and self.tabs.widget(index) is self._api_page:
            self.api  # noqa: B018 - built on first sight

    def _chain_focus(self) -> None:
        chain = [
            *self.card.focus_chain(),
            *self.tokens.focus_chain(),
            *self.details.focus_chain(),
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _sync_actions(self) -> None:
        phase = self._view.phase
        primary = self.card.primary_text(phase)
        self._menus.set_primary(primary, escape_cancels=phase.attempt_running)
        set_shortcut_tip(self.card.primary_button, primary.rstrip("…"), SHORTCUT_PRIMARY)
        waiting = phase is Phase.WAITING
        self._menus.reopen.setEnabled(waiting)
        self._menus.copy_link.setEnabled(waiting and self.card.copy_link_button.isEnabled())
        self._menus.refresh.setEnabled(self.tokens.can_refresh)

    def _api_reason(self, phase: Phase) -> str:
        if phase is Phase.RECONNECT_NEEDED:
            return self.tr("Kit needs you to connect again, on the Connection tab.")
        if phase.attempt_running:
            return self.tr("Finish connecting first, on the Connection tab.")
        return self.tr("Connect to Kit first, on the Connection tab.")

    def _show_shortcuts_in_tooltips(self) -> None:
        set_shortcut_tip(self.card.reopen_button, self._menus.reopen.text(), SHORTCUT_REOPEN)
        set_shortcut_tip(
            self.card.copy_link_button, self._menus.copy_link.text(), SHORTCUT_COPY_LINK
        )
        set_shortcut_tip(self.tokens.refresh_button, self._menus.refresh.text(), SHORTCUT_REFRESH)
        set_shortcut_tip(self.details.toggle_button, self._menus.details.text(), SHORTCUT_DETAILS)

    @Slot()
    def _on_primary_triggered(self) -> None:
        self.card.trigger_primary()

    @Slot()
    def _on_copy_link_triggered(self) -> None:
        self.card.copy_link()

    @Slot()
    def _on_card_disconnect_requested(self) -> None:
        if confirm_disconnect(self.window):
            self.window.disconnect_requested.emit()

    @Slot()
    def _on_card_link_copied(self) -> None:
        self.window.show_notice(self.tr("Link copied. Paste it into your browser's address bar."))

    @Slot(str)
    def _on_value_copied(self, name: str) -> None:
        self.window.show_notice(self.tr("{name} copied.").format(name=name))

    @Slot(bool)
    def _on_details_expanded_changed(self, expanded: bool) -> None:
        self._menus.details.setChecked(expanded)
        self._settings.setValue(DETAILS_KEY, expanded)

    @Slot()
    def _on_about_triggered(self) -> None:
        show_about(self.window)
