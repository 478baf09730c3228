"""Sending a checked request and preparing Kit's answer for display (any thread, no Qt).

:func:`perform` is what the API panel runs on a worker thread: it sends the request and
computes everything the page shows (the formatted body and its preview, the raw view,
Kit's error summary, the next and previous page), so the GUI thread only lays it out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit_desktop.api.bodyview import (
    PREVIEW_CHARS,
    FormattedBody,
    format_body,
    summarize_errors,
)
from kit_desktop.api.client import ApiResponse, KitApiClient
from kit_desktop.api.paging import page_queries
from kit_desktop.api.pipeline import ApiRequest, Pairs
from kit_desktop.api.tables import answer_table
from kit_desktop.errors import KitError
from kit_desktop.lists import AnswerTable

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
        table: A list answer's items as a table (``None`` for any other answer).
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
    table: AnswerTable | None = None


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


def perform(client: KitApiClient, request: ApiRequest, body: object) -> ApiResult:
    """Send ``request`` and prepare everything the panel shows (runs on a worker thread).

    Args:
        client: The API client (it checks the request again and attaches the token).
        request: A request that passed :func:`~kit_desktop.api.pipeline.check_request`.
        body: Its JSON body, from :func:`~kit_desktop.api.pipeline.request_body`.

    Raises:
        KitError: Whatever :meth:`KitApiClient.request` raises (network, 429, reconnect...).
    """
    response = client.request(
        request.method,
        request.path,
        query=request.query,
        json_body=body,
        headers=dict(request.headers) or None,
    )
    if len(response.body) < QUIET_GC_BYTES:
        return prepare_answer(request, response)
    with _collector_paused():
        return prepare_answer(request, response)


def prepare_answer(request: ApiRequest, response: ApiResponse) -> ApiResult:
    """Format ``response`` for display: previews, raw view, error summary and paging."""
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
    following, previous, table = _page_queries(response, formatted, request.query)
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
        table,
    )


def write_body(path: Path, data: bytes) -> str:
    """Write an answer's bytes, exactly as received, to ``path``; return the path as text.

    Raises:
        KitError: The file could not be written (the message names the path and why).
    """
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise KitError(
            f"The answer could not be saved to {path}: {exc.strerror or 'an error'}.",
            detail=type(exc).__name__,
        ) from exc
    return str(path)


def _page_queries(
    response: ApiResponse, formatted: FormattedBody, query: Pairs
) -> tuple[Pairs | None, Pairs | None, AnswerTable | None]:
    """Return the next and previous pages' queries and, for a list answer, its table."""
    if formatted.kind != "json" or not 200 <= response.status < 300:
        return None, None, None
    if b'"pagination"' not in response.body:
        return None, None, None
    try:
        # A Python hook per object lets the GUI thread take the GIL while a big body parses.
        data = json.loads(response.body, object_pairs_hook=_object)
    except (ValueError, RecursionError):
        return None, None, None
    following, previous = page_queries(data, query)
    return (
        None if following is None else tuple(following),
        None if previous is None else tuple(previous),
        answer_table(data),
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
