"""KitApiClient: host-pinned API v4 requests with the connected token, refresh and one retry."""

from __future__ import annotations

import dataclasses
import email.utils
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from kit_desktop.api.bodyview import summarize_errors
from kit_desktop.api.meter import RATE_LIMIT, RequestMeter
from kit_desktop.api.paths import api_url, check_header, origin_of
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings, check_endpoint_url
from kit_desktop.errors import (
    ApiError,
    AppAccessLostError,
    KitTimeoutError,
    NetworkError,
    RateLimitedError,
    ReconnectNeededError,
)
from kit_desktop.http import DEFAULT_TIMEOUTS, Timeouts, new_session, send

__all__ = ["ApiResponse", "KitApiClient", "RequestMeter"]

log = logging.getLogger(__name__)

MAX_BODY = 20 * 1024 * 1024
READ_DEADLINE = 120.0
MAX_RETRY_AFTER = 24 * 3600.0
#: Kit's 401 messages about the token itself (KIT-API-NOTES §5.6); any other 401 message is
#: about the account (it may not use apps now), which a new token cannot fix.
TOKEN_REFUSALS = frozenset(
    {"the access token expired", "the access token is invalid", "authentication failed"}
)
#: Exponential back-off after Kit's 429s when this app's meter cannot say how long (seconds).
BACKOFF = (2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ApiResponse:
    """One API answer: status, headers, body (up to the client's cap) and time taken.

    Attributes:
        status: The HTTP status; a 3xx is returned as is, never followed.
        reason: The status phrase.
        headers: The response headers (case-insensitive look-ups).
        body: The bytes read (at most the client's ``max_body``).
        seconds: From sending to the end of reading.
        retried: Whether this is the answer to a retry after renewing the token.
        truncated: Whether Kit sent more than ``max_body`` bytes (the rest was not read).
        url: The URL requested (never holds a token).
    """

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)
    seconds: float
    retried: bool = False
    truncated: bool = False
    url: str = ""

    @property
    def size(self) -> int:
        """How many body bytes were read."""
        return len(self.body)

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header ('' when absent)."""
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    def json(self) -> Any:
        """Return the body parsed as JSON (``None`` for an empty body).

        Raises:
            ValueError: The body is not JSON.
        """
        return json.loads(self.body) if self.body.strip() else None

    def error_summary(self) -> str:
        """Return Kit's ``{"errors": [...]}`` messages as one plain line ('' when none)."""
        return summarize_errors(self.body)


class KitApiClient:
    """Sends API v4 requests; the bearer token only ever goes to ``settings.api_url``.

    Redirects are returned, never followed (so the token never follows them). A 429 raises
    :class:`RateLimitedError` and nothing is retried; a 401 renews the token and retries once,
    for idempotent methods only.

    Args:
        settings: The API origin.
        tokens: Hands over a valid access token and refreshes it.
        session: The HTTP session (default: a new one).
        timeouts: Connect and read time-outs (the read time-out applies to every read).
        max_body: Read at most this many body bytes; more marks the answer ``truncated``.
        read_deadline: The whole body must arrive within this many seconds.
        rate_limit: Kit's requests-per-minute limit, for messages and the meter.
        meter: Counts requests sent (default: a new one on ``clock``).
        clock: Monotonic time in seconds.

    Attributes:
        meter: Every request this client sent, over Kit's rolling minute.
    """

    def __init__(
        self,
        settings: Settings,
        tokens: TokenManager,
        *,
        session: requests.Session | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        max_body: int = MAX_BODY,
        read_deadline: float = READ_DEADLINE,
        rate_limit: int = RATE_LIMIT,
        meter: RequestMeter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.origin = check_endpoint_url(settings.api_url, "api_url").rstrip("/")
        self._origin_key = origin_of(self.origin)
        self.tokens = tokens
        self.session = session or new_session()
        self.timeouts = timeouts
        self.max_body = max_body
        self.read_deadline = read_deadline
        self.rate_limit = rate_limit
        self.clock = clock
        self.meter = meter or RequestMeter(clock)
        self._strikes = 0  # 429s in a row

    def __repr__(self) -> str:
        return f"KitApiClient(origin={self.origin!r}, meter={self.meter!r})"

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
            RateLimitedError: Kit answered 429; ``retry_after`` says when to try again.
            AppAccessLostError: Kit refused the account, not the token (plan, billing).
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
        _refuse_account(response)
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
            _refuse_account(retry)
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
        started = self.clock()
        self.meter.record(started)
        response = send(self.session, method, url, timeouts=self.timeouts, **kwargs)
        try:
            content, truncated = self._read(response, started)
        finally:
            response.close()  # a partly read body closes the connection instead of reusing it
        elapsed = self.clock() - started
        log.debug("%s %s -> %s", method, url.split("?")[0], response.status_code)
        if response.status_code == 429:
            raise self._rate_limited(response.headers.get("Retry-After"), content)
        self._strikes = 0
        return ApiResponse(
            response.status_code,
            response.reason or "",
            CaseInsensitiveDict(response.headers),
            content,
            elapsed,
            truncated=truncated,
            url=url,
        )

    def _read(self, response: requests.Response, started: float) -> tuple[bytes, bool]:
        """Read up to ``max_body`` bytes; say whether more was sent.

        Raises:
            KitTimeoutError: A read stalled past the read time-out, or the deadline passed.
            NetworkError: The connection broke mid-body.
        """
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=_CHUNK):
                room = self.max_body - len(body)
                if len(chunk) > room:
                    body += chunk[:room]
                    return bytes(body), True
                body += chunk
                if self.clock() - started > self.read_deadline:
                    raise KitTimeoutError(
                        f"Kit's answer was still arriving after {self.read_deadline:g} s, "
                        "so the app stopped reading it. Try again, or ask for less "
                        "(for example a smaller per_page).",
                        detail=f"body deadline passed after {len(body)} bytes",
                    )
        except requests.RequestException as exc:
            # requests wraps a read time-out mid-body in a ConnectionError
            if isinstance(exc, requests.Timeout) or any(
                isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args
            ):
                raise KitTimeoutError(detail="reading the answer: read time-out") from exc
            raise NetworkError(detail=f"reading the answer: {type(exc).__name__}") from exc
        return bytes(body), False

    def _rate_limited(self, retry_after: str | None, body: bytes) -> RateLimitedError:
        """How long to wait after a 429: Kit's header if any, else the meter or the back-off.

        Kit sends neither ``Retry-After`` nor rate headers (its body is plain ``Retry
        later``) and asks for exponential back-off: when the meter cannot explain the 429
        (another program using the same token), each 429 in a row doubles the wait.
        """
        strike, self._strikes = self._strikes, self._strikes + 1
        free = self.meter.seconds_until_free(self.clock(), limit=self.rate_limit)
        seconds = _parse_retry_after(retry_after, time.time())
        source = "Retry-After header"
        if seconds is None:
            backoff = BACKOFF[min(strike, len(BACKOFF) - 1)]
            seconds = max(free, backoff)
            source = f"own meter, back-off {backoff:g} s"
        said = body[:80].decode("utf-8", "replace").strip()
        return RateLimitedError(
            seconds,
            limit=self.rate_limit,
            counted=free > 0,
            detail=f"429 {said!r}; wait {seconds:.1f} s ({source})",
        )


def _refuse_account(response: ApiResponse) -> None:
    """Raise :class:`AppAccessLostError` when a 401 is about the account, not the token."""
    said = response.error_summary()
    if said and said.strip().rstrip(".").lower() not in TOKEN_REFUSALS:
        raise AppAccessLostError(said, detail=f"401 from {response.url.split('?')[0]}")


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for (a number or an HTTP date)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)
