"""Export every page of a Kit list to CSV, streaming rows to disk (any thread, no Qt).

:func:`export_list` walks the list from its first page (``per_page=1000``, then the
``after`` cursor), writing each page's rows to ``<name>.part`` as it arrives, so memory
holds one page at most. It keeps under Kit's rate limit with the client's meter, waits out
a 429 and goes on, and asks for the same page again after a dropped connection (a few
times, backing off). Only a complete file gets its final name; an export that was cancelled
or had to stop leaves the ``.part`` file and says how many rows it holds.
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.pipeline import ApiRequest
from kit_desktop.api.tables import Column, cell, columns_for, list_items
from kit_desktop.errors import KitError, KitTimeoutError, NetworkError, RateLimitedError
from kit_desktop.lists import Cell, ExportOutcome, ExportProgress

#: Kit's largest page.
PER_PAGE = 1000
#: Waits before asking again for a page whose connection dropped; then the export stops.
BACKOFF = (1.0, 2.0, 4.0, 8.0)
#: 429s in a row on one page before the export stops.
MAX_RATE_WAITS = 20
#: Cells starting with these could run as a formula in a spreadsheet; they get a ``'``.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The query names the export sets itself.
PAGING_NAMES = frozenset({"after", "before", "per_page", "include_total_count"})
#: Excel reads UTF-8 (accents, emoji) only with the byte-order mark.
ENCODING = "utf-8-sig"

Progress = Callable[[ExportProgress], None]


class _StoppedError(Exception):
    """The export cannot go on; ``message`` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _CancelledError(Exception):
    """The creator cancelled."""


def part_path(path: Path) -> Path:
    """Return where an export to ``path`` writes until it is complete (``name.csv.part``)."""
    return path.with_name(path.name + ".part")


def csv_value(value: Cell) -> str:
    """Return ``value`` as CSV text: '' for none, true/false, and formulas made harmless."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def export_list(
    client: KitApiClient,
    request: ApiRequest,
    path: Path,
    *,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    per_page: int = PER_PAGE,
    backoff: Sequence[float] = BACKOFF,
    max_rate_waits: int = MAX_RATE_WAITS,
) -> ExportOutcome:
    """Write every item of the list ``request`` asks for to the CSV file ``path``.

    Args:
        client: The connected API client (its meter paces the requests).
        request: The GET request of a list answer; its query is kept except for paging.
        path: The CSV file to write (replaced when the export completes).
        progress: Told after each page, and before each wait (called on this thread).
        stop: Set it to cancel; waits end at once.
        per_page: Items per request (Kit's maximum is 1000).
        backoff: Seconds to wait before each retry of a page whose connection dropped.
        max_rate_waits: How many 429s in a row are waited out before the export stops.

    Returns:
        How it ended; never raises for Kit's or the network's failures.
    """
    run = _Run(client, request, path, progress, stop or threading.Event(), backoff)
    run.per_page, run.max_rate_waits = per_page, max_rate_waits
    return run.go()


class _Run:
    """One export's state: the file, the columns, the count and the next page's query."""

    def __init__(
        self,
        client: KitApiClient,
        request: ApiRequest,
        path: Path,
        progress: Progress | None,
        stop: threading.Event,
        backoff: Sequence[float],
    ) -> None:
        self.client, self.request, self.path = client, request, path
        self.part = part_path(path)
        self.progress, self.stop, self.backoff = progress, stop, tuple(backoff)
        self.per_page, self.max_rate_waits = PER_PAGE, MAX_RATE_WAITS
        self.written = 0
        self.total: int | None = None
        self.noun = request.path.rstrip("/").rsplit("/", 1)[-1].replace("_", " ") or "rows"
        self.columns: tuple[Column, ...] | None = None

    def go(self) -> ExportOutcome:
        try:
            with self.part.open("w", encoding=ENCODING, newline="") as file:
                self._walk(csv.writer(file))
        except _CancelledError:
            return self._incomplete("cancelled", "Cancelled.")
        except _StoppedError as exc:
            return self._incomplete("stopped", f"Stopped: {exc.message}")
        except OSError as exc:
            return self._incomplete(
                "stopped", f"Stopped: the file could not be written ({exc.strerror or exc})."
            )
        try:
            os.replace(self.part, self.path)
        except OSError as exc:
            return self._incomplete(
                "stopped", f"Stopped: the file could not be renamed ({exc.strerror or exc})."
            )
        return ExportOutcome(
            "complete",
            str(self.path),
            self.written,
            f"Exported {self.written:,} {self.noun} to {self.path}.",
        )

    def _walk(self, writer: Any) -> None:
        base = [(k, v) for k, v in self.request.query if k not in PAGING_NAMES]
        query = [*base, ("per_page", str(self.per_page)), ("include_total_count", "true")]
        while True:
            body = self._page(query)
            found = list_items(body)
            if found is None:
                raise _StoppedError("Kit's answer was not a list, so there was nothing to export.")
            kind, items = found
            if self.columns is None:
                self.noun = kind.replace("_", " ")
                self.columns, _ = columns_for(kind, items)
                writer.writerow([_header(c) for c in self.columns])
                pagination = body["pagination"]
                total = pagination.get("total_count")
                self.total = total if isinstance(total, int) else None
            keys = [c.key for c in self.columns]
            writer.writerows([csv_value(cell(item, key)) for key in keys] for item in items)
            self.written += len(items)
            self._tell()
            pagination = body["pagination"]
            cursor = pagination.get("end_cursor")
            if pagination.get("has_next_page") is not True or not isinstance(cursor, str):
                return
            query = [*base, ("per_page", str(self.per_page)), ("after", cursor)]

    def _page(self, query: list[tuple[str, str]]) -> Any:
        """Ask for one page, pacing, waiting out 429s and retrying dropped connections."""
        drops = rate_waits = 0
        while True:
            if self.stop.is_set():
                raise _CancelledError
            pause = self.client.meter.seconds_until_free(limit=self.client.rate_limit)
            if pause > 0:
                self._wait(pause, "keeping under Kit's limit of requests a minute")
            try:
                response = self.client.request(
                    "GET", self.request.path, query=query, headers=dict(self.request.headers)
                )
            except RateLimitedError as exc:
                rate_waits += 1
                if rate_waits > self.max_rate_waits:
                    raise _StoppedError(
                        f"Kit kept asking to slow down ({rate_waits - 1} waits in a row)."
                    ) from exc
                self._wait(exc.retry_after, "Kit asked to slow down")
                continue
            except (NetworkError, KitTimeoutError) as exc:
                drops += 1
                if drops > len(self.backoff):
                    raise _StoppedError(
                        f"the connection to Kit failed {drops} times in a row on the same page."
                    ) from exc
                self._wait(self.backoff[drops - 1], "the connection to Kit dropped; trying again")
                continue
            except KitError as exc:
                raise _StoppedError(exc.user_message) from exc
            if response.status >= 500 and drops < len(self.backoff):
                drops += 1
                self._wait(self.backoff[drops - 1], f"Kit answered {response.status}; trying again")
                continue
            if response.status >= 300 or response.truncated:
                said = response.error_summary() or response.reason or "no reason given"
                raise _StoppedError(f"Kit answered {response.status} ({said}).")
            try:
                return response.json()
            except (ValueError, RecursionError) as exc:
                raise _StoppedError("Kit's answer was not readable JSON.") from exc

    def _wait(self, seconds: float, why: str) -> None:
        self._tell(seconds, why)
        if self.stop.wait(seconds):
            raise _CancelledError

    def _tell(self, waiting: float = 0.0, why: str = "") -> None:
        if self.progress is not None:
            self.progress(ExportProgress(self.written, self.total, self.noun, waiting, why))

    def _incomplete(self, end: str, opening: str) -> ExportOutcome:
        rows = f"{self.written:,} {self.noun}" if self.written != 1 else f"1 {self.noun}"
        message = (
            f"{opening} {rows} were written to {self.part}; the file is incomplete "
            "(it keeps the .part ending). Export again to get them all."
        )
        return ExportOutcome(
            "cancelled" if end == "cancelled" else "stopped", str(self.part), self.written, message
        )


def _header(column: Column) -> str:
    """A CSV heading: the item's key (``fields.x`` is named ``x``, unless it clashes)."""
    if column.key.startswith("fields.") and not column.title.startswith("fields."):
        return column.key[len("fields.") :]
    return column.key
