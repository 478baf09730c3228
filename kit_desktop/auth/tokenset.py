"""TokenSet: a parsed, validated token response with its expiry maths and a redacted repr."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from kit_desktop.errors import CorruptEntryError, MalformedResponseError

EXPIRY_MARGIN = 60.0
MAX_LIFETIME = 7 * 24 * 3600
CREATED_AT_SKEW = 300
PAYLOAD_VERSION = 1


def _printable_token(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise MalformedResponseError(detail=f"{name} is missing, empty or not text")
    if not all(0x20 < ord(ch) < 0x7F for ch in value):
        raise MalformedResponseError(detail=f"{name} has characters a token cannot have")
    return value


@dataclass(frozen=True)
class TokenSet:
    """The tokens Kit issued, with when they were received and when the access token expires.

    Attributes:
        access_token: The bearer token for the API.
        refresh_token: The token that renews access (``None`` if Kit sent none).
        token_type: Always ``"Bearer"`` once parsed.
        scope: The granted scope, if Kit said.
        received_at: Unix time the response arrived.
        expires_at: Unix time the access token expires, or ``None`` when unknown.
    """

    access_token: str
    refresh_token: str | None
    token_type: str
    scope: str | None
    received_at: float
    expires_at: float | None

    @classmethod
    def from_response(
        cls, body: object, *, received_at: float, previous_refresh_token: str | None = None
    ) -> TokenSet:
        """Validate a token endpoint's JSON body (RFC 6749 section 5.1) and build a TokenSet.

        Unknown fields are ignored; a missing ``token_type`` or ``scope`` is tolerated; a
        missing ``refresh_token`` keeps ``previous_refresh_token``; everything else is strict.

        Raises:
            MalformedResponseError: The body is not a valid token response.
        """
        if not isinstance(body, Mapping):
            raise MalformedResponseError(detail="token response is not a JSON object")
        access = _printable_token(body.get("access_token"), "access_token")
        token_type = body.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise MalformedResponseError(detail="token_type is not Bearer")
        refresh = body.get("refresh_token")
        refresh = (
            previous_refresh_token if refresh is None else _printable_token(refresh, "refresh")
        )
        scope = body.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise MalformedResponseError(detail="scope is not text")
        expires_at = _expiry(body.get("expires_in"), body.get("created_at"), received_at)
        return cls(access, refresh, "Bearer", scope, received_at, expires_at)

    def seconds_left(self, now: float) -> float | None:
        """Return the seconds until the access token expires (``None`` if unknown)."""
        return None if self.expires_at is None else self.expires_at - now

    def needs_refresh(self, now: float, margin: float = EXPIRY_MARGIN) -> bool:
        """Whether the access token is expired or within ``margin`` seconds of it."""
        return self.expires_at is not None and now >= self.expires_at - margin

    def to_payload(self) -> dict[str, Any]:
        """Return a plain dict for the token store (the only place tokens are written)."""
        return {
            "v": PAYLOAD_VERSION,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
            "received_at": self.received_at,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TokenSet:
        """Rebuild a TokenSet from :meth:`to_payload`'s dict.

        Raises:
            CorruptEntryError: The stored value is not a TokenSet payload.
        """
        try:
            if not isinstance(payload, Mapping):
                raise TypeError("not a mapping")
            version = payload.get("v")
            if type(version) is not int or version != PAYLOAD_VERSION:
                raise ValueError("unknown version")
            access = _printable_token(payload["access_token"], "access_token")
            refresh = payload.get("refresh_token")
            if refresh is not None:
                refresh = _printable_token(refresh, "refresh_token")
            received_at = _finite_time(payload["received_at"])
            raw_expiry = payload.get("expires_at")
            expires_at = None if raw_expiry is None else _finite_time(raw_expiry)
            if received_at is None or (raw_expiry is not None and expires_at is None):
                raise ValueError("bad times")
            scope = payload.get("scope")
            if scope is not None and not isinstance(scope, str):
                raise ValueError("bad scope")
        except (KeyError, TypeError, ValueError, MalformedResponseError) as exc:
            raise CorruptEntryError(
                detail=f"stored tokens unreadable: {type(exc).__name__}"
            ) from exc
        return cls(access, refresh, "Bearer", scope, received_at, expires_at)

    def with_refresh_token(self, refresh_token: str | None) -> TokenSet:
        """Return a copy with another refresh token."""
        return replace(self, refresh_token=refresh_token)

    def __repr__(self) -> str:
        return (
            f"TokenSet(access_token=[redacted], refresh_token="
            f"{'[redacted]' if self.refresh_token else None}, scope={self.scope!r}, "
            f"expires_at={self.expires_at!r})"
        )

    __str__ = __repr__


def _finite_time(value: object) -> float | None:
    """Return ``value`` as a finite float, or None for bools, non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _expiry(expires_in: object, created_at: object, received_at: float) -> float | None:
    if expires_in is None:
        return None
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise MalformedResponseError(detail="expires_in is not a positive whole number")
    lifetime = min(expires_in, MAX_LIFETIME)
    expires_at = received_at + lifetime
    created = _finite_time(created_at)
    if created is not None and abs(created - received_at) <= CREATED_AT_SKEW:
        expires_at = min(expires_at, created + lifetime)
    if not math.isfinite(expires_at):
        raise MalformedResponseError(detail="expires_in is out of range")
    return expires_at
