"""A browser opener that acts like a creator: opens Kit's page, clicks Allow or Deny, follows on.

The app under test gets :meth:`UserBrowser.open` as its browser opener. It returns True at
once (like ``webbrowser.open``) and does what the creator would do on a plain
``threading.Thread`` with ``requests``: GET the opened address (the app's start link
redirects to the authorization URL), read the consent form, POST the decision without
following the redirect, then GET the ``Location`` (the app's loopback ``/callback``,
through the sandbox's relay page when the app uses it, doing what the page's script does)
and, after an Allow, the ``/done`` page it redirects to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

import requests

from kit_desktop.sandbox.visitor import through_relay
from tests.helpers.flow import consent_id

Decision = Literal["allow", "deny", "ignore"]

#: Seconds each request may take; ``/done`` waits up to 5 s for the app's outcome.
REQUEST_TIMEOUT = 10.0


@dataclass
class Visit:
    """What one opened URL led to.

    Attributes:
        url: The address the app opened (its start link).
        consent_url: The authorization URL the start link led to ('' when not reached).
        callback_status: The loopback ``/callback`` answer's status (0 when not reached).
        done_status: The ``/done`` answer's status (0 when not reached).
        done_page: The ``/done`` page's text ('' when not reached).
        error: The exception's type and message if a request failed ('' when none).
        finished: Set once the visit is over, whatever happened.
    """

    url: str
    consent_url: str = ""
    callback_status: int = 0
    done_status: int = 0
    done_page: str = field(default="", repr=False)
    error: str = ""
    finished: threading.Event = field(default_factory=threading.Event, repr=False)


class UserBrowser:
    """Stands in for the system browser and the creator sitting at it.

    Args:
        decision: ``allow`` or ``deny`` on the consent page, or ``ignore`` (never act).
        before_callback: When set, wait for it before following the redirect to the app
            (so a test can act while Kit's answer is "in the browser").

    Attributes:
        visits: One :class:`Visit` per opened URL, in order.
    """

    def __init__(
        self, decision: Decision = "allow", *, before_callback: threading.Event | None = None
    ) -> None:
        self.decision: Decision = decision
        self.before_callback = before_callback
        self.visits: list[Visit] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def open(self, url: str) -> bool:
        """The opener the app calls: start the creator's visit and report success at once."""
        visit = Visit(url)
        thread = threading.Thread(target=self._visit, args=(visit,), daemon=True)
        with self._lock:
            self.visits.append(visit)
            self._threads.append(thread)
        thread.start()
        return True

    @property
    def opened(self) -> int:
        """How many times the app opened the browser."""
        with self._lock:
            return len(self.visits)

    def join(self, timeout: float = 10.0) -> None:
        """Wait for every visit to end; fail if one is still running after ``timeout``."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a browser visit did not finish"

    def _visit(self, visit: Visit) -> None:
        try:
            if self.decision != "ignore":
                self._act(visit)
        except Exception as exc:  # recorded for the test; nothing escapes the thread
            visit.error = f"{type(exc).__name__}: {exc}"
        finally:
            visit.finished.set()

    def _act(self, visit: Visit) -> None:
        with requests.Session() as http:
            http.trust_env = False  # straight to 127.0.0.1, whatever proxy the machine has
            page = http.get(visit.url, timeout=REQUEST_TIMEOUT)  # the app's start link first
            assert page.status_code == 200, f"no consent page: {page.status_code}"
            visit.consent_url = page.url
            decided = http.post(
                urljoin(page.url, "/oauth/authorize/decision"),
                data={"consent_id": consent_id(page.text), "decision": self.decision},
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
            assert decided.status_code == 302, f"no redirect after consent: {decided.status_code}"
            if self.before_callback is not None:
                self.before_callback.wait(REQUEST_TIMEOUT)
            callback_url = through_relay(http, decided.headers["Location"])
            callback = http.get(callback_url, allow_redirects=False, timeout=REQUEST_TIMEOUT)
            visit.callback_status = callback.status_code
            if callback.status_code != 302:
                return
            done = http.get(
                urljoin(callback_url, callback.headers["Location"]),
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
            visit.done_status = done.status_code
            visit.done_page = done.text
