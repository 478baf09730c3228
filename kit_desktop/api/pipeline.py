"""Composing and checking an API request before anything is sent.

The API panel and the ``request`` command share these steps: :func:`compose_request` turns
what was typed into an :class:`ApiRequest`, :func:`check_request` refuses a method, path or
header that must not be sent, and :func:`request_body` / :func:`parse_json_body` turn the
typed JSON into the body to send. Every refusal is an :class:`~kit_desktop.errors.ApiError`
with a plain-language message; nothing here sends anything or touches a token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from kit_desktop.api.bodyview import json_problem
from kit_desktop.api.client import METHODS
from kit_desktop.api.paging import join_query, split_query
from kit_desktop.api.paths import api_url, check_header
from kit_desktop.errors import ApiError

Pairs = tuple[tuple[str, str], ...]

#: Methods whose requests carry the JSON body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

#: What Send says when the path is empty: what to type, not a refusal of an example.
EMPTY_PATH = "Type the path of the request first, for example /v4/account."


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


def compose_request(
    method: str,
    path: str,
    pairs: Iterable[tuple[str, str]] = (),
    body_text: str = "",
    headers: Iterable[tuple[str, str]] = (),
) -> ApiRequest:
    """Tidy what was typed into a request; nothing is checked yet.

    The method is trimmed and upper-cased; a query typed into the path (``/v4/x?a=1``) is
    split off and comes before ``pairs``; header names are trimmed and unnamed headers
    dropped.

    Args:
        method: The method as typed.
        path: The path as typed, perhaps with a query.
        pairs: More query pairs, in order.
        body_text: The JSON body as typed.
        headers: Extra headers as typed.

    Returns:
        The request, ready for :func:`check_request`.
    """
    base, inline = split_query(path.strip())
    query = tuple((str(k), str(v)) for k, v in (*inline, *pairs))
    extra = tuple((str(k).strip(), str(v)) for k, v in headers if str(k).strip())
    return ApiRequest(method.strip().upper(), base, query, body_text, extra)


def check_request(request: ApiRequest, origin: str) -> None:
    """Refuse a request that must not leave this computer (its body is checked apart).

    Args:
        request: The composed request.
        origin: The API origin the token belongs to, e.g. ``https://api.kit.com``.

    Raises:
        ApiError: No path was typed (the message says what to type), or the method is not
            one Kit's API uses.
        UnsafeRequestError: The path could send the token elsewhere, or a header is not
            allowed (an ``Authorization`` override, a line break...).
    """
    if request.method not in METHODS:
        named = f"The method {request.method[:10]} is not one Kit's API uses. "
        raise ApiError(
            (named if request.method else "") + "Choose one of GET, POST, PUT, PATCH or DELETE."
        )
    if not request.path.strip():
        raise ApiError(EMPTY_PATH)
    api_url(origin, request.path, request.query)
    for name, value in request.headers:
        check_header(name, value)


def request_body(request: ApiRequest) -> object:
    """Return the JSON body to send: None for GET and DELETE, or when none was typed.

    Raises:
        ApiError: The typed body is not valid JSON; the message says where and what to do, in
            the body editor's plain words (not the parser's).
    """
    if request.method not in BODY_METHODS or not request.body_text.strip():
        return None
    try:
        return json.loads(request.body_text)
    except (ValueError, RecursionError):
        problem = json_problem(request.body_text)
    line, column, words = problem or (1, 1, "check the quotes, commas and brackets there.")
    raise ApiError(
        f"The body is not valid JSON: line {line}, column {column}: {words} Nothing was sent."
    )


def parse_json_body(text: str, *, what: str = "The body") -> object:
    """Parse typed JSON, or explain where it goes wrong.

    Args:
        text: The JSON as typed.
        what: How the message names it, e.g. ``"The --data value"``.

    Returns:
        The parsed value.

    Raises:
        ApiError: ``text`` is not valid JSON; the message gives the line and column.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        problem = json_problem(text)
    line, column, words = problem or (1, 1, "a value is missing: there is nothing to read.")
    raise ApiError(
        f"{what} is not valid JSON: line {line}, column {column}: {words} Fix it and send again."
    )


def query_pair(item: str, *, what: str = "The query parameter") -> tuple[str, str]:
    """Split one typed ``name=value`` query item (the value may be empty or hold ``=``).

    Args:
        item: The item as typed, e.g. ``per_page=10``.
        what: How the message names it, e.g. ``"The --query value"``.

    Returns:
        ``(name, value)``.

    Raises:
        ApiError: There is no ``=``, or nothing before it.
    """
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise ApiError(
            f"{what} {item!r} must look like name=value (for example per_page=10); "
            "nothing was sent."
        )
    return name, value
