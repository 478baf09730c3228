"""Kit's cursor pages and the query string: next/previous page queries, path <-> pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import unquote_plus, urlencode

Pairs = list[tuple[str, str]]


def page_queries(
    body: object, query: Sequence[tuple[str, str]]
) -> tuple[Pairs | None, Pairs | None]:
    """Return the queries for the next and the previous page of a Kit list answer.

    The next page's query sets ``after`` to ``pagination.end_cursor`` and drops ``before``;
    the previous page's sets ``before`` to ``pagination.start_cursor`` and drops ``after``.
    Every other pair keeps its place.

    Args:
        body: The parsed JSON answer (``{"<items>": [...], "pagination": {...}}``).
        query: The query pairs the answer was fetched with.

    Returns:
        ``(next_query, previous_query)``; each is ``None`` when Kit says there is no such page.
    """
    pagination = body.get("pagination") if isinstance(body, dict) else None
    if not isinstance(pagination, dict):
        return None, None
    following = _with_cursor(query, pagination, "has_next_page", "end_cursor", "after", "before")
    previous = _with_cursor(
        query, pagination, "has_previous_page", "start_cursor", "before", "after"
    )
    return following, previous


def split_query(path: str) -> tuple[str, Pairs]:
    """Split ``/v4/x?a=1&b=2`` into ``("/v4/x", [("a", "1"), ("b", "2")])``.

    Names and values are percent-decoded once (``+`` is a space, as servers read it); order and
    repeated names are kept; a piece without ``=`` has the value ''.
    """
    base, sep, query = path.partition("?")
    if not sep:
        return path, []
    pairs: Pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
    return base, pairs


def join_query(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    """Return ``path`` (any query in it replaced) with ``pairs`` as its query string.

    The inverse of :func:`split_query`: ``split_query(join_query(p, pairs)) == (p, pairs)``
    for a ``p`` without ``?``.
    """
    base = path.partition("?")[0]
    query = urlencode(list(pairs))
    return f"{base}?{query}" if query else base


def _with_cursor(
    query: Sequence[tuple[str, str]],
    pagination: dict[object, object],
    flag: str,
    cursor_key: str,
    name: str,
    other: str,
) -> Pairs | None:
    cursor = pagination.get(cursor_key)
    if pagination.get(flag) is not True or not isinstance(cursor, str) or not cursor:
        return None
    result: Pairs = []
    placed = False
    for key, value in query:
        if key == other or (key == name and placed):
            continue
        if key == name:
            result.append((name, cursor))
            placed = True
        else:
            result.append((key, value))
    if not placed:
        result.append((name, cursor))
    return result
