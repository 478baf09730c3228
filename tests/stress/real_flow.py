"""The real side of a stormy connect: the browser's callback, the app's thread, the server's count.

Used with :mod:`tests.stress.storm` by ``tests/stress/test_loopback_stress.py`` and
``bench/stress.py``.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from kit_desktop.auth.loopback import AuthorizationResponse, LoopbackReceiver


@dataclass
class RealCallback:
    """The browser: the real callback, then the ``/done`` page it is sent on to.

    Sent on its own thread. A browser tries once; with ``retry_every`` set the request is
    sent again after each failed attempt (the creator pressing Reload), up to ``give_up``
    seconds after the first.

    Attributes:
        attempts: One entry per attempt: the status, or the failure's type name.
        done_status: The ``/done`` page's status (after a successful callback), if any.
        sent_at: ``time.monotonic()`` just before the first attempt.
        answered_at: ``time.monotonic()`` when the callback's answer came.
    """

    port: int
    target: str
    retry_every: float | None = None
    give_up: float = 15.0
    attempts: list[int | str] = field(default_factory=list)
    done_status: int | None = None
    sent_at: float = 0.0
    answered_at: float = 0.0
    _thread: threading.Thread | None = None

    @property
    def status(self) -> int | None:
        """The callback's final status, or ``None`` if no attempt got an answer."""
        last = self.attempts[-1] if self.attempts else None
        return last if isinstance(last, int) else None

    def send(self) -> None:
        """Send it on a new thread."""
        self._thread = threading.Thread(target=self._run, name="test-browser", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        """Wait until the browser is done (``timeout`` seconds at most)."""
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the browser got no answer in time"

    def _run(self) -> None:
        self.sent_at = time.monotonic()
        while True:
            outcome = self._get(self.target)
            self.attempts.append(outcome)
            if isinstance(outcome, int) or self.retry_every is None:
                break
            if time.monotonic() - self.sent_at > self.give_up:
                break
            time.sleep(self.retry_every)
        self.answered_at = time.monotonic()
        if self.status == 302:
            for _ in range(20):  # /done may meet the same storm
                done = self._get("/done")
                if isinstance(done, int):
                    self.done_status = done
                    break
                time.sleep(self.retry_every or 0.1)

    def _get(self, target: str) -> int | str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", target)
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            return type(exc).__name__
        finally:
            connection.close()


class App:
    """Does what the app's loopback thread does: wait, finish, serve ``/done``, always close.

    Args:
        receiver: The receiver, already bound.
        within: Functional timeout (seconds) for :meth:`result` and for serving ``/done``.
    """

    def __init__(self, receiver: LoopbackReceiver, within: float = 15.0) -> None:
        self.receiver = receiver
        self.within = within
        self.response: AuthorizationResponse | None = None
        self.error: BaseException | None = None
        self.returned_at = 0.0
        self.thread = threading.Thread(target=self._run, name="test-app", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.response = self.receiver.wait()
            self.returned_at = time.monotonic()
            self.receiver.finish(True, "You're connected to Kit.")
            self.receiver.serve_done(timeout=self.within)
        except BaseException as exc:
            self.error = exc
        finally:
            self.receiver.close()

    def result(self) -> AuthorizationResponse:
        """The response wait() returned (asserted: it returned in time, without an error)."""
        self.thread.join(self.within)
        assert not self.thread.is_alive(), "the app's wait() did not return in time"
        assert self.error is None, repr(self.error)
        assert self.response is not None
        return self.response


class ServerTally(logging.Handler):
    """Counts the receiver's own log lines: connections reset at the cap, dropped, answered."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()
        self._lock_counts = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "too many open at once" in message:
            key = "reset at the cap"
        elif "without a complete request" in message:
            key = "dropped (no complete request)"
        elif message.startswith("loopback: "):
            key = f"answered {message[10:13]}"
        elif "went away before the reply" in message:
            key = "client gone before the reply"
        elif "failed unexpectedly" in message:
            key = "failed unexpectedly"
        else:
            return
        with self._lock_counts:
            self.counts[key] += 1

    @property
    def accepted(self) -> int:
        """Connections given a thread (everything not reset at the cap)."""
        return sum(n for key, n in self.counts.items() if key != "reset at the cap")


@contextlib.contextmanager
def tally() -> Iterator[ServerTally]:
    """Count the receiver's log lines while the block runs."""
    logger = logging.getLogger("kit_desktop.auth.loopback")
    handler = ServerTally()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def connection_threads() -> set[threading.Thread]:
    """The receiver's live per-connection threads (in this process)."""
    return {t for t in threading.enumerate() if t.name == "kit-loopback-connection"}
