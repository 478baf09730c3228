"""Kit's cursor pagination, list answers and the date filters the lists share.

Cursor pagination: ``after``/``before``/``per_page`` and the ``pagination`` object.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kit_desktop.sandbox.data import public_item
from kit_desktop.sandbox.messages import Response

DEFAULT_PER_PAGE = 500
MAX_PER_PAGE = 1000

SortKey = list[Any]


class ParamError(Exception):
    """A query parameter is not acceptable; Kit answers 422 with this message."""


def encode_cursor(key: SortKey) -> str:
    """Return an opaque cursor (base64 of a JSON array of sort keys, like Kit's)."""
    return base64.b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, like: SortKey) -> SortKey:
    """Return the sort key inside ``cursor``, shaped like ``like``.

    Raises:
        ParamError: The cursor was not made by this server.
    """
    try:
        key = json.loads(base64.b64decode(cursor, validate=True))
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise ParamError("The cursor is invalid.") from exc
    if (
        not isinstance(key, list)
        or len(key) != len(like)
        or any(type(a) is not type(b) for a, b in zip(key, like, strict=True))
    ):
        raise ParamError("The cursor is invalid.")
    return key


def parse_bool(value: str | None, name: str) -> bool:
    """Parse ``true``/``false`` (or ``1``/``0``) as Kit accepts them.

    Raises:
        ParamError: Anything else.
    """
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ParamError(f"The {name} param must be true or false.")


def parse_per_page(value: str | None) -> int:
    """Return the page size asked for (default 500, 1 to 1000).

    Raises:
        ParamError: Not a whole number in range.
    """
    if value is None or value == "":
        return DEFAULT_PER_PAGE
    try:
        per_page = int(value)
    except ValueError as exc:
        raise ParamError("The per_page param must be a number.") from exc
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ParamError(f"The per_page param must be between 1 and {MAX_PER_PAGE}.")
    return per_page


def paginate(
    items: Sequence[dict[str, Any]],
    key: Callable[[dict[str, Any]], SortKey],
    params: dict[str, str],
    *,
    descending: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return one page of ``items`` (already sorted by ``key``) and its pagination object.

    Raises:
        ParamError: Bad ``per_page``, cursor, ``include_total_count``, or both cursors given.
    """
    per_page = parse_per_page(params.get("per_page"))
    with_total = parse_bool(params.get("include_total_count"), "include_total_count")
    after, before = params.get("after") or None, params.get("before") or None
    if after and before:
        raise ParamError("Only one of the after and before params may be given.")
    if not isinstance(items, list):
        return _paginate_in_place(items, key, per_page, with_total, after, before, descending)
    keys = [key(item) for item in items]
    total = len(items)

    def precedes(a: SortKey, b: SortKey) -> bool:
        return a > b if descending else a < b

    if before is not None:
        cursor = decode_cursor(before, keys[0] if keys else [0])
        end = sum(1 for k in keys if precedes(k, cursor))
        start = max(0, end - per_page)
    else:
        start = 0
        if after is not None:
            cursor = decode_cursor(after, keys[0] if keys else [0])
            start = sum(1 for k in keys if not precedes(cursor, k))
        end = min(total, start + per_page)
    page = list(items[start:end])
    pagination: dict[str, Any] = {
        "has_previous_page": start > 0,
        "has_next_page": end < total,
        "start_cursor": encode_cursor(keys[start]) if page else None,
        "end_cursor": encode_cursor(keys[end - 1]) if page else None,
        "per_page": per_page,
    }
    if with_total:
        pagination["total_count"] = total
    return page, pagination


def _paginate_in_place(
    items: Sequence[dict[str, Any]],
    key: Callable[[dict[str, Any]], SortKey],
    per_page: int,
    with_total: bool,
    after: str | None,
    before: str | None,
    descending: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`paginate` for a sorted sequence made on read: finds cursors by bisection."""
    total = len(items)
    like = key(items[0]) if total else [0]

    def order(item: dict[str, Any]) -> Any:
        return _Reversed(key(item)) if descending else key(item)

    def target(cursor: SortKey) -> Any:
        return _Reversed(cursor) if descending else cursor

    if before is not None:
        end = bisect.bisect_left(items, target(decode_cursor(before, like)), key=order)
        start = max(0, end - per_page)
    else:
        start = 0
        if after is not None:
            start = bisect.bisect_right(items, target(decode_cursor(after, like)), key=order)
        end = min(total, start + per_page)
    page = [items[i] for i in range(start, end)]
    pagination: dict[str, Any] = {
        "has_previous_page": start > 0,
        "has_next_page": end < total,
        "start_cursor": encode_cursor(key(page[0])) if page else None,
        "end_cursor": encode_cursor(key(page[-1])) if page else None,
        "per_page": per_page,
    }
    if with_total:
        pagination["total_count"] = total
    return page, pagination


@functools.total_ordering
class _Reversed:
    """A sort key compared the other way round (for bisecting a descending sequence)."""

    def __init__(self, value: SortKey) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    __hash__ = None  # type: ignore[assignment]


def list_answer(
    name: str,
    items: Sequence[dict[str, Any]],
    params: dict[str, str],
    *,
    key: Callable[[dict[str, Any]], SortKey] | None = None,
    descending: bool = False,
) -> Response:
    """Answer 200 with one page of ``items`` (sorted by ``key``, default ``[id]``) as Kit does.

    Internal (``_``-prefixed) keys are stripped from each item.

    Raises:
        ParamError: Bad ``per_page``, cursor or ``include_total_count``.
    """
    page, pagination = paginate(
        items, key or (lambda item: [item["id"]]), params, descending=descending
    )
    return Response.json(200, {name: [public_item(i) for i in page], "pagination": pagination})


def parse_date(params: dict[str, str], name: str) -> datetime | None:
    """Return the date (or date and time) in parameter ``name``, ``None`` when absent.

    Raises:
        ParamError: The value is not an ISO 8601 date.
    """
    raw = params.get(name)
    if not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ParamError(f"The {name} param must be a date (yyyy-mm-dd).") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def within(stamp: str | None, after: datetime | None, before: datetime | None) -> bool:
    """Whether the ISO time ``stamp`` is strictly between ``after`` and ``before`` (if set)."""
    if stamp is None:
        return False
    value = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (after is None or value > after) and (before is None or value < before)


def date_filter(
    params: dict[str, str], prefix: str, field: str
) -> Callable[[dict[str, Any]], bool] | None:
    """Return a test of an item's ``field`` for ``<prefix>_after``/``<prefix>_before``.

    Returns:
        The test, or ``None`` when neither parameter is set.

    Raises:
        ParamError: Either value is not a date.
    """
    after, before = parse_date(params, f"{prefix}_after"), parse_date(params, f"{prefix}_before")
    if after is None and before is None:
        return None
    return lambda item: within(item.get(field), after, before)
