"""Who is connected: ``GET /v4/account`` reduced to a name and an email address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit_desktop.api.client import KitApiClient
from kit_desktop.errors import ApiError


@dataclass(frozen=True)
class Account:
    """The connected Kit account."""

    name: str
    email: str
    id: int | None = None

    @property
    def who(self) -> str:
        """``Name (email)``, or whichever of the two Kit gave."""
        if self.name and self.email:
            return f"{self.name} ({self.email})"
        return self.name or self.email or "your Kit account"

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"name": self.name, "email": self.email, "id": self.id}


def parse_account(data: object) -> Account:
    """Read Kit's account answer (``{"user": {...}, "account": {...}}``).

    Raises:
        ApiError: The answer is not an account.
    """
    if not isinstance(data, dict):
        raise ApiError("Kit's account answer could not be read.")
    inner = data.get("account")
    user = data.get("user")
    inner = inner if isinstance(inner, dict) else {}
    user = user if isinstance(user, dict) else {}
    name = inner.get("name")
    email = user.get("email") or inner.get("primary_email_address")
    ident = inner.get("id")
    return Account(
        name if isinstance(name, str) else "",
        email if isinstance(email, str) else "",
        ident if isinstance(ident, int) and not isinstance(ident, bool) else None,
    )


def fetch_account(api: KitApiClient) -> Account:
    """Ask Kit who is connected (refreshing the token first when needed).

    Raises:
        ApiError: Kit answered with an error.
        KitError: Network, time-out or reconnect-needed failures.
    """
    response = api.request("GET", "/v4/account")
    if response.status != 200:
        raise ApiError(
            f"Kit could not show the account ({response.status} "
            f"{response.error_summary() or response.reason}).",
            status=response.status,
        )
    try:
        return parse_account(response.json())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("Kit's account answer could not be read.") from exc
