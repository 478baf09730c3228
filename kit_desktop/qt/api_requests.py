"""ApiRequests: the API panel's controller; requests go out and answers are formatted off-thread.

Composing, checking and preparing a request is Qt-free and lives in
:mod:`kit_desktop.api.pipeline` and :mod:`kit_desktop.api.answer`; this module adds the
signals, the background workers, the rate-limit wait, the meter timer and the history.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kit_desktop.api.answer import ApiResult, HistoryEntry, perform, write_body
from kit_desktop.api.client import KitApiClient
from kit_desktop.api.curl import as_curl
from kit_desktop.api.endpoints import ENDPOINTS, PRESETS, Endpoint
from kit_desktop.api.export import BACKOFF
from kit_desktop.api.paths import api_url
from kit_desktop.api.pipeline import ApiRequest, check_request, compose_request, request_body
from kit_desktop.errors import (
    ApiError,
    KitError,
    RateLimitedError,
    ReconnectNeededError,
)
from kit_desktop.lists import ExportOutcome
from kit_desktop.qt.api_export import ListExport
from kit_desktop.qt.workers import Task, Workers

# The request pipeline moved to kit_desktop.api; these names are re-exported for old imports.
__all__ = ["ApiRequest", "ApiRequests", "ApiResult", "HistoryEntry", "perform"]


class ApiRequests(QObject):
    """Sends the panel's requests with the connected client; one request at a time.

    Blocking work (the request, formatting the body, saving a file) runs in :class:`Workers`;
    results come back on the GUI thread as signals carrying plain data.

    Signals:
        started(): A request went out.
        finished(object): Its :class:`ApiResult`.
        failed(object): A :class:`KitError` (refused before sending, network, Kit...).
        cancelled(): The running request was cancelled; its answer will be ignored.
        rate_limited(float): Kit's rate limit was reached; seconds to wait before sending.
        meter_changed(int): Requests sent in the last 60 s.
        reconnect_needed(object): Kit refused the saved access; the session must reconnect.
        history_changed(object): The history, a tuple of :class:`HistoryEntry`, newest first.
        curl_ready(str): A curl command for the composed request (the token by variable).
        notice(str): A short message (saved, could not save...).
        export_progressed(object): An ``ExportProgress`` of "Export all to CSV".
        export_finished(object): Its ``ExportOutcome``.

    Args:
        client: The API client (refreshes the token and retries once).
        clock: Wall-clock time, for the history.
        export_backoff: Waits before an export asks again for a page whose connection
            dropped.
        parent: The parent object.
    """

    started = Signal()
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    rate_limited = Signal(float)
    meter_changed = Signal(int)
    reconnect_needed = Signal(object)
    history_changed = Signal(object)
    curl_ready = Signal(str)
    notice = Signal(str)
    export_progressed = Signal(object)
    export_finished = Signal(object)

    def __init__(
        self,
        client: KitApiClient,
        *,
        clock: Callable[[], float] = time.time,
        export_backoff: Sequence[float] = BACKOFF,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._export = ListExport(client, backoff=export_backoff, parent=self)
        self._export.progressed.connect(self.export_progressed)
        self._export.finished.connect(self.export_finished)
        self._clock = clock
        self._workers = Workers(self)
        self._task: Task | None = None
        self._pending: ApiRequest | None = None
        self._last: ApiResult | None = None
        self._history: list[HistoryEntry] = []
        self._blocked_until = 0.0
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(1000)
        self._meter_timer.timeout.connect(self._on_meter_timer_timeout)

    # --- what the panel reads -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a request (or a formatting, or a save) is still running in the background."""
        return self._workers.busy

    @property
    def running(self) -> bool:
        """Whether a request is under way (and not cancelled)."""
        return self._task is not None

    @property
    def limit(self) -> int:
        """Kit's requests-per-minute limit shown next to the meter."""
        return self._client.rate_limit

    @staticmethod
    def endpoints() -> tuple[Endpoint, ...]:
        """Kit's endpoints, for completion."""
        return ENDPOINTS

    @staticmethod
    def presets() -> tuple[Endpoint, ...]:
        """The one-click requests, in catalogue order."""
        return tuple(e for e in ENDPOINTS if PRESETS.get(e.summary) == (e.method, e.path))

    # --- intents ------------------------------------------------------------------------

    @Slot(str, str, object, str, object)
    def send(
        self,
        method: str,
        path: str,
        pairs: Iterable[tuple[str, str]] = (),
        body_text: str = "",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Check the request and send it in the background (ignored while one runs)."""
        if self._task is not None:
            return
        request = compose_request(method, path, pairs, body_text, headers)
        try:
            body = self._check(request)
        except KitError as exc:
            if request.path:  # an empty path is nothing to load again: no history entry
                self._record(request, self.tr("Not sent"))
            self.failed.emit(exc)
            return
        self._pending = request
        self._task = self._workers.run(
            functools.partial(perform, self._client, request, body),
            self._on_request_done,
            self._on_request_failed,
        )
        self.started.emit()

    @Slot()
    def cancel(self) -> None:
        """Stop waiting for the running request; its answer, when it comes, is ignored."""
        if self._task is None or self._pending is None:
            return
        self._task = None
        self._record(self._pending, self.tr("Cancelled"))
        self.cancelled.emit()

    @Slot(str)
    def save_body(self, path: str) -> None:
        """Write the last answer's body, exactly as received, to ``path`` in the background."""
        last = self._last
        if last is None or not path:
            return
        call = functools.partial(write_body, Path(path), last.response.body)
        self._workers.run(call, self._on_saved, self._on_save_failed)

    @Slot(str, str, object, str, object)
    def copy_as_curl(
        self,
        method: str,
        path: str,
        pairs: Iterable[tuple[str, str]] = (),
        body_text: str = "",
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Build a curl command for the composed request; the token is ``$KIT_ACCESS_TOKEN``."""
        request = compose_request(method, path, pairs, body_text, headers)
        try:
            body = self._check(request, rate=False)
            url = api_url(self._client.origin, request.path, request.query)
            text = as_curl(request.method, url, json_body=body, headers=dict(request.headers))
        except (KitError, ValueError) as exc:
            self.notice.emit(exc.user_message if isinstance(exc, KitError) else str(exc))
            return
        self.curl_ready.emit(text)

    @Slot(object, str)
    def export_all(self, request: object, path: str) -> None:
        """Export every page of ``request``'s list (a GET) to the CSV file ``path``."""
        if not isinstance(request, ApiRequest) or request.method != "GET":
            self.export_finished.emit(
                ExportOutcome("stopped", "", 0, self.tr("Only a list Kit sent can be exported."))
            )
            return
        if not self._export.start(request, path):
            self.notice.emit(self.tr("An export is already running."))

    @Slot()
    def cancel_export(self) -> None:
        """Stop the export after the request under way; the file is kept as ``.part``."""
        self._export.cancel()

    @property
    def exporting(self) -> bool:
        """Whether an export is under way."""
        return self._export.running

    def shutdown(self) -> None:
        """Ignore late answers and stop the background work (window closing)."""
        self._export.shutdown()
        self._task = None
        self._meter_timer.stop()
        self._workers.shutdown()

    # --- results (GUI thread) -----------------------------------------------------------

    @Slot(object)
    def _on_request_done(self, result: object) -> None:
        self._update_meter()
        if self._workers.current_task is not self._task or not isinstance(result, ApiResult):
            return
        self._task = None
        self._last = result
        response = result.response
        outcome = f"{response.status} {response.reason}".strip()
        self._record(result.request, outcome, response.status, response.seconds)
        self.finished.emit(result)

    @Slot(object)
    def _on_request_failed(self, error: object) -> None:
        self._update_meter()
        if self._workers.current_task is not self._task or self._pending is None:
            return
        self._task = None
        exc = error if isinstance(error, KitError) else KitError(detail=repr(type(error)))
        status = exc.status if isinstance(exc, ApiError) else None
        outcome = str(status) if status else self.tr("Failed")
        self._record(self._pending, outcome, status)
        if isinstance(exc, RateLimitedError):
            self._blocked_until = time.monotonic() + exc.retry_after
            self.rate_limited.emit(exc.retry_after)
        if isinstance(exc, ReconnectNeededError):
            self.reconnect_needed.emit(exc)
        self.failed.emit(exc)

    @Slot(object)
    def _on_saved(self, path: object) -> None:
        self.notice.emit(self.tr("Saved to {path}.").format(path=path))

    @Slot(object)
    def _on_save_failed(self, error: object) -> None:
        message = error.user_message if isinstance(error, KitError) else ""
        self.notice.emit(message or self.tr("The answer could not be saved."))

    @Slot()
    def _on_meter_timer_timeout(self) -> None:
        self._update_meter()

    # --- helpers --------------------------------------------------------------------------

    def _check(self, request: ApiRequest, *, rate: bool = True) -> object:
        """Refuse what must not be sent (nothing leaves this computer); return the JSON body."""
        check_request(request, self._client.origin)
        wait = self._blocked_until - time.monotonic()
        if rate and wait > 0:
            raise RateLimitedError(wait, detail="not sent: still inside Kit's rate-limit wait")
        return request_body(request)

    def _record(
        self,
        request: ApiRequest,
        outcome: str,
        status: int | None = None,
        seconds: float | None = None,
    ) -> None:
        self._history.insert(0, HistoryEntry(request, outcome, status, seconds, self._clock()))
        self.history_changed.emit(tuple(self._history))

    def _update_meter(self) -> None:
        used = self._client.meter.used()
        self.meter_changed.emit(used)
        if used and not self._meter_timer.isActive():
            self._meter_timer.start()
        elif not used:
            self._meter_timer.stop()
