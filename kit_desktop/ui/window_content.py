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

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, QSettings, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QHBoxLayout,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.state import AttemptView, Phase, SessionView
from kit_desktop.ui.api_tabs import page_tabs
from kit_desktop.ui.connection_card import ConnectionCard
from kit_desktop.ui.dialogs import ask_disconnect, show_about, show_connect_help
from kit_desktop.ui.menus import (
    SHORTCUT_CANCEL,
    SHORTCUT_CONNECT,
    SHORTCUT_COPY_LINK,
    SHORTCUT_DETAILS,
    SHORTCUT_REFRESH,
    SHORTCUT_REOPEN,
    WindowMenus,
    set_shortcut_tip,
)
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.pkce_panel import PkcePanel
from kit_desktop.ui.theme import style_sheet
from kit_desktop.ui.token_panel import TokenPanel

if TYPE_CHECKING:
    from kit_desktop.ui.api_panel import ApiPanel
    from kit_desktop.ui.main_window import MainWindow

DETAILS_KEY = "window/details_expanded"
_PAGE = "connectionPage"


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
        self._disconnect_box: QMessageBox | None = None
        self._disconnect_button: QAbstractButton | None = None
        self._ready = False
        self.restyle()
        self.practice = Notice(
            "practice",
            action=self.tr("Learn more…"),
            action_description=self.tr(
                "Explains practice mode and how to connect your real Kit account."
            ),
            parent=window,
        )
        self.practice.set_text(
            self.tr(
                "Practice mode: Kit Desktop is using a built-in practice Kit with sample data. "
                "Nothing you do here reaches your real Kit account."
            )
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
        self.card.primary_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._ready = True

    def restyle(self) -> None:
        """Work the style sheet's colours out again from the palette (light/dark switch)."""
        sheet = style_sheet(self.window.palette())
        if self.window.styleSheet() != sheet:
            self.window.setStyleSheet(sheet)

    def show_view(self, view: SessionView) -> None:
        """Show a new session snapshot everywhere it matters."""
        self._view = view
        self.practice.setVisible(view.practice)
        self._menus.set_practice(view.practice)
        if self._disconnect_box is not None and not view.phase.has_tokens:
            self._disconnect_box.done(-1)  # nothing left to disconnect
        self.card.show_view(view)
        self.tokens.show_view(view)
        self.details.set_attempt_running(view.phase.attempt_running, view.phase.has_tokens)
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
        stack.setSpacing(round(em * 1.1))
        stack.addWidget(self.practice)
        stack.addWidget(self.card)
        stack.addWidget(self.tokens)
        stack.addWidget(self.details)
        stack.addStretch(1)
        page = QWidget(window)
        row = QHBoxLayout(page)
        margin = round(em * 1.5)
        row.setContentsMargins(margin, round(em * 1.1), margin, margin)
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        scroll = QScrollArea(window)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        scroll.setAccessibleName(self.tr("Kit connection"))
        # Not a Tab stop of its own (it would show no focus): Tab visits its controls, and
        # the page scrolls to whichever has focus.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setObjectName(_PAGE)
        self.tabs = page_tabs(self.tr("Pages"), window)
        self.tabs.addTab(scroll, self.tr("Connection"))
        self.tabs.addTab(self._api_page, self.tr("API requests"))
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        window.setCentralWidget(self.tabs)

    def _connect_signals(self) -> None:
        self.card.connect_requested.connect(self.window.connect_requested)
        self.card.cancel_requested.connect(self.window.cancel_requested)
        self.card.disconnect_requested.connect(self._on_disconnect_wanted)
        self.practice.action_requested.connect(self._on_connect_help_triggered)
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
        self._menus.connect_to_kit.triggered.connect(self.window.connect_requested)
        self._menus.cancel.triggered.connect(self.window.cancel_requested)
        self._menus.disconnect_kit.triggered.connect(self._on_disconnect_wanted)
        self._menus.reopen.triggered.connect(self.window.reopen_requested)
        self._menus.copy_link.triggered.connect(self._on_copy_link_triggered)
        self._menus.refresh.triggered.connect(self.window.refresh_requested)
        self._menus.details.toggled.connect(self.details.set_expanded)
        self._menus.connect_help.triggered.connect(self._on_connect_help_triggered)
        self._menus.checkup.triggered.connect(self.window.start_checkup)
        self._menus.diagnostics.triggered.connect(self.window.diagnostics_requested)
        self._menus.about.triggered.connect(self._on_about_triggered)
        self._menus.quit.triggered.connect(self.window.close)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_app_focus_changed)

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
        if not hasattr(self, "_api"):  # a tab change while the window is taken apart
            return
        if self._api is None and self.tabs.widget(index) is self._api_page:
            self.api  # noqa: B018 - built on first sight

    def _chain_focus(self) -> None:
        chain = [
            *([] if self.practice.button is None else [self.practice.button]),
            *self.card.focus_chain(),
            *self.tokens.focus_chain(),
            *self.details.focus_chain(),
        ]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _sync_actions(self) -> None:
        phase = self._view.phase
        menus = self._menus
        primary = self.card.primary_text(phase).rstrip("…")
        connects = not phase.attempt_running and not phase.has_tokens
        menus.connect_to_kit.setEnabled(connects)
        if connects:
            menus.connect_to_kit.setText(primary)
            set_shortcut_tip(self.card.primary_button, primary, SHORTCUT_CONNECT)
        elif phase.attempt_running:
            set_shortcut_tip(self.card.primary_button, primary, SHORTCUT_CANCEL)
        else:  # Disconnect: no shortcut, and it always asks first
            set_shortcut_tip(self.card.primary_button, self.tr("Disconnect from Kit, after asking"))
        menus.cancel.setEnabled(phase.attempt_running)
        menus.disconnect_kit.setEnabled(phase.has_tokens)
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
    def _on_copy_link_triggered(self) -> None:
        self.card.copy_link()

    @property
    def disconnect_box(self) -> QMessageBox | None:
        """The open "Disconnect from Kit?" question, if any."""
        return self._disconnect_box

    @Slot()
    def _on_disconnect_wanted(self) -> None:
        if self._disconnect_box is not None:
            self._disconnect_box.activateWindow()
            return
        if not self._view.phase.has_tokens:
            return
        box, self._disconnect_button = ask_disconnect(self.window)
        box.finished.connect(self._on_disconnect_box_finished)
        self._disconnect_box = box

    @Slot(int)
    def _on_disconnect_box_finished(self, result: int) -> None:
        del result
        box, self._disconnect_box = self._disconnect_box, None
        if (
            box is not None
            and box.clickedButton() is self._disconnect_button
            and self._view.phase.has_tokens
        ):
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
        if expanded and self._ready:  # opened now, not restored open at the start
            QTimer.singleShot(0, self, self._reveal_details)

    @Slot()
    def _reveal_details(self) -> None:
        """Scroll the opened Details into view: all of it, or from its top when it is taller."""
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        scroll, details = self._page_scroll(), self.details
        page = None if scroll is None else scroll.widget()
        if scroll is None or page is None or not details.isVisible():
            return
        margin = round(details.fontMetrics().height() * 0.5)
        top = details.mapTo(page, QPoint(0, 0)).y() - margin
        bottom = top + details.height() + 2 * margin
        bar = scroll.verticalScrollBar()
        bar.setValue(min(top, max(bar.value(), bottom - scroll.viewport().height())))

    @Slot(QWidget, QWidget)
    def _on_app_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """Scroll the page to a control that gets focus, also when Tab comes from outside it."""
        del old
        scroll = self._page_scroll()
        page = None if scroll is None else scroll.widget()
        if scroll is not None and page is not None and new is not None and page.isAncestorOf(new):
            scroll.ensureWidgetVisible(new)

    def _page_scroll(self) -> QScrollArea | None:
        # Looked up, not kept: with it held here the garbage collector cleared this object
        # before the window's widgets were deleted, and the tabs' last currentChanged then
        # reached a half-cleared self (tests/qt/test_gui.py, at teardown).
        return self.tabs.findChild(QScrollArea, _PAGE)

    @Slot()
    def _on_connect_help_triggered(self) -> None:
        show_connect_help(self.window, practice=self._view.practice)

    @Slot()
    def _on_about_triggered(self) -> None:
        show_about(self.window)
