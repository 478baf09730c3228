"""KitApiClient: host-pinned API v4 requests with the connected token, refresh and one retry."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from kit_desktop.api.paths import api_url, check_header, origin_of
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings, check_endpoint_url
from kit_desktop.errors import ApiError, ReconnectNeededError
from kit_desktop.http import DEFAULT_TIMEOUTS, Timeouts, new_session, read_capped, send

log = logging.getLogger(__name__)

MAX_BODY = 5 * 1024 * 1024
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class ApiResponse:
    """One API answer: status, headers, body (capped) and time taken."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    seconds: float
    retried: bool = False

    def json(self) -> Any:
        """Return the body parsed as JSON (``None`` for an empty body).

        Raises:
            ValueError: The body is not JSON.
        """
        return json.loads(self.body) if self.body.strip() else None

    def error_summary(self) -> str:
        """Return Kit's ``{"errors": [...]}`` messages as one plain line ('' when none)."""
        try:
            data = self.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        errors = data.get("errors") if isinstance(data, dict) else None
        if not isinstance(errors, list):
            return ""
        flat = [e if isinstance(e, str) else "; ".join(map(str, e)) for e in errors]
        return " ".join(flat)[:500]


class KitApiClient:
    """Sends API v4 requests; the bearer token only ever goes to ``settings.api_url``.

    Args:
        settings: The API origin.
        tokens: Hands over a valid access token and refreshes it.
        session: The HTTP session (default: a new one).
        timeouts: Connect and read time-outs.
    """

    def __init__(
        self,
        settings: Settings,
        tokens: TokenManager,
        *,
        session: requests.Session | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.origin = check_endpoint_url(settings.api_url, "api_url").rstrip("/")
        self._origin_key = origin_of(self.origin)
        self.tokens = tokens
        self.session = session or new_session()
        self.timeouts = timeouts

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Iterable[tuple[str, str]] = (),
        json_body: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """Send one request; on a 401 refresh once and retry once (idempotent methods only).

        Raises:
            UnsafeRequestError: The path or a header is not allowed.
            ReconnectNeededError: Kit refused the token even after renewing it.
            ApiError: A non-idempotent request met an expired token (send it again).
            KitError: Network and time-out failures, as typed errors.
        """
        method = method.upper()
        if method not in METHODS:
            raise ApiError(f"The method {method[:10]} is not one Kit's API uses.")
        url = api_url(self.origin, path, query)
        extra = dict(headers or {})
        for name, value in extra.items():
            check_header(name, value)
        access = self.tokens.valid_tokens().access_token
        response = self._send(method, url, access, json_body, extra)
        if response.status != 401:
            return response
        if method not in IDEMPOTENT:
            self.tokens.refresh(stale_access_token=access)
            raise ApiError(
                "Your access to Kit had expired and has been renewed. The request was not "
                "sent twice automatically; send it again.",
                status=401,
            )
        renewed = self.tokens.refresh(stale_access_token=access).access_token
        retry = self._send(method, url, renewed, json_body, extra)
        if retry.status == 401:
            raise ReconnectNeededError(detail=f"API answered 401 twice: {retry.error_summary()}")
        return dataclasses.replace(retry, retried=True)

    def _send(
        self, method: str, url: str, access: str, body: object, headers: dict[str, str]
    ) -> ApiResponse:
        if origin_of(url) != self._origin_key:
            raise ApiError(detail="refusing to attach the token outside the API origin")
        all_headers = {**headers, "Authorization": f"Bearer {access}"}
        kwargs: dict[str, Any] = {"headers": all_headers}
        if body is not None:
            kwargs["json"] = body
        started = time.perf_counter()
        response = send(self.session, method, url, timeouts=self.timeouts, **kwargs)
        try:
            content = read_capped(response, MAX_BODY)
        finally:
            response.close()
        elapsed = time.perf_counter() - started
        log.debug("%s %s -> %s", method, url.split("?")[0], response.status_code)
        return ApiResponse(
            response.status_code, response.reason or "", dict(response.headers), content, elapsed
        )
