"""Plain values the session hands to widgets: the phase, the attempt, tokens, account, storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from kit_desktop.status import StorageInfo


class Phase(Enum):
    """Where the connection stands; the card shows one plain sentence per phase."""

    NOT_CONNECTED = "not_connected"
    OPENING = "opening"
    WAITING = "waiting"
    FINISHING = "finishing"
    CONNECTED = "connected"
    RENEWING = "renewing"
    RECONNECT_NEEDED = "reconnect_needed"
    FAILED = "failed"

    @property
    def attempt_running(self) -> bool:
        """Whether a connection attempt (browser, callback, exchange) is under way."""
        return self in (Phase.OPENING, Phase.WAITING, Phase.FINISHING)

    @property
    def has_tokens(self) -> bool:
        """Whether tokens are held in this phase."""
        return self in (Phase.CONNECTED, Phase.RENEWING)


@dataclass(frozen=True)
class AttemptView:
    """One attempt's PKCE values, for the Details section (verifier shown masked)."""

    verifier: str = field(repr=False)
    challenge: str
    method: str
    state: str = field(repr=False)
    redirect_uri: str
    url: str = field(repr=False)
    preview: bool = False  # an example set ("Generate new values"), not an attempt's


@dataclass(frozen=True)
class TokenView:
    """What the token panel shows (the access token is shown masked unless revealed)."""

    access_token: str = field(repr=False)
    token_type: str
    scope: str | None
    issued_at: float
    expires_at: float | None
    last_renewed: float | None


@dataclass(frozen=True)
class InstallQuestion:
    """What the window asks before Kit's install goes on (catalogue 71).

    Attributes:
        text: The question, in plain words.
        agree: The button that lets the install go on.
        refuse: The button (also Esc, the default) that leaves everything as it is.
    """

    text: str
    agree: str
    refuse: str


@dataclass(frozen=True)
class AccountView:
    """Who is connected."""

    name: str
    email: str


StorageView = StorageInfo


@dataclass(frozen=True)
class SessionView:
    """Everything the window shows, as one immutable snapshot.

    Attributes:
        phase: The connection phase.
        headline: One plain sentence for the card ("Connected as Ada (ada@example.com)").
        detail: Why, and what to do (errors), or '' when there is nothing to add.
        waiting_until: Wall-clock time the browser wait times out (``WAITING`` only).
        account: Who is connected, once known.
        tokens: The current tokens, when held.
        storage: Where tokens live.
        practice: Whether the built-in sandbox is in use.
        refreshing: Whether a refresh is running (spinner, button disabled).
        refresh_error: The last refresh failure to show inline, or ''.
        auto_renew: Whether access is renewed automatically.
        last_error_code: A short code of the last error, for diagnostics ('' when none).
    """

    phase: Phase = Phase.NOT_CONNECTED
    headline: str = "Not connected"
    detail: str = ""
    waiting_until: float | None = None
    account: AccountView | None = None
    tokens: TokenView | None = None
    storage: StorageView | None = None
    practice: bool = False
    refreshing: bool = False
    refresh_error: str = ""
    auto_renew: bool = True
    last_error_code: str = ""

    @property
    def holds_tokens(self) -> bool:
        """Whether a connection is saved, working or not (a broken one shows no tokens)."""
        return (
            self.phase.has_tokens or self.phase is Phase.RECONNECT_NEEDED or self.tokens is not None
        )
