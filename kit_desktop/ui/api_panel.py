"""The API requests page: compose a request, read Kit's answer, this run's history and the meter."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.errors import KitError, UnsafeRequestError
from kit_desktop.lists import ExportOutcome, ExportProgress
from kit_desktop.ui.api_composer import ApiComposer
from kit_desktop.ui.api_history import HistoryList
from kit_desktop.ui.api_path import EndpointLike
from kit_desktop.ui.api_response import ApiResponseView
from kit_desktop.ui.theme import plain_label, relative_font, set_muted

if TYPE_CHECKING:
    from kit_desktop.qt.api_requests import ApiRequest, ApiResult, HistoryEntry

SHORTCUT_SEND = ("Ctrl+Return", "Ctrl+Enter")
SHORTCUT_FIND = QKeySequence.StandardKey.Find

SavePathChooser = Callable[[QWidget, str], str]


def ask_save_path(parent: QWidget, suggested: str) -> str:
    """Ask where to save the answer; '' when the creator cancels."""
    path, _ = QFileDialog.getSaveFileName(
        parent, parent.tr("Save Kit's answer"), suggested, parent.tr("All files (*)")
    )
    return path


def ask_export_path(parent: QWidget, suggested: str) -> str:
    """Ask where to export the list; '' when the creator cancels."""
    path, _ = QFileDialog.getSaveFileName(
        parent, parent.tr("Export all to CSV"), suggested, parent.tr("CSV files (*.csv)")
    )
    return path


class ApiPanel(QWidget):
    """Send requests to Kit's API and read the answers. Passive: intents out, ``show_*`` in.

    Signals:
        send_requested(str, str, object, str, object): Method, path, query pairs, body text
            and extra headers to send.
        cancel_requested(): Stop waiting for the running request.
        curl_requested(str, str, object, str, object): The same, for "Copy as curl".
        save_requested(str): Save the last answer to this file.
        export_requested(object, str): Export every page of this request's list (the
            answer's ``ApiRequest``) to this CSV file.
        export_cancel_requested(): Stop the export.
        notice(str): A short message for the window's status bar.
    """

    send_requested = Signal(str, str, object, str, object)
    cancel_requested = Signal()
    curl_requested = Signal(str, str, object, str, object)
    save_requested = Signal(str)
    export_requested = Signal(object, str)
    export_cancel_requested = Signal()
    notice = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        choose_save_path: SavePathChooser = ask_save_path,
        choose_export_path: SavePathChooser = ask_export_path,
    ) -> None:
        """Build the page.

        Args:
            parent: The parent widget.
            clock: Monotonic seconds, for the rate-limit countdown (tests pass their own).
            choose_save_path: Asks where to save an answer (tests pass their own).
            choose_export_path: Asks where to export a list (tests pass their own).
        """
        super().__init__(parent)
        self.setAccessibleName(self.tr("API requests"))
        self._clock = clock
        self.choose_save_path = choose_save_path
        self.choose_export_path = choose_export_path
        self._connected = False
        self._reason = self.tr("Connect to Kit first, on the Connection tab.")
        self._running = False
        self._blocked_until = 0.0
        self._limit = 600
        self._result: ApiResult | None = None

        self._composer = ApiComposer(self)
        self._response = ApiResponseView(self)
        self._history = HistoryList(self)
        self._meter = QProgressBar(self)
        self._meter.setTextVisible(False)
        self._meter.setMaximumHeight(round(self.fontMetrics().height() * 0.5))
        self._meter.setAccessibleName(self.tr("Requests in the last minute"))
        self._meter_label = plain_label(parent=self)
        self._meter_label.setObjectName("meter")
        set_muted(self._meter_label)
        self._countdown = QTimer(self)
        self._countdown.setInterval(250)
        self._build_layout()
        self._connect_signals()
        self.show_meter(0, self._limit)
        self._sync_send()

    # --- what tests and the window read -----------------------------------------------------

    @property
    def composer(self) -> ApiComposer:
        """Method, path, query, body and headers."""
        return self._composer

    @property
    def response_view(self) -> ApiResponseView:
        """Kit's answer."""
        return self._response

    @property
    def history_list(self) -> HistoryList:
        """This run's requests."""
        return self._history

    @property
    def meter_text(self) -> str:
        """The meter's words, like "3 of 600 requests this minute"."""
        return self._meter_label.text()

    # --- what the controller shows ------------------------------------------------------------

    def set_endpoints(
        self, endpoints: Sequence[EndpointLike], presets: Sequence[EndpointLike]
    ) -> None:
        """Offer Kit's ``endpoints`` for completion and ``presets`` as ready-made requests."""
        self._composer.set_endpoints(endpoints, presets)

    def show_connected(self, connected: bool, reason: str = "") -> None:
        """Allow sending only while connected; ``reason`` says why not."""
        self._connected = connected
        self._reason = reason or self.tr("Connect to Kit first, on the Connection tab.")
        self._sync_send()

    def show_started(self) -> None:
        """A request is on its way."""
        self._running = True
        self._response.show_empty(self.tr("Waiting for Kit…"))
        self._sync_send()

    def show_result(self, result: ApiResult) -> None:
        """Show Kit's answer."""
        self._running = False
        self._result = result
        self._response.show_result(result)
        self._sync_send()

    def show_error(self, error: KitError) -> None:
        """Show why there is no answer, in plain words."""
        self._running = False
        self._result = None
        text = error.user_message
        if isinstance(error, UnsafeRequestError):
            text = self.tr("Not sent. {reason}").format(reason=text)
        self._response.show_empty(text, problem=True)
        self._sync_send()

    def show_cancelled(self) -> None:
        """The running request was cancelled; the page is ready again."""
        self._running = False
        self._response.show_empty(self.tr("Cancelled. Kit's answer, if it comes, is ignored."))
        self._sync_send()

    def show_rate_limited(self, seconds: float) -> None:
        """Keep Send off for ``seconds`` (Kit's rate limit), counting down."""
        self._blocked_until = self._clock() + seconds
        self._countdown.start()
        self._sync_send()

    def show_meter(self, used: int, limit: int | None = None) -> None:
        """Show how many of the ``limit`` requests a minute (unchanged when ``None``) were used."""
        limit = self._limit = self._limit if limit is None else limit
        self._meter.setRange(0, limit)
        self._meter.setValue(min(used, limit))
        text = self.tr("{used} of {limit} requests this minute").format(used=used, limit=limit)
        self._meter_label.setText(text)
        self._meter.setAccessibleDescription(text)

    def show_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Show this run's requests, newest first."""
        self._history.show_entries(entries)

    def show_curl(self, command: str) -> None:
        """Put the curl command on the clipboard."""
        QGuiApplication.clipboard().setText(command)
        self.notice.emit(
            self.tr("Copied. Set KIT_ACCESS_TOKEN in your shell before running the command.")
        )

    def export_to(self, path: str) -> None:
        """Export every page of the list shown to the CSV file ``path`` (Export's end)."""
        result = self._result
        if result is None or result.table is None or not path:
            return
        self._response.show_export_started(path)
        self.export_requested.emit(result.request, path)

    def show_export_progress(self, progress: ExportProgress) -> None:
        """Rows written so far by the export."""
        self._response.show_export_progress(progress)

    def show_export_finished(self, outcome: ExportOutcome) -> None:
        """How the export ended."""
        self._response.show_export_finished(outcome)
        self.notice.emit(outcome.message)

    def show_notice(self, text: str) -> None:
        """Pass a short message on to the window."""
        self.notice.emit(text)

    # --- helpers ------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        em = self.fontMetrics().height()
        work = QSplitter(Qt.Orientation.Vertical, self)
        work.setChildrenCollapsible(False)
        work.addWidget(self._composer)
        work.addWidget(self._response)
        work.setStretchFactor(0, 0)
        work.setStretchFactor(1, 1)
        work.setSizes([em * 17, em * 26])
        side = QWidget(self)
        column = QVBoxLayout(side)
        column.setContentsMargins(round(em * 0.6), 0, 0, 0)
        heading = plain_label(self.tr("This session"), side)
        heading.setFont(relative_font(self.font(), 1.0, bold=True))
        column.addWidget(heading)
        column.addWidget(self._history, 1)
        column.addWidget(self._meter_label)
        column.addWidget(self._meter)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.setChildrenCollapsible(False)
        split.addWidget(work)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([em * 40, em * 12])
        outer = QVBoxLayout(self)
        margin = round(em * 0.8)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.addWidget(split)

    def _connect_signals(self) -> None:
        composer, response = self._composer, self._response
        composer.send_requested.connect(self._on_send_requested)
        composer.cancel_requested.connect(self.cancel_requested)
        composer.curl_requested.connect(self._on_curl_requested)
        response.next_requested.connect(self._on_next_requested)
        response.previous_requested.connect(self._on_previous_requested)
        response.save_requested.connect(self._on_save_requested)
        response.export_requested.connect(self._on_export_requested)
        response.export_cancel_requested.connect(self.export_cancel_requested)
        self._history.load_requested.connect(self._on_history_load_requested)
        self._countdown.timeout.connect(self._on_countdown_timeout)
        for keys in SHORTCUT_SEND:
            send = QShortcut(QKeySequence(keys), self)
            send.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            send.activated.connect(self._on_send_requested)
        find = QShortcut(QKeySequence(SHORTCUT_FIND), self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self._response.start_find)

    def _sync_send(self) -> None:
        wait = self._blocked_until - self._clock()
        if wait > 0:
            reason = self.tr(
                "Kit asked to wait before the next request; try again in {seconds} s."
            ).format(seconds=int(-(-wait // 1)))
        elif not self._connected:
            reason = self._reason
        else:
            reason = ""
            self._countdown.stop()
        self._composer.set_running(self._running)
        self._composer.set_send_enabled(not reason, reason)

    def _emit_send(self) -> None:
        c = self._composer
        if not c.path:
            c.path_field.setFocus(Qt.FocusReason.OtherFocusReason)  # where the answer says to type
        self.send_requested.emit(c.method, c.path, c.query, c.body_text, c.headers)

    def _composed_is(self, request: ApiRequest) -> bool:
        """Whether the composer still holds ``request`` (as the core tidies what was typed)."""
        c = self._composer
        headers = [(name.strip(), value) for name, value in c.headers if name.strip()]
        return (c.method, c.path, list(c.query), c.body_text, headers) == (
            request.method,
            request.path,
            list(request.query),
            request.body_text,
            list(request.headers),
        )

    def _load_page(self, query: object) -> None:
        """Ask for another page of the answer shown, of the request that answer belongs to.

        While the composer still holds that request, the page's query is filled in there (the
        creator sees the cursor). Once the creator has edited it, the edits stay: the page is
        asked for without touching the composer, and the status bar says so.
        """
        result = self._result
        if result is None or not isinstance(query, tuple | list) or self._running:
            return
        if not self._composer.send_button.isEnabled():
            return
        request = result.request
        if self._composed_is(request):
            self._composer.load(request.method, request.path, query, request.body_text)
            self._emit_send()
            return
        self.send_requested.emit(
            request.method, request.path, list(query), request.body_text, list(request.headers)
        )
        self.notice.emit(
            self.tr(
                "Asked Kit for another page of {request}. The request you are editing is kept."
            ).format(request=f"{request.method} {request.path}")
        )

    @Slot()
    def _on_send_requested(self) -> None:
        if self._composer.send_button.isEnabled() and not self._running:
            self._emit_send()

    @Slot()
    def _on_curl_requested(self) -> None:
        c = self._composer
        self.curl_requested.emit(c.method, c.path, c.query, c.body_text, c.headers)

    @Slot()
    def _on_next_requested(self) -> None:
        if self._result is not None:
            self._load_page(self._result.next_query)

    @Slot()
    def _on_previous_requested(self) -> None:
        if self._result is not None:
            self._load_page(self._result.previous_query)

    @Slot()
    def _on_save_requested(self) -> None:
        result = self._result
        if result is None:
            return
        name = result.request.path.strip("/").replace("/", "-") or "answer"
        extension = ".json" if result.body.kind == "json" else ".txt"
        path = self.choose_save_path(self, name + extension)
        if path:
            self.save_requested.emit(path)

    @Slot()
    def _on_export_requested(self) -> None:
        result = self._result
        if result is None or result.table is None:
            return
        path = self.choose_export_path(self, f"{result.table.kind}.csv")
        if path:
            self.export_to(path)

    @Slot(object)
    def _on_history_load_requested(self, request: ApiRequest) -> None:
        self._composer.load(
            request.method, request.path, request.query, request.body_text, request.headers
        )

    @Slot()
    def _on_countdown_timeout(self) -> None:
        self._sync_send()
