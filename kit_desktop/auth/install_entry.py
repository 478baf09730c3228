"""The App Store install entry: Kit opens ``/kit/oauth?redirect=R`` on the app's origin.

Kit's install flow starts in Kit's App Store: Kit sends the browser to the app's
Authorization URL with a ``redirect`` parameter (Kit's app page), the app runs the PKCE
flow, and at the end sends the browser back to ``redirect`` so Kit records the install.
While the app runs, :class:`InstallEntry` listens on the first registered redirect URI's
origin and answers ``GET /kit/oauth``:

- it must come from this account (:mod:`kit_desktop.auth.peer`) and be a page the creator
  opened in a tab (``Sec-Fetch-*``), never an image, frame or fetch a web page made;
- ``redirect`` must be Kit's app page (:func:`check_install_redirect`); anything else gets
  a page that explains, and is never redirected to (no open redirect);
- a good one is handed to the app (``on_install``), which starts a new attempt and returns
  its authorization URL; the browser is sent there (a 302 built from the app's own URL).
  When connected or already connecting, the app asks the creator in its window first and
  the browser is told so (catalogue 71).

Stdlib only, no Qt: the Qt side runs :meth:`InstallEntry.serve` on a thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kit_desktop import APP_NAME
from kit_desktop.auth import pages as _pages
from kit_desktop.auth.browser import safe_to_open
from kit_desktop.auth.callback import CallbackRejected, parse_query
from kit_desktop.auth.loopback import bind_first, parse_redirect_uri
from kit_desktop.auth.loopback_http import REQUEST_TIMEOUT, HttpRequest, Reply
from kit_desktop.auth.pages import Page, PageRenderer
from kit_desktop.auth.request_checks import (
    REFUSED_PEERS,
    PeerVerdict,
    not_a_visit,
    peer_verdict,
)
from kit_desktop.auth.return_address import (
    APP_PAGE_PREFIX,
    MAX_REDIRECT_LENGTH,
    InstallRefusedError,
    check_install_redirect,
)
from kit_desktop.config import INSTALL_PATH

__all__ = [
    "APP_PAGE_PREFIX",
    "ASKING_CREATOR",
    "INSTALL_WAIT",
    "MAX_REDIRECT_LENGTH",
    "AskingCreator",
    "InstallAnswer",
    "InstallEntry",
    "InstallRefused",
    "InstallRefusedError",
    "check_install_redirect",
]

_log = logging.getLogger(__name__)

#: Seconds the browser's request waits for the app to start the attempt.
INSTALL_WAIT = 10.0

NOT_FROM_KIT = Page(
    400,
    "This link did not come from Kit",
    f"{APP_NAME} only starts an install that Kit's App Store asked for, so it did nothing.",
    f"To connect, open {APP_NAME} and click Connect to Kit, or install the app from Kit's "
    "App Store again.",
    "error",
)
NOT_AN_INSTALL = Page(
    400,
    "This address is for installs from Kit",
    f"Kit's App Store opens this address when you install {APP_NAME}. Nothing was started.",
    f"To connect, open {APP_NAME} and click Connect to Kit.",
    "error",
)


def _could_not_start(back_to: str, message: str = "") -> Page:
    return Page(
        503,
        f"{APP_NAME} could not start connecting",
        message or f"{APP_NAME} did not answer in time, so the install did not start.",
        f"Look at {APP_NAME}'s window; then go back to Kit and click Install again.",
        "error",
        (back_to, _pages.BACK_TO_KIT),
    )


def _asking(back_to: str) -> Page:
    return Page(
        200,
        f"Answer in {APP_NAME}",
        f"{APP_NAME} is asking in its window before it goes on with Kit's install. Nothing "
        "changes unless you agree there.",
        f"Answer in {APP_NAME}'s window. If you agree, Kit opens in a new tab to finish; you "
        "can close this one.",
        "info",
        (back_to, _pages.BACK_TO_KIT),
    )


@dataclass(frozen=True)
class AskingCreator:
    """The app's answer to an install when it must first ask the creator (catalogue 71).

    A running attempt or a saved connection is never replaced by a request from the
    browser alone (any web page can make the browser open the install entry), nor is an
    install started for a caller whose account cannot be told.
    """


@dataclass(frozen=True)
class InstallRefused:
    """The app's answer when no install could start, with why, in a creator's words."""

    message: str


#: The one :class:`AskingCreator` value.
ASKING_CREATOR = AskingCreator()
#: What the app answers an install with: the authorization URL to send the browser to,
#: :data:`ASKING_CREATOR`, an :class:`InstallRefused`, or ``None`` when nothing started.
InstallAnswer = str | AskingCreator | InstallRefused | None


class InstallEntry:
    """Answers Kit's App Store install entry on the app's first loopback origin.

    Args:
        redirect_uri: The first registered redirect URI; its origin is listened on.
        on_install: Called (on a connection thread) with a checked ``redirect`` and whether
            the caller is known to be this account (False where the platform cannot tell);
            returns the new attempt's authorization URL, :data:`ASKING_CREATOR` when the app
            asks the creator first, an :class:`InstallRefused`, or ``None`` when no attempt
            started. It may block up to ``wait`` seconds (the app's GUI thread answers).
        app_hosts: Hosts ``redirect`` may name.
        extra_origins: Exact origins also allowed (the sandbox's App Store).
        pages: The page renderer (default: the bundled pages).
        request_timeout: Seconds each connection has to send its request head.
        judge: Says which local account sent a request; another account is refused.

    Raises:
        ConfigError: ``redirect_uri`` is not a loopback redirect URI.
        PortInUseError: Its port is taken.
        LoopbackError: It could not be bound for another reason.
    """

    def __init__(
        self,
        redirect_uri: str,
        on_install: Callable[[str, bool], InstallAnswer],
        *,
        app_hosts: Sequence[str],
        extra_origins: Sequence[str] = (),
        pages: PageRenderer | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        judge: Callable[[HttpRequest], PeerVerdict] = peer_verdict,
    ) -> None:
        binding = parse_redirect_uri(redirect_uri)
        self._on_install = on_install
        self._app_hosts = tuple(app_hosts)
        self._extra_origins = tuple(extra_origins)
        self._renderer = pages if pages is not None else PageRenderer.bundled()
        self._stopping = threading.Event()
        self._judge = judge
        self._server, self._binding = bind_first([binding], self, request_timeout)
        self._port = int(self._server.server_address[1])
        self._hosts = {f"{binding.literal}:{self._port}"}
        _log.info("listening for App Store installs on port %d", self._port)

    @property
    def url(self) -> str:
        """The install entry's address (register it in Kit as the Authorization URL)."""
        return f"http://{self._binding.literal}:{self._port}{INSTALL_PATH}"

    @property
    def port(self) -> int:
        """The bound port."""
        return self._port

    def serve(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Answer requests until :meth:`stop` (or ``should_stop`` returns True)."""
        while not self._stopping.is_set() and not (should_stop is not None and should_stop()):
            self._server.handle_request()

    def stop(self) -> None:
        """Make :meth:`serve` return within a poll interval (thread-safe)."""
        self._stopping.set()
        self._server.wake()

    def close(self) -> None:
        """Stop and free the port. Call after :meth:`serve` has returned (idempotent)."""
        self.stop()
        self._server.stop()

    # -- the Responder interface (connection threads) ---------------------------------------

    def respond(self, request: HttpRequest) -> Reply:
        """Answer one well-formed request."""
        if request.method != "GET":
            return self._reply(_pages.status_page(405), "refused a non-GET request")
        hosts = request.header_values("host")
        if len(hosts) != 1:
            return self._reply(_pages.BAD_REQUEST, "refused a request without one Host header")
        if hosts[0].lower() not in self._hosts:
            return self._reply(_pages.status_page(421), "refused a request for another host")
        path, _, query = request.target.partition("?")
        if path != INSTALL_PATH:
            return self._reply(_pages.NOT_FOUND, "refused a request for another path")
        reason = not_a_visit(request)
        if reason is not None:  # an image, frame or fetch a web page made: never an install
            return self._reply(_pages.NOT_A_VISIT, f"refused an install entry ({reason})")
        verdict = self._judge(request)  # after the cheap checks: it reads the kernel's table
        if verdict in REFUSED_PEERS:
            identified = verdict is PeerVerdict.OTHER_ACCOUNT
            return self._reply(
                _pages.not_from_this_account("install", identified=identified),
                f"refused an install entry: {verdict.value}",
            )
        return self._on_install_request(query, trusted=verdict is PeerVerdict.SAME_ACCOUNT)

    def refuse(self, status: int, reason: str) -> Reply:
        """Answer a request refused at the HTTP level."""
        return self._reply(_pages.status_page(status), f"refused a request: {reason}")

    def _on_install_request(self, query: str, *, trusted: bool) -> Reply:
        try:
            params = parse_query(query)
        except CallbackRejected as rejected:
            return self._reply(NOT_AN_INSTALL, f"refused an install entry: {rejected.reason}")
        redirect = params.get("redirect")
        if redirect is None:
            return self._reply(NOT_AN_INSTALL, "refused an install entry without redirect")
        try:
            back_to = check_install_redirect(
                redirect, self._app_hosts, extra_origins=self._extra_origins
            )
        except InstallRefusedError as refused:
            return self._reply(NOT_FROM_KIT, f"refused an install entry: {refused.reason}")
        try:
            authorize_url = self._on_install(back_to, trusted)
        except Exception as exc:  # the app's side failed; the browser still gets a page
            _log.error("starting an install failed (%s)", type(exc).__name__)
            authorize_url = None
        if isinstance(authorize_url, AskingCreator):
            return self._reply(_asking(back_to), "asked the creator before starting anything")
        if isinstance(authorize_url, InstallRefused):
            return self._reply(
                _could_not_start(back_to, authorize_url.message), "an install could not start"
            )
        if authorize_url is None or not safe_to_open(authorize_url):
            return self._reply(_could_not_start(back_to), "an install could not start")
        return self._reply(
            Page(302, "Opening Kit", "Kit is opening so you can allow the install."),
            "sent an install on to Kit's consent page",
            extra=(("Location", authorize_url),),
            important=True,
        )

    def _reply(
        self,
        page: Page,
        summary: str,
        *,
        extra: tuple[tuple[str, str], ...] = (),
        important: bool = False,
    ) -> Reply:
        data = self._renderer.response(page, extra_headers=extra)
        return Reply(data, f"{page.status}, {summary}", None, important)
