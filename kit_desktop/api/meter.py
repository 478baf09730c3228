"""RequestMeter: how many API requests went out in the last minute (Kit's rolling limit)."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

#: Kit's documented limit for OAuth tokens: 600 requests over a rolling 60 seconds.
RATE_LIMIT = 600
WINDOW = 60.0


class RequestMeter:
    """Counts requests over a rolling :data:`WINDOW`; safe to use from several threads.

    Every ``now`` argument is a reading of ``clock`` (monotonic seconds); leave it out to read
    the clock.

    Args:
        clock: Monotonic time in seconds.
        window: The rolling window in seconds.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, window: float = WINDOW
    ) -> None:
        self.clock = clock
        self.window = window
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque()

    def record(self, now: float | None = None) -> None:
        """Count one request sent at ``now``."""
        now = self.clock() if now is None else now
        with self._lock:
            self._forget_before(now)
            self._sent.append(now)

    def used(self, now: float | None = None) -> int:
        """Return how many requests were sent in the window ending at ``now``."""
        now = self.clock() if now is None else now
        with self._lock:
            self._forget_before(now)
            return len(self._sent)

    def seconds_until_free(self, now: float | None = None, limit: int = RATE_LIMIT) -> float:
        """Return how long until fewer than ``limit`` requests are in the window (0 if now).

        Args:
            now: The time to ask about.
            limit: The number of requests allowed per window.
        """
        now = self.clock() if now is None else now
        with self._lock:
            self._forget_before(now)
            over = len(self._sent) - max(1, limit)
            if over < 0:
                return 0.0
            return max(0.0, self._sent[over] + self.window - now)

    def seconds_until_oldest_leaves(self, now: float | None = None) -> float:
        """Return how long until the oldest request in the window leaves it (0 if none)."""
        now = self.clock() if now is None else now
        with self._lock:
            self._forget_before(now)
            return max(0.0, self._sent[0] + self.window - now) if self._sent else 0.0

    def __repr__(self) -> str:
        return f"RequestMeter(used={self.used()}, window={self.window:g}s)"

    def _forget_before(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
