"""A browser stand-in for the sandbox: it opens the consent page and clicks Allow.

Used by ``--smoke-test`` (and handy in demos): hand :meth:`ApprovingVisitor.open` to the
app as its browser opener. It acts on a plain thread, like a creator at a real browser:
GET the address the app opened (following the app's redirects to the authorization URL),
POST "allow" on the consent form, then follow the redirect to the app: through the
sandbox's relay page (doing what its script does, see
:func:`kit_desktop.relay_page.forward_address`) or straight to the loopback
``/callback``, and the page after it. It only ever talks to this computer (loopback
addresses), so it cannot be pointed at real Kit.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urljoin, urlsplit

import requests

from kit_desktop.config import is_loopback_host
from kit_desktop.relay_page import forward_address
from kit_desktop.sandbox.relay_host import RELAY_PATH

#: Seconds each page may take.
VISIT_TIMEOUT = 10.0
_CONSENT_ID = re.compile(r'name="consent_id" value="([^"]+)"')


class VisitError(Exception):
    """The stand-in browser could not get through the sandbox's pages."""


class ApprovingVisitor:
    """Opens sandbox authorization URLs and approves them, one thread per URL.

    Attributes:
        errors: What went wrong in each failed visit, in order (empty when all went well).
        done: Set once the latest visit is over, whatever happened.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def open(self, url: str) -> bool:
        """The app's browser opener: start approving ``url``; True if it may be visited."""
        if not is_loopback_host(urlsplit(url).hostname):
            return False
        self.done.clear()
        threading.Thread(target=self._visit, args=(url,), name="approving-visitor").start()
        return True

    def _visit(self, url: str) -> None:
        try:
            _approve(url)
        except (VisitError, requests.RequestException) as exc:
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.done.set()


def _approve(url: str) -> None:
    with requests.Session() as http:
        http.trust_env = False  # straight to this computer, whatever proxy is configured
        page = _follow(http, url)
        if page.status_code != 200:
            raise VisitError(f"the consent page answered {page.status_code}")
        found = _CONSENT_ID.search(page.text)
        if found is None:
            raise VisitError("the consent page has no Allow form")
        decided = http.post(
            urljoin(page.url, "/oauth/authorize/decision"),
            data={"consent_id": found.group(1), "decision": "allow"},
            allow_redirects=False,
            timeout=VISIT_TIMEOUT,
        )
        callback = decided.headers.get("Location", "")
        if decided.status_code != 302 or not is_loopback_host(urlsplit(callback).hostname):
            raise VisitError(f"Allow did not lead back to the app ({decided.status_code})")
        callback = through_relay(http, callback)
        answer = http.get(callback, allow_redirects=False, timeout=VISIT_TIMEOUT)
        if answer.status_code != 302:
            raise VisitError(f"the app's callback answered {answer.status_code}")
        http.get(urljoin(callback, answer.headers.get("Location", "")), timeout=VISIT_TIMEOUT)


def _follow(http: requests.Session, url: str) -> requests.Response:
    """GET ``url``, following redirects on this computer only (the app's start link)."""
    for _ in range(5):
        page = http.get(url, allow_redirects=False, timeout=VISIT_TIMEOUT)
        location = page.headers.get("Location", "")
        if page.status_code not in (301, 302, 303, 307, 308) or not location:
            return page
        url = urljoin(url, location)
        if not is_loopback_host(urlsplit(url).hostname):
            raise VisitError("the app sent the browser off this computer")
    raise VisitError("too many redirects")


def through_relay(http: requests.Session, address: str) -> str:
    """Return where the browser ends up after the sandbox's relay page, as its script would.

    Any other address is returned as it is.

    Raises:
        VisitError: The relay page did not load, or would not pass Kit's answer on.
    """
    if urlsplit(address).path != RELAY_PATH:
        return address
    page = http.get(address, allow_redirects=False, timeout=VISIT_TIMEOUT)
    if page.status_code != 200:
        raise VisitError(f"the relay page answered {page.status_code}")
    forward = forward_address(page.text, address)
    if forward is None:
        raise VisitError("the relay page would not pass Kit's answer on to the app")
    return forward
