"""Plain request and response values the sandbox's handlers work with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class BadRequest(Exception):  # noqa: N818 - a control-flow signal, not a failure
    """The request could not be parsed; the handler answers with ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]
    body: bytes = b""

    def header(self, name: str) -> str:
        """Return a header value ('' when absent), case-insensitively."""
        return self.headers.get(name.lower(), "")

    def params(self, pairs: tuple[tuple[str, str], ...] | None = None) -> dict[str, str]:
        """Return the query (or ``pairs``) as a dict, refusing repeated names.

        Raises:
            BadRequest: A parameter appears more than once.
        """
        result: dict[str, str] = {}
        for name, value in self.query if pairs is None else pairs:
            if name in result:
                raise BadRequest(f"The parameter {name} appears more than once.")
            result[name] = value
        return result

    def form_or_json(self) -> dict[str, str]:
        """Return the body's fields from a form or a JSON object, whatever the content type.

        Kit's own samples send JSON with a form content type, so the body decides.

        Raises:
            BadRequest: The body is neither a form nor a flat JSON object.
        """
        text = _decode(self.body)
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise BadRequest("The request body is not valid JSON.") from exc
            if not isinstance(data, dict):
                raise BadRequest("The request body must be a JSON object.")
            return {str(k): _scalar(v) for k, v in data.items() if v is not None}
        return self.params(parse_form(text))

    def json_body(self) -> Any:
        """Return the body parsed as JSON (``None`` for an empty body).

        Raises:
            BadRequest: The body is not valid JSON.
        """
        text = _decode(self.body).strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadRequest("The request body is not valid JSON.") from exc


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The request body is not UTF-8.") from exc


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise BadRequest("Request fields must be plain values.")


def parse_form(text: str) -> tuple[tuple[str, str], ...]:
    """Parse a query string or form body, decoding percent-escapes once as strict UTF-8.

    Raises:
        BadRequest: An escape does not decode to UTF-8.
    """
    try:
        return tuple(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest("The request has a badly encoded parameter.") from exc


@dataclass
class Response:
    """One HTTP response; ``drop`` closes the connection instead of answering."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, status: int, data: object, headers: Mapping[str, str] | None = None) -> Response:
        """Build a JSON response."""
        body = json.dumps(data, separators=(",", ":")).encode()
        return cls(status, body, {**JSON_HEADERS, **(headers or {})})

    @classmethod
    def html(cls, status: int, page: str, headers: Mapping[str, str] | None = None) -> Response:
        """Build an HTML page response with a strict content security policy."""
        base = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        }
        return cls(status, page.encode(), {**base, **(headers or {})})

    @classmethod
    def redirect(cls, location: str) -> Response:
        """Build a 302 redirect."""
        return cls(302, b"", {"Location": location, "Cache-Control": "no-store"})


def add_query(url: str, params: Mapping[str, str]) -> str:
    """Return ``url`` with ``params`` appended to its query string."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
