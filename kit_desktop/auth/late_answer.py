"""Late answers: what an attempt's port says after the attempt ended without connecting (no Qt).

A creator may click Allow in Kit's tab after pressing Cancel in the window, or after the app
stopped waiting. Kit then sends the browser to the attempt's loopback port, where nothing
would listen any more: the browser would show its own "refused to connect" error. Instead,
the ended attempt's socket is handed to :class:`LateAnswers`, which serves one fixed page
saying what happened and what to do (``pages.late_page``). It never exchanges, keeps or
shows anything it is sent: it holds only a hash of the attempt's ``state`` (to tell this
attempt's answer from a stranger's), applies the receiver's door checks (method, target,
Host, a page visit, this account), and logs fixed words only.

:class:`LateAnswerDesk` keeps at most one of them serving, each on a small daemon thread,
and stops it (freeing the port at once) whenever a new attempt is about to bind, or the app
quits. A listener also stops by itself after :data:`LATE_WINDOW`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Collection

from kit_desktop.auth import pages as _pages
from kit_desktop.auth.callback import CallbackRejected, parse_query
from kit_desktop.auth.front_door import screen
from kit_desktop.auth.loopback_http import HttpRequest, LoopbackServer, Reply
from kit_desktop.auth.pages import Page, PageRenderer
from kit_desktop.auth.request_checks import REFUSED_PEERS, PeerVerdict, not_a_visit
from kit_desktop.auth.start_link import START_PATH

__all__ = ["LATE_WINDOW", "LateAnswerDesk", "LateAnswers", "state_digest"]

_log = logging.getLogger("kit_desktop.auth.loopback")

#: Seconds an ended attempt's port keeps answering: long enough for a creator who comes
#: back to Kit's tab after a break, short enough not to hold a registered port all day
#: (the command line's ``connect`` cannot bind it meanwhile).
LATE_WINDOW = 30 * 60.0
#: Seconds :meth:`LateAnswers.close` waits for its serving thread.
_JOIN_WAIT = 3.0


def state_digest(state: str) -> bytes:
    """The SHA-256 of ``state``: enough to recognise it, useless to answer with."""
    return hashlib.sha256(state.encode("utf-8")).digest()


class LateAnswers:
    """Answers visits to an attempt that ended without connecting, on that attempt's socket.

    Made by ``LoopbackReceiver.hand_over``, which gives it the bound server; call
    :meth:`start` to serve on a daemon thread, :meth:`close` to stop and free the port.

    Routes: the redirect path with this attempt's ``state`` and the start link get ``page``;
    the redirect path with any other ``state`` gets the neutral "attempt is over" page;
    everything else what the receiver would say (404, 405, 400, 421, 403).

    Args:
        server: The attempt's bound server (its responder becomes this object).
        page: What to say (``pages.late_page``).
        digest: :func:`state_digest` of the attempt's state.
        hosts: The ``Host`` values the receiver answered to.
        callback_path: The redirect URI's path.
        renderer: The receiver's page renderer.
        judge: Says which local account sent a request; another account's are refused.
    """

    def __init__(
        self,
        server: LoopbackServer,
        page: Page,
        digest: bytes,
        *,
        hosts: Collection[str],
        callback_path: str,
        renderer: PageRenderer,
        judge: Callable[[HttpRequest], PeerVerdict],
    ) -> None:
        self._server = server
        self._page = page
        self._digest = digest
        self._hosts = frozenset(hosts)
        self._path = callback_path
        self._renderer = renderer
        self._judge = judge
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread: threading.Thread | None = None
        server.responder = self

    @property
    def port(self) -> int:
        """The port it answers on."""
        return int(self._server.server_address[1])

    @property
    def closed(self) -> bool:
        """Whether the port has been given up."""
        return self._stopped

    def start(
        self, window: float = LATE_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Serve on a daemon thread for ``window`` seconds at most, then free the port."""
        thread = threading.Thread(
            target=self.serve, args=(window, clock), name="kit-late-answers", daemon=True
        )
        self._thread = thread
        thread.start()

    def serve(
        self, window: float = LATE_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Serve until :meth:`close` or for ``window`` seconds, then free the port."""
        deadline = clock() + window
        try:
            while not self._closing.is_set() and clock() < deadline:
                if not self._server.handle_request():
                    break  # the sockets are gone: nothing more can be served
        finally:
            self._stop_server()

    def close(self) -> None:
        """Stop serving and free the port before returning. Idempotent and thread-safe."""
        self._closing.set()
        self._server.wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_WAIT)
        self._stop_server()

    def _stop_server(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._server.stop()
        _log.info("stopped answering late visits on port %d", self.port)

    # -- answering requests (called on connection threads) ---------------------------------

    def respond(self, request: HttpRequest) -> Reply:
        """Answer one well-formed request (the server's ``Responder`` interface)."""
        refused = screen(request, self._hosts)
        if refused is not None:
            return self._reply(
                refused.page, refused.summary, extra=refused.extra, head_only=refused.head_only
            )
        path, _, query = request.target.partition("?")
        if path not in (self._path, START_PATH):
            return self._reply(_pages.NOT_FOUND, "refused a request for another path")
        route = "callback" if path == self._path else "start"
        reason = not_a_visit(request)
        if reason is not None:
            return self._reply(
                _pages.NOT_A_VISIT, f"refused a late {route} that is not a page visit ({reason})"
            )
        if route == "callback" and not self._is_this_attempt(query):
            return self._reply(_pages.ATTEMPT_OVER, "refused a late callback for another attempt")
        verdict = self._judge(request)  # last: reads the kernel
        if verdict in REFUSED_PEERS:
            return self._reply(
                _pages.not_from_this_account(
                    route, identified=verdict is PeerVerdict.OTHER_ACCOUNT
                ),
                f"refused a late {route}: {verdict.value}",
                important=True,
            )
        return self._reply(
            self._page, f"answered a late {route}: the attempt had ended", important=True
        )

    def refuse(self, status: int, reason: str) -> Reply:
        """Answer a request refused at the HTTP level (the ``Responder`` interface)."""
        return self._reply(_pages.status_page(status), f"refused a request: {reason}")

    def _is_this_attempt(self, query: str) -> bool:
        try:
            state = parse_query(query).get("state", "")
        except CallbackRejected:
            return False
        return bool(state) and hmac.compare_digest(state_digest(state), self._digest)

    def _reply(
        self,
        page: Page,
        summary: str,
        *,
        extra: tuple[tuple[str, str], ...] = (),
        head_only: bool = False,
        important: bool = False,
    ) -> Reply:
        data = self._renderer.response(page, extra_headers=extra, head_only=head_only)
        return Reply(data, f"{page.status}, {summary}", None, important)


class LateAnswerDesk:
    """Keeps at most one :class:`LateAnswers` serving; thread-safe.

    The attempt's owner calls :meth:`slot` when an attempt begins and gives the result to
    the thread that waits for it; when that attempt ends without connecting, the thread
    hands its :class:`LateAnswers` in through the slot. :meth:`stop` (before the next
    attempt binds, and when the app quits) closes the one serving and turns away what the
    slots handed out so far still bring.

    Args:
        window: Seconds each one serves at most.
    """

    def __init__(self, window: float = LATE_WINDOW) -> None:
        self._window = window
        self._lock = threading.Lock()
        self._generation = 0
        self._serving: LateAnswers | None = None

    @property
    def serving(self) -> LateAnswers | None:
        """The one serving now, if any (and not yet closed)."""
        with self._lock:
            late = self._serving
        return late if late is not None and not late.closed else None

    def slot(self) -> Callable[[LateAnswers], bool]:
        """Where the attempt beginning now hands in its late answers (see :meth:`take`)."""
        with self._lock:
            generation = self._generation
        return lambda late: self.take(late, generation)

    def take(self, late: LateAnswers, generation: int) -> bool:
        """Start serving ``late``, unless :meth:`stop` ran since its slot was made.

        Returns:
            Whether it serves; if not, it is closed (its port freed) before returning.
        """
        previous = None
        with self._lock:
            current = generation == self._generation
            if current:
                previous, self._serving = self._serving, late
                late.start(self._window)
        if previous is not None:
            previous.close()
        if not current:
            late.close()
        return current

    def stop(self) -> None:
        """Close the one serving (its port is free on return); refuse older hand-ins."""
        with self._lock:
            self._generation += 1
            late, self._serving = self._serving, None
        if late is not None:
            late.close()
