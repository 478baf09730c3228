"""When access is renewed automatically: the policy, with its back-off, and no timers.

The session's timer (``qt/renewal.py``) asks :meth:`RenewalPolicy.due` once a second;
tests ask it directly with any clock value. Renewal starts :data:`EXPIRY_MARGIN` seconds
before the access token expires, only while connected with automatic renewal on, never
while a refresh or a disconnect is running, and after a failure not before the back-off
has passed (30 s, 1 min, 2 min, then every 5 min), so an unreachable Kit is not hammered.
"""

from __future__ import annotations

from dataclasses import dataclass

from kit_desktop.auth.tokenset import EXPIRY_MARGIN
from kit_desktop.state import Phase, SessionView

#: Seconds to wait after the 1st, 2nd, 3rd and every later failed renewal.
RENEW_BACKOFF = (30.0, 60.0, 120.0, 300.0)


@dataclass
class RenewalPolicy:
    """Decides whether automatic renewal is due, and remembers failures for the back-off.

    Attributes:
        failures: Renewals that failed in a row.
        not_before: Wall-clock time before which no renewal starts (after a failure).
        last_renewed: When access was last renewed in this run, or None.
    """

    failures: int = 0
    not_before: float = 0.0
    last_renewed: float | None = None

    def due(self, now: float, view: SessionView, *, disconnecting: bool = False) -> bool:
        """Whether to renew now, given what the card shows."""
        tokens = view.tokens if view.phase is Phase.CONNECTED else None
        return not (
            tokens is None
            or tokens.expires_at is None
            or not view.auto_renew
            or view.refreshing
            or disconnecting
            or now < self.not_before
            or now < tokens.expires_at - EXPIRY_MARGIN
        )

    def succeeded(self, now: float) -> None:
        """A refresh or renewal worked: the back-off starts over."""
        self.last_renewed = now
        self.failures = 0
        self.not_before = 0.0

    def failed(self, now: float) -> float:
        """A renewal failed for now; returns the time the next may start."""
        self.not_before = now + RENEW_BACKOFF[min(self.failures, len(RENEW_BACKOFF) - 1)]
        self.failures += 1
        return self.not_before

    def new_connection(self) -> None:
        """A new connection was kept: no renewal has happened to it yet."""
        self.last_renewed = None
