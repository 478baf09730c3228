"""Kit's own behaviours as sandbox switches, changeable while the sandbox runs.

Real Kit does things the sandbox's kinder defaults never do (``REAL-KIT.md``, "Differs").
Each switch below makes the sandbox do one of them, so the app can be seen meeting it:

- ``account_lost_access``: every API request with a live token answers 401 with the
  account-lost-access message. Tokens stay valid and refresh keeps working, so reconnecting
  does not help (CODES-DOC: 401 when "an account no longer has access to apps (due to their
  trial lapsing, being on a free account, failed account payment etc.)").
- ``forbidden``: API requests under ``forbidden_prefix`` answer 403 with Kit's message.
- ``force_429``: every API request answers Kit's 429 (no need to send 600 requests).
- ``token_error_shape``: ``"oauth"`` (RFC 6749 ``error``/``error_description``) or
  ``"kit"`` (``{"errors": [...]}``, the shape Kit's own WordPress library reads first), for
  the token and revocation endpoints.
- ``refresh_token_lifetime``: seconds a refresh token works after it was issued (``None``:
  for ever); after that a refresh answers 400 ``invalid_grant``.
- ``json_revoke``: ``"ignored"`` (Kit's way: a JSON revocation body cannot be parsed, so
  the answer is 200 and nothing is revoked) or ``"honoured"``.

Reads happen once per request from the handler threads; each switch is one attribute, so a
test may flip any of them on a live server between requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Literal, get_args

from kit_desktop.sandbox.messages import Request, Response

TokenErrorShape = Literal["oauth", "kit"]
JsonRevoke = Literal["ignored", "honoured"]

#: A stand-in: no public source gives Kit's own words for this 401, so these follow
#: CODES-DOC's (https://developers.kit.com/api-reference/response-codes).
ACCOUNT_LOST_ACCESS_MESSAGE = (
    "This account no longer has access to apps (due to their trial lapsing, being on a "
    "free account, failed account payment etc.)."
)
#: Kit's 403, from Kit's OpenAPI document (e.g. POST /v4/broadcasts, "Returns a 403 with an
#: error message if the current account is unauthorized to create a broadcast").
FORBIDDEN_MESSAGE = (
    "You do not have sufficient permissions to access this resource. Please contact support."
)
#: Kit's 429 body (https://developers.kit.com/api-reference/rate-limits): "The response body
#: is the plain text Retry later, not JSON. The response does not include a Retry-After
#: header."
RATE_LIMITED_BODY = b"Retry later"

_CHOICES = {
    "token_error_shape": get_args(TokenErrorShape),
    "json_revoke": get_args(JsonRevoke),
}


@dataclass
class KitBehaviours:
    """Which of real Kit's behaviours the sandbox shows (see the module's description).

    Setting a switch to a value it cannot take raises :class:`ValueError` at once.
    """

    account_lost_access: bool = False
    forbidden: bool = False
    forbidden_prefix: str = "/v4"
    force_429: bool = False
    token_error_shape: TokenErrorShape = "oauth"
    refresh_token_lifetime: float | None = None
    json_revoke: JsonRevoke = "ignored"

    def __setattr__(self, name: str, value: object) -> None:
        problem = _problem(name, value)
        if problem:
            raise ValueError(f"{name} must be {problem}, not {value!r}.")
        super().__setattr__(name, value)

    def reset(self) -> None:
        """Go back to the sandbox's defaults (kind, except JSON revokes, which Kit ignores)."""
        for switch in fields(self):
            setattr(self, switch.name, switch.default)

    def active(self) -> list[str]:
        """Name the switches that differ from the defaults, as the command line spells them."""
        names = {
            "account_lost_access": "account-lost-access",
            "forbidden": f"forbidden {self.forbidden_prefix}",
            "force_429": "force-429",
            "token_error_shape": f"token-errors {self.token_error_shape}",
            "refresh_token_lifetime": f"refresh-token-lifetime {self.refresh_token_lifetime}",
            "json_revoke": f"json-revoke {self.json_revoke}",
        }
        return [
            shown
            for name, shown in names.items()
            if getattr(self, name) != KitBehaviours.__dataclass_fields__[name].default
        ]

    def api_refusal(self, path: str) -> Response | None:
        """Kit's 401 (account lost access) or 403 for an API request with a live token."""
        if self.account_lost_access:
            return Response.json(401, {"errors": [ACCOUNT_LOST_ACCESS_MESSAGE]})
        if self.forbidden and _under(path, self.forbidden_prefix):
            return Response.json(403, {"errors": [FORBIDDEN_MESSAGE]})
        return None

    def refresh_expired(self, issued_at: float, now: float) -> bool:
        """Say whether a refresh token issued at ``issued_at`` has outlived its lifetime."""
        lifetime = self.refresh_token_lifetime
        return lifetime is not None and now >= issued_at + lifetime

    def ignores_revoke(self, request: Request) -> bool:
        """Say whether Kit would ignore this revocation request (a JSON body, by default)."""
        return self.json_revoke == "ignored" and is_json(request)

    def shape_token_error(self, response: Response) -> Response:
        """Give an OAuth endpoint's RFC 6749 error the chosen shape (Kit's: ``errors``)."""
        if self.token_error_shape == "oauth" or response.status < 400:
            return response
        try:
            body = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(body, dict) or "error" not in body:
            return response
        message = str(body.get("error_description") or body["error"])
        return Response.json(response.status, {"errors": [message]}, _extra(response.headers))


def rate_limited() -> Response:
    """Kit's 429: plain text ``Retry later`` and no ``Retry-After`` header."""
    return Response(429, RATE_LIMITED_BODY, {"Content-Type": "text/plain; charset=utf-8"})


def is_json(request: Request) -> bool:
    """Say whether a request's body is JSON (by its content type or its first character)."""
    if "json" in request.header("content-type").lower():
        return True
    return request.body.lstrip()[:1] in (b"{", b"[")


def _problem(name: str, value: object) -> str:
    if name in _CHOICES and value not in _CHOICES[name]:
        return "one of " + ", ".join(_CHOICES[name])
    if name == "refresh_token_lifetime" and not (
        value is None or (isinstance(value, int | float) and value >= 0)
    ):
        return "None or seconds (0 or more)"
    if name == "forbidden_prefix" and not (isinstance(value, str) and value.startswith("/")):
        return "a path starting with /"
    return ""


def _under(path: str, prefix: str) -> bool:
    base = prefix.rstrip("/") or "/"
    return path == base or path.startswith(base if base == "/" else base + "/")


def _extra(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() != "content-type"}
