"""Kit's OAuth endpoints from the client side: authorization URL, exchange, refresh, revoke."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus

import requests

from kit_desktop.auth.attempt import AuthorizationAttempt, new_attempt
from kit_desktop.auth.callback import plain_text
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings, check_endpoint_url
from kit_desktop.errors import (
    ClientConfigError,
    InvalidGrantError,
    KitError,
    MalformedResponseError,
    ReconnectNeededError,
    RevokeRefusedError,
    ServerError,
    TokenEndpointRedirectError,
)
from kit_desktop.http import (
    DEFAULT_TIMEOUTS,
    Timeouts,
    new_session,
    read_capped,
    send,
    shown_address,
)

MAX_TOKEN_RESPONSE = 64 * 1024
_CONFIG_MESSAGES = {
    "invalid_client": "Kit does not recognise this app (its client ID was refused). "
    "Please tell the app's publisher.",
    "unauthorized_client": "This app is not allowed to connect to Kit this way. "
    "Please tell the app's publisher.",
    "unsupported_grant_type": "Kit refused the kind of sign-in this app uses. "
    "Please tell the app's publisher.",
    "invalid_scope": "Kit refused the access this app asked for. Please tell the app's publisher.",
    "invalid_request": "Kit said the app's request was incomplete or wrong. "
    "Please try again; if it keeps happening, tell the app's publisher.",
}


class OAuthClient:
    """Talks to Kit's authorization server for one :class:`Settings`.

    Args:
        settings: Endpoints, client ID and body format.
        session: The HTTP session (default: a new one with the app's User-Agent).
        clock: Wall-clock time, for token expiry.
        timeouts: Connect and read time-outs in seconds.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        if settings.client_id is None:
            raise ClientConfigError("No Kit client ID is configured.", code="no_client_id")
        for name in ("authorize_url", "token_url", "revoke_url"):
            check_endpoint_url(getattr(settings, name), name)
        self.settings = settings
        self.client_id: str = settings.client_id
        self.session = session or new_session()
        self.clock = clock
        self.timeouts = timeouts

    def new_attempt(self, redirect_uri: str, state: str | None = None) -> AuthorizationAttempt:
        """Generate a verifier, challenge and state and build the authorization URL."""
        return new_attempt(self.settings, redirect_uri, state)

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> TokenSet:
        """Trade an authorization code for tokens (never retried: codes are single-use).

        Raises:
            KitError: A typed error with a plain-language message.
        """
        fields = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        }
        body = self._post_token(fields, refreshing=False)
        return TokenSet.from_response(body, received_at=self.clock())

    def refresh(self, refresh_token: str) -> TokenSet:
        """Renew access with ``refresh_token``; the answer may carry a new refresh token.

        Raises:
            ReconnectNeededError: Kit refused the refresh token (``invalid_grant``).
            KitError: Any other typed failure; the caller keeps its tokens.
        """
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": refresh_token,
        }
        body = self._post_token(fields, refreshing=True)
        return TokenSet.from_response(
            body, received_at=self.clock(), previous_refresh_token=refresh_token
        )

    def revoke(self, token: str, hint: str) -> None:
        """Revoke ``token`` (RFC 7009, always a form body); 200 means it is gone.

        Raises:
            NetworkError: Kit could not be reached (or took too long: KitTimeoutError).
            TokenEndpointRedirectError: The revoke address answered with a redirect.
            RevokeRefusedError: Kit answered with anything else but 200, in its words.
        """
        fields = {"token": token, "token_type_hint": hint, "client_id": self.client_id}
        status, _raw, body = self._post("revoke_url", {"data": fields})
        if status != 200:
            error = _error_code(body)
            raise RevokeRefusedError(
                status,
                _kit_words(body, status),
                detail=f"HTTP {status} error={(error or '')[:40]!r}",
            )

    def _post_token(self, fields: Mapping[str, str], *, refreshing: bool) -> object:
        key = "json" if self.settings.token_body == "json" else "data"
        status, raw, body = self._post("token_url", {key: dict(fields)})
        _raise_oauth_error(status, body, refreshing=refreshing)
        if status == 200 and body is not None:
            return body
        if status == 200:
            raise MalformedResponseError(detail=f"token endpoint sent {len(raw)} bytes of non-JSON")
        raise _status_error(status)

    def _post(self, setting: str, kwargs: dict[str, object]) -> tuple[int, bytes, object | None]:
        """POST once to the ``setting`` address (no redirects, capped read).

        Returns:
            The status, the raw body and its JSON (None if it is not JSON).

        Raises:
            TokenEndpointRedirectError: The address answered with a redirect (3xx).
        """
        url = getattr(self.settings, setting)
        response = send(self.session, "POST", url, timeouts=self.timeouts, **kwargs)
        try:
            if 300 <= response.status_code < 400:  # never followed: the setting is wrong
                raise TokenEndpointRedirectError(
                    shown_address(response.headers.get("Location", ""), url),
                    setting=setting,
                    detail=f"HTTP {response.status_code} redirect not followed",
                )
            raw = read_capped(response, MAX_TOKEN_RESPONSE)
        finally:
            response.close()
        return response.status_code, raw, _json_or_none(raw)


def _raise_oauth_error(status: int, body: object | None, *, refreshing: bool) -> None:
    """Raise the typed error for an RFC 6749 error body, or Kit's ``{"errors": [...]}``."""
    error = _error_code(body)
    if error is None and 400 <= status < 500:
        error = _code_from_kit_words(body)
    if error is not None:
        raise _oauth_error(error, body, status, refreshing=refreshing)


#: Kit's token endpoint may answer ``{"errors": ["..."]}`` without an RFC 6749 ``error``
#: (its own WordPress library reads ``errors`` first). Kit runs Doorkeeper, whose standard
#: descriptions name the refusal; these words map them back to the RFC codes.
_KIT_WORDS = (
    ("invalid_client", ("client authentication", "unknown client")),
    ("unsupported_grant_type", ("grant type is not supported",)),
    ("invalid_scope", ("scope",)),
    ("invalid_grant", ("grant is invalid", "expired", "revoked", "grant")),
    ("invalid_request", ("missing", "parameter", "malformed")),
)


def _code_from_kit_words(body: object) -> str | None:
    """The RFC 6749 code Kit's ``errors`` words stand for; "" for words that name none."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list | str):
        return None
    said = _kit_words(body, 0).lower()
    return next((code for code, keys in _KIT_WORDS if any(k in said for k in keys)), "")


def _json_or_none(raw: bytes) -> object | None:
    try:
        parsed: object = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return parsed


def _error_code(body: object) -> str | None:
    """Return the OAuth ``error`` of ``body`` ("" if it is not text), or None if it has none."""
    if not isinstance(body, dict) or body.get("error") is None:
        return None
    error = body["error"]
    return error if isinstance(error, str) else ""


def _kit_words(body: object, status: int) -> str:
    """Kit's own words in an error body, as plain text; else the status's usual phrase.

    Kit's ``{"errors": [...]}`` first, then RFC 6749's description, then its code (the
    order Kit's own WordPress library reads them in).
    """
    said: object = None
    if isinstance(body, dict):
        said = body.get("errors") or body.get("error_description") or body.get("error")
    if isinstance(said, list):
        said = " ".join(item for item in said if isinstance(item, str))
    if isinstance(said, str) and plain_text(said):
        return plain_text(said)
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _oauth_error(error: str, body: object, status: int, *, refreshing: bool) -> KitError:
    text = _kit_words(body, 0)[:200]
    detail = f"HTTP {status} error={error[:40]!r} description={text!r}"
    if error == "invalid_grant":
        return (
            ReconnectNeededError(detail=detail) if refreshing else InvalidGrantError(detail=detail)
        )
    if error in _CONFIG_MESSAGES:
        return ClientConfigError(_CONFIG_MESSAGES[error], code=error, detail=detail)
    if status == 429 or status >= 500:
        return _status_error(status, detail=detail)
    if error in ("server_error", "temporarily_unavailable"):
        return ServerError(detail=detail)
    return KitError(  # an unknown refusal: generic words (catalogue 33), Kit's in the log
        "Kit refused the request. Please try again; if it keeps happening, "
        "tell the app's publisher.",
        detail=detail,
    )


def _status_error(status: int, *, detail: str = "") -> KitError:
    detail = detail or f"HTTP {status}"
    if status == 429:
        return ServerError(
            "Kit is receiving too many requests right now. Please wait a minute and try again.",
            detail=detail,
        )
    if status >= 500:
        return ServerError(detail=detail)
    if status == 401:  # RFC 6749 section 5.2: client authentication failed
        return ClientConfigError(
            _CONFIG_MESSAGES["invalid_client"], code="invalid_client", detail=detail
        )
    return MalformedResponseError(detail=f"HTTP {status} without an OAuth error")
