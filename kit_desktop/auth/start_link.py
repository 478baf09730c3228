"""The start link: the one address the app opens the browser on (catalogue 70; no Qt).

A browser's command line is readable by every account on the computer, so the app never
puts the authorization URL (its ``state`` and ``code_challenge``) there. It opens the
browser on ``http://127.0.0.1:PORT/start`` instead, and the receiver answers that with the
authorization URL. :class:`StartLink` keeps what that answer needs and decides who gets it:
this account's browser, always; a caller whose account the platform cannot tell (Windows,
macOS), only as often as the app opened the browser, so one request more means someone else
has the link and the attempt must end.
"""

from __future__ import annotations

import enum
import threading

from kit_desktop.auth.peer import PeerVerdict

#: Where the receiver answers with the authorization URL.
START_PATH = "/start"


class StartAnswer(enum.Enum):
    """What to do with one request for the start link."""

    #: Send the browser on to the authorization URL.
    SEND_ON = "send on"
    #: No attempt waits (none yet, or it is over).
    NO_ATTEMPT = "no attempt"
    #: Asked for more often than the app opened the browser: end the attempt.
    ONE_TOO_MANY = "one too many"


class StartLink:
    """What the start link hands out, and how often; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url: str | None = None
        self._requests = 0  # requests for the start link so far
        self._opens = 0  # times the app opened the browser on it

    def expect_browser(self) -> None:
        """Note that the app is opening the browser on the link (once more)."""
        with self._lock:
            self._opens += 1

    def set_url(self, url: str | None) -> None:
        """Set (or, with ``None``, forget) the authorization URL the link sends on to."""
        with self._lock:
            self._url = url

    def answer(self, verdict: PeerVerdict, *, over: bool) -> tuple[StartAnswer, str]:
        """Decide one request (its caller already judged, and not refused).

        Args:
            verdict: Whose browser asks: this account's, or one the platform cannot tell.
            over: Whether the attempt has ended.

        Returns:
            The decision, and the authorization URL for :attr:`StartAnswer.SEND_ON` ('').
        """
        with self._lock:
            url = self._url
            beyond = self._requests >= self._opens
            self._requests += 1
        if over or url is None:
            return StartAnswer.NO_ATTEMPT, ""
        if beyond and verdict is not PeerVerdict.SAME_ACCOUNT:
            return StartAnswer.ONE_TOO_MANY, ""
        return StartAnswer.SEND_ON, url
