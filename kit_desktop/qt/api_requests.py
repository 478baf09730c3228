"""ApiRequests: the API panel's controller; requests go out and answers are formatted off-thread."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kit_desktop.api.bodyview import (
    PREVIEW_CHARS,
    FormattedBody,
    format_body,
    json_error_position,
    summarize_errors,
)
from kit_desktop.api.client import METHODS, ApiResponse, KitApiClient
from kit_desktop.api.curl import as_curl
from kit_desktop.api.endpoints import ENDPOINTS, PRESETS, Endpoint
from kit_desktop.api.paging import join_query, page_queries, split_query
from kit_desktop.api.paths import api_url, check_header
from kit_desktop.errors import (
    ApiError,
    KitError,
    RateLimitedError,
    ReconnectNeededError,
)
from kit_desktop.qt.workers import Task, Workers

log = logging.getLogger(__name__)

Pairs = tuple[tuple[str, str], ...]

#: Methods whose requests carry the JSON body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: How much of the body the raw view shows (one long line lays out slowly in a text view).
RAW_PREVIEW_CHARS = 64_000
#: How much of a non-JSON text body is shown at first (its lines may be very long).
TEXT_PREVIEW_CHARS = 64_000
#: "Show all" is offered only when no line is longer than this (a text view lays a line out whole).
LONG_LINE_CHARS = 20_000
#: From this size on, answers are prepared with the cycle collector paused.
QUIET_GC_BYTES = 256 * 1024
#: Kit's error bodies are small; larger answers are not searched for an error summary.
SUMMARY_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class ApiRequest:
    """One request as composed: never holds a token.

    Attributes:
        method: GET, POST, PUT, PATCH or DELETE.
        path: The ``/v4/...`` path, without its query.
        query: The query pairs, in order.
        body_text: The JSON body as typed ('' for none).
        headers: Extra request headers (never ``Authorization``).
    """

    method: str
    path: str
    query: Pairs = ()
    body_text: str = ""
    headers: Pairs = ()

    @property
    def target(self) -> str:
        """The path with its query, as shown in the history."""
        return join_query(self.path, self.query)


@dataclass(frozen=True)
class ApiResult:
    """A finished request, ready to show: everything here was computed off the GUI thread.

    Attributes:
        request: What was sent.
        response: Kit's answer (status, reason, headers, bytes, time, size, truncated).
        body: The body formatted for display (a preview when large).
        full_text: The whole formatted body when "Show all" can show it, else ''.
        raw_text: The start of the body as received, for the raw view.
        raw_truncated: Whether ``raw_text`` is only the start.
        errors: Kit's error messages in plain words ('' when none).
        next_query: The query of the next page, or ``None``.
        previous_query: The query of the previous page, or ``None``.
    """

    request: ApiRequest
    response: ApiResponse
    body: FormattedBody
    full_text: str
    raw_text: str
    raw_truncated: bool
    errors: str
    next_query: Pairs | None
    previous_query: Pairs | None


@dataclass(frozen=True)
class HistoryEntry:
    """One line of this run's history (kept in memory only; there is no secret in it).

    Attributes:
        request: What was composed.
        outcome: ``200 OK``, ``Not sent``, ``Cancelled``...
        status: The HTTP status, when Kit answered.
        seconds: How long the request took, when it was sent.
        at: Wall-clock time of the outcome.
    """

    request: ApiRequest
    outcome: str
    status: int | None
    seconds: float | None
    at: float


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

    Args:
        client: The API client (refreshes the token and retries once).
        clock: Wall-clock time, for the history.
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

    def __init__(
        self,
        client: KitApiClient,
        *,
        clock: Callable[[], float] = time.time,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
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
        request = _request(method, path, pairs, body_text, headers)
        try:
            body = self._check(request)
        except KitError as exc:
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
        call = functools.partial(_write_file, Path(path), last.response.body)
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
        request = _request(method, path, pairs, body_text, headers)
        try:
            body = self._check(request, rate=False)
            url = api_url(self._client.origin, request.path, request.query)
            text = as_curl(request.method, url, json_body=body, headers=dict(request.headers))
        except (KitError, ValueError) as exc:
            self.notice.emit(exc.user_message if isinstance(exc, KitError) else str(exc))
            return
        self.curl_ready.emit(text)

    def shutdown(self) -> None:
        """Ignore late answers and stop the background work (window closing)."""
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
        if request.method not in METHODS:
            raise ApiError(self.tr("Choose one of GET, POST, PUT, PATCH or DELETE."))
        api_url(self._client.origin, request.path, request.query)
        for name, value in request.headers:
            check_header(name, value)
        wait = self._blocked_until - time.monotonic()
        if rate and wait > 0:
            raise RateLimitedError(wait, detail="not sent: still inside Kit's rate-limit wait")
        if request.method not in BODY_METHODS or not request.body_text.strip():
            return None
        problem = json_error_position(request.body_text)
        if problem is not None:
            line, column, message = problem
            raise ApiError(
                self.tr(
                    "The body is not valid JSON (line {line}, column {column}: {message}). "
                    "Fix it and send again."
                ).format(line=line, column=column, message=message)
            )
        return json.loads(request.body_text)

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


def perform(client: KitApiClient, request: ApiRequest, body: object) -> ApiResult:
    """Send ``request`` and prepare everything the panel shows (runs on a worker thread)."""
    response = client.request(
        request.method,
        request.path,
        query=request.query,
        json_body=body,
        headers=dict(request.headers) or None,
    )
    if len(response.body) < QUIET_GC_BYTES:
        return _prepare(request, response)
    with _collector_paused():
        return _prepare(request, response)


def _prepare(request: ApiRequest, response: ApiResponse) -> ApiResult:
    full = format_body(
        response.body,
        response.content_type,
        preview_chars=None,
        cut_off=response.truncated,
    )
    limit = PREVIEW_CHARS if full.kind == "json" else TEXT_PREVIEW_CHARS
    formatted = dataclasses.replace(
        full, text=full.text[:limit], truncated_view=len(full.text) > limit
    )
    showable = formatted.truncated_view and _longest_line(full.text) <= LONG_LINE_CHARS
    errors = ""
    if response.status >= 400 and len(response.body) <= SUMMARY_MAX_BYTES:
        errors = summarize_errors(response.body)
    following, previous = _page_queries(response, formatted, request.query)
    if formatted.kind == "binary":
        raw, raw_cut = formatted.text, False
    else:
        raw = response.body[: RAW_PREVIEW_CHARS * 2].decode("utf-8", "replace")
        raw_cut = len(raw) > RAW_PREVIEW_CHARS or len(response.body) > RAW_PREVIEW_CHARS * 2
        raw = raw[:RAW_PREVIEW_CHARS]
    return ApiResult(
        request,
        response,
        formatted,
        full.text if showable else "",
        raw,
        raw_cut,
        errors,
        following,
        previous,
    )


def _page_queries(
    response: ApiResponse, formatted: FormattedBody, query: Pairs
) -> tuple[Pairs | None, Pairs | None]:
    if formatted.kind != "json" or not 200 <= response.status < 300:
        return None, None
    if b'"pagination"' not in response.body:
        return None, None
    try:
        # A Python hook per object lets the GUI thread take the GIL while a big body parses.
        data = json.loads(response.body, object_pairs_hook=_object)
    except (ValueError, RecursionError):
        return None, None
    following, previous = page_queries(data, query)
    return (
        None if following is None else tuple(following),
        None if previous is None else tuple(previous),
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a big answer is parsed and laid out.

    Parsing a few MB of JSON makes about a million objects; a full collection over them
    holds the GIL for tens of milliseconds (measured: 25-37 ms), stalling the window. The
    objects are freed by reference counting before the collector resumes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _longest_line(text: str) -> int:
    longest = start = 0
    while (end := text.find("\n", start)) != -1:
        longest = max(longest, end - start)
        start = end + 1
    return max(longest, len(text) - start)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)


def _request(
    method: str,
    path: str,
    pairs: Iterable[tuple[str, str]],
    body_text: str,
    headers: Iterable[tuple[str, str]],
) -> ApiRequest:
    base, inline = split_query(path.strip())
    query = tuple((str(k), str(v)) for k, v in (*inline, *pairs))
    extra = tuple((str(k).strip(), str(v)) for k, v in headers if str(k).strip())
    return ApiRequest(method.strip().upper(), base, query, body_text, extra)


def _write_file(path: Path, data: bytes) -> str:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise KitError(
            f"The answer could not be saved to {path}: {exc.strerror or 'an error'}.",
            detail=type(exc).__name__,
        ) from exc
    return str(path)
