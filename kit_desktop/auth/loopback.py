"""The loopback receiver: catches Kit's redirect on 127.0.0.1 (stdlib only, no Qt)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from types import TracebackType

from kit_desktop.auth import pages as _pages
from kit_desktop.auth.callback import AuthorizationResponse, CallbackRejected, check_callback
from kit_desktop.auth.front_door import screen
from kit_desktop.auth.late_answer import LateAnswers, state_digest
from kit_desktop.auth.loopback_bind import DONE_PATH, Binding, bind_first, parse_redirect_uri
from kit_desktop.auth.loopback_http import (
    REQUEST_TIMEOUT,
    HttpRequest,
    Reply,
)
from kit_desktop.auth.pages import Page, PageRenderer
from kit_desktop.auth.request_checks import (
    REFUSED_PEERS,
    PeerVerdict,
    not_a_visit,
    peer_verdict,
)
from kit_desktop.auth.start_link import START_PATH, StartAnswer, StartLink
from kit_desktop.errors import (
    ConfigError,
    FlowCancelledError,
    FlowTimeoutError,
    KitError,
    LinkReusedError,
)

__all__ = [
    "DONE_PATH",
    "START_PATH",
    "AuthorizationResponse",
    "Binding",
    "LoopbackReceiver",
    "bind_first",
    "parse_redirect_uri",
]

_log = logging.getLogger(__name__)

#: Seconds to wait for the callback by default.
DEFAULT_TIMEOUT = 300.0
#: Seconds :meth:`LoopbackReceiver.serve_done` keeps serving ``/done`` by default.
DONE_GRACE = 10.0
#: Seconds a ``/done`` request waits for :meth:`LoopbackReceiver.finish` before a neutral page.
DONE_WAIT = 5.0
#: Seconds :meth:`LoopbackReceiver.close` waits for the serving loop to notice.
_CLOSE_WAIT = 2.0


class LoopbackReceiver:
    """Listens on a loopback redirect URI until Kit's answer for one flow arrives.

    The socket is bound when the receiver is made, before the browser opens. Use a new
    receiver for every attempt, and always :meth:`close` it (or use it as a context manager).

    Args:
        redirect_uris: The registered redirect URIs, tried in order (``http://127.0.0.1:PORT/...``
            or ``http://[::1]:PORT/...``; port 0 asks for an ephemeral port).
        state: This flow's state value.
        timeout: Seconds :meth:`wait` waits for the callback.
        clock: Monotonic clock used for the timeout.
        expected_issuer: The issuer an ``iss`` parameter must name, or ``None`` to accept any.
        pages: The page renderer (default: the bundled ``resources/pages``).
        request_timeout: Seconds each connection has to send its request head.
        back_to: Kit's app page to send the browser back to after connecting (an App Store
            install), already checked by ``install_entry.check_install_redirect``.
        port_in_state: Prefix the state with the bound port (``<port>.<state>``), so a relay
            page knows where to forward Kit's answer; read the result from :attr:`state`.
        judge: Says which local account sent a request (default: from ``/proc`` on Linux);
            another account's requests are refused.

    Raises:
        ConfigError: A redirect URI is not a loopback ``http`` URI with a port and path.
        PortInUseError: Every configured port is taken; names the first one.
        LoopbackError: No configured address could be bound for another reason.
    """

    def __init__(
        self,
        redirect_uris: Sequence[str],
        state: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        expected_issuer: str | None = None,
        pages: PageRenderer | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        back_to: str | None = None,
        port_in_state: bool = False,
        judge: Callable[[HttpRequest], PeerVerdict] = peer_verdict,
    ) -> None:
        if not state or not state.isascii() or not state.isprintable():
            raise ValueError("state must be non-empty printable ASCII")
        bindings = [parse_redirect_uri(uri) for uri in redirect_uris]
        if not bindings:
            raise ConfigError("At least one redirect URI must be configured.")
        self._state = state
        self._timeout = timeout
        self._clock = clock
        self._expected_issuer = expected_issuer
        self._renderer = pages if pages is not None else PageRenderer.bundled()
        self._lock = threading.Lock()
        self._serving = threading.Lock()
        self._cancelled = threading.Event()
        self._settled = threading.Event()
        self._wake_done = threading.Event()
        self._done_served = threading.Event()
        self._claim: str | None = None
        self._outcome: AuthorizationResponse | KitError | None = None
        self._done_page: Page | None = None
        self._closed = False
        self._back_to = back_to
        self.done_hint = _pages.outcome_page(True, "").message  # the window's; cli: terminal
        self._judge = judge
        self._start = StartLink()
        self._server, self._binding = bind_first(bindings, self, request_timeout)
        self._port = int(self._server.server_address[1])
        if port_in_state:
            self._state = f"{self._port}.{state}"
        self._redirect_uri = (
            self._binding.uri
            if self._binding.port
            else f"http://{self._binding.literal}:{self._port}{self._binding.path}"
        )
        self._hosts = {f"{self._binding.literal}:{self._port}"}
        if self._port == 80:
            self._hosts.add(self._binding.literal)
        _log.info("waiting for Kit's answer on %s", self._redirect_uri)

    # -- public API ------------------------------------------------------------------------

    @property
    def redirect_uri(self) -> str:
        """The redirect URI to send to Kit, with the real port (byte-identical each time)."""
        return self._redirect_uri

    @property
    def start_url(self) -> str:
        """The address to open the browser on: it sends the browser to the authorization URL.

        Only this address goes on a command line (the browser's); the authorization URL, with
        its state and code challenge, is handed over in an HTTP answer instead.
        """
        return f"http://{self._binding.literal}:{self._port}{START_PATH}"

    def expect_browser(self) -> None:
        """Note that the app is opening the browser on :attr:`start_url` (once more).

        Where the kernel cannot say which account asks (Windows, macOS), the start link is
        served as many times as the app opened the browser, and no more: one request too
        many means someone else has it, and the attempt ends. Thread-safe.
        """
        self._start.expect_browser()

    def set_authorization_url(self, url: str) -> None:
        """Set where :attr:`start_url` sends the browser (this attempt's authorization URL)."""
        self._start.set_url(url)

    @property
    def state(self) -> str:
        """The state Kit must send back (with the port in front when asked for)."""
        return self._state

    @property
    def port(self) -> int:
        """The bound port."""
        return self._port

    @property
    def server_address(self) -> tuple[str, int]:
        """The bound ``(host, port)``: always a loopback address."""
        return (str(self._server.server_address[0]), self._port)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    def wait(self, should_stop: Callable[[], bool] | None = None) -> AuthorizationResponse:
        """Serve requests until this flow's callback arrives; refuse everything else.

        Args:
            should_stop: Checked between short polls; ``True`` cancels (e.g. a thread's
                ``isInterruptionRequested``).

        Returns:
            The authorization response; the browser is sent on to ``/done``.

        Raises:
            ConsentDeniedError: The creator chose not to connect.
            ForeignIssuerError: The answer to this flow names another issuer (RFC 9207).
            AuthorizationError: Kit answered with another error.
            FlowTimeoutError: Nothing valid arrived within the timeout.
            FlowCancelledError: :meth:`cancel` or :meth:`close` was called, or ``should_stop``.
        """
        with self._serving_slot() as usable:
            if not usable:
                raise FlowCancelledError(detail="the receiver is closed")
            deadline = self._clock() + self._timeout
            while not self._settled.is_set():
                if self._cancelled.is_set() or (should_stop is not None and should_stop()):
                    raise FlowCancelledError()
                if self._clock() >= deadline:
                    raise FlowTimeoutError(
                        self._timeout, detail=f"no callback within {self._timeout:g} s"
                    )
                self._server.handle_request()
        outcome = self._outcome
        if isinstance(outcome, AuthorizationResponse):
            return outcome
        raise outcome if outcome is not None else FlowCancelledError()

    def serve_done(
        self, timeout: float = DONE_GRACE, should_stop: Callable[[], bool] | None = None
    ) -> None:
        """After a successful :meth:`wait`, serve only ``/done`` for a short while.

        Returns once ``/done`` was shown, after ``timeout`` seconds, or on cancel/close;
        at once if the flow did not succeed.

        Args:
            timeout: The longest time to keep serving.
            should_stop: Checked between short polls; ``True`` stops serving.
        """
        with self._serving_slot() as usable:
            if not usable or self._claim != "success":
                return
            deadline = self._clock() + timeout
            while not (
                self._done_served.is_set()
                or self._cancelled.is_set()
                or (should_stop is not None and should_stop())
                or self._clock() >= deadline
            ):
                self._server.handle_request()

    def finish(self, ok: bool, message: str = "") -> None:
        """Set what ``/done`` shows: connected (``ok``) or the failure ``message`` (escaped).

        Thread-safe; does nothing once the receiver is closed.
        """
        with self._lock:
            if self._closed:
                return
            self._done_page = _pages.outcome_page(ok, message, self._back_to, self.done_hint)
        self._wake_done.set()

    def cancel(self) -> None:
        """Make :meth:`wait` raise :class:`FlowCancelledError` within a poll interval.

        Thread-safe; the port stays bound until :meth:`close`.
        """
        self._cancelled.set()
        self._wake_done.set()
        self._server.wake()

    def close(self) -> None:
        """Stop serving, free the port and forget the state. Idempotent and thread-safe."""
        self.cancel()
        with self._lock:
            if self._closed:
                return
            self._closed = True
        acquired = self._serving.acquire(timeout=_CLOSE_WAIT)
        try:
            self._server.stop()
        finally:
            if acquired:
                self._serving.release()
        self._start.set_url(None)
        with self._lock:
            self._state = ""
            self._outcome = None
            self._done_page = None
        _log.info("stopped listening on port %d", self._port)

    def hand_over(self, page: Page) -> LateAnswers | None:
        """After a :meth:`wait` that ended without an answer to use, keep the port for ``page``.

        Instead of closing, the bound socket goes to a :class:`LateAnswers` that shows
        ``page`` to a late visit (an Allow after Cancel or the timeout); this receiver is
        closed and forgets the state. ``None`` (and nothing changes) after a success or
        :meth:`close`. Call on the thread that ran :meth:`wait`, once it has returned.
        """
        with self._lock:
            if self._closed or self._claim == "success":
                return None
            self._closed = True
            digest = state_digest(self._state)
            self._state, self._outcome, self._done_page = "", None, None
        self._start.set_url(None)
        if self._back_to:
            page = replace(page, link=(self._back_to, _pages.BACK_TO_KIT))
        return LateAnswers(
            self._server,
            page,
            digest,
            hosts=self._hosts,
            callback_path=self._binding.path,
            renderer=self._renderer,
            judge=self._judge,
        )

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LoopbackReceiver(redirect_uri={self._redirect_uri!r}, closed={self._closed})"

    # -- answering requests (called on connection threads) ---------------------------------

    def respond(self, request: HttpRequest) -> Reply:
        """Answer one well-formed request (the server's :class:`Responder` interface)."""
        refused = screen(request, self._hosts)
        if refused is not None:
            return self._reply(
                refused.page, refused.summary, extra=refused.extra, head_only=refused.head_only
            )
        path, _, query = request.target.partition("?")
        if path == self._binding.path:
            reason = not_a_visit(request)
            if reason is not None:
                return self._reply(
                    _pages.NOT_A_VISIT, f"refused a callback that is not a page visit ({reason})"
                )
            return self._on_callback(request, query)
        if path == START_PATH:
            reason = not_a_visit(request)
            if reason is not None:
                return self._reply(
                    _pages.NOT_A_VISIT, f"refused a start link that is not a page visit ({reason})"
                )
            return self._on_start(request)
        if path == DONE_PATH:
            return self._on_done()
        return self._reply(_pages.NOT_FOUND, "refused a request for another path")

    def refuse(self, status: int, reason: str) -> Reply:
        """Answer a request refused at the HTTP level (the :class:`Responder` interface)."""
        return self._reply(_pages.status_page(status), f"refused a request: {reason}")

    def _account_refusal(
        self, request: HttpRequest, route: str, verdict: PeerVerdict | None = None
    ) -> Reply | None:
        """Refuse another local account's request, or one whose account cannot be named."""
        verdict = self._judge(request) if verdict is None else verdict
        if verdict not in REFUSED_PEERS:
            return None
        identified = verdict is PeerVerdict.OTHER_ACCOUNT
        return self._reply(
            _pages.not_from_this_account(route, identified=identified),
            f"refused a {route} request: {verdict.value}",
            important=True,
        )

    def _on_start(self, request: HttpRequest) -> Reply:
        verdict = self._judge(request)
        refused = self._account_refusal(request, "start", verdict)
        if refused is not None:
            return refused
        with self._lock:
            over = self._claim is not None or self._closed
        answer, url = self._start.answer(verdict, over=over)
        if answer is StartAnswer.NO_ATTEMPT:
            return self._reply(_pages.ATTEMPT_OVER, "refused the start link: no attempt waits")
        if answer is StartAnswer.ONE_TOO_MANY:
            # An account the kernel cannot name asks once more than the app opened the
            # browser: the URL may be in someone else's hands, so this attempt ends rather
            # than risk their code.
            if not self._take_claim("error"):
                return self._reply(_pages.ATTEMPT_OVER, "refused the start link after the end")
            return self._reply(
                _pages.LINK_USED_ELSEWHERE,
                "stopped the attempt: its start link was asked for more often than opened",
                after_sent=partial(self._settle, LinkReusedError()),
                important=True,
            )
        return self._reply(
            Page(302, "Opening Kit", "Kit is opening so you can connect."),
            "sent the browser on to Kit's consent page",
            extra=(("Location", url),),
            important=True,
        )

    def _on_callback(self, request: HttpRequest, query: str) -> Reply:
        with self._lock:
            finished = self._claim is not None or self._closed
            expected = self._state
        if finished:
            return self._reply(_pages.ALREADY_USED, "refused a callback after the flow ended")
        try:
            response = check_callback(query, expected, self._expected_issuer)
        except CallbackRejected as rejected:
            page = _pages.WRONG_FLOW if rejected.wrong_flow else _pages.BAD_REQUEST
            return self._reply(page, f"ignored a callback: {rejected.reason}")
        except KitError as error:  # ConsentDeniedError, ForeignIssuerError, AuthorizationError
            refused = self._account_refusal(request, "callback")  # last: reads the kernel
            if refused is not None:
                return refused
            if not self._take_claim("error"):
                return self._reply(_pages.ALREADY_USED, "refused a callback after the flow ended")
            return self._reply(
                _pages.ended_page(error, self._back_to, self.done_hint),
                f"callback ended the flow: {type(error).__name__}",
                after_sent=partial(self._settle, error),
                important=True,
            )
        refused = self._account_refusal(request, "callback")
        if refused is not None:
            return refused
        if not self._take_claim("success"):
            return self._reply(_pages.ALREADY_USED, "refused a callback after the flow ended")
        return self._reply(
            _pages.REDIRECT_TO_DONE,
            "accepted the callback",
            extra=(("Location", DONE_PATH),),
            after_sent=partial(self._settle, response),
            important=True,
        )

    def _on_done(self) -> Reply:
        if self._claim != "success":
            return self._reply(_pages.NOT_FOUND, "refused /done before the callback")
        self._wake_done.wait(DONE_WAIT)
        with self._lock:
            page = self._done_page or _pages.NEUTRAL_DONE
        if self._back_to and page.link is None:
            page = replace(page, link=(self._back_to, _pages.BACK_TO_KIT))
        if page.tone == "ok" and self._back_to:
            return self._reply(
                _pages.BACK_TO_KIT_REDIRECT,
                "sent the browser back to Kit's app page",
                extra=(("Location", self._back_to),),
                after_sent=self._on_done_served,
            )
        return self._reply(page, "showed the result page", after_sent=self._on_done_served)

    def _on_done_served(self) -> None:
        self._done_served.set()
        self._server.wake()

    def _take_claim(self, kind: str) -> bool:
        with self._lock:
            if self._claim is not None or self._closed:
                return False
            self._claim = kind
            return True

    def _settle(self, outcome: AuthorizationResponse | KitError) -> None:
        with self._lock:
            if self._closed:
                return
            self._outcome = outcome
        self._settled.set()
        self._server.wake()

    def _reply(
        self,
        page: Page,
        summary: str,
        *,
        extra: tuple[tuple[str, str], ...] = (),
        head_only: bool = False,
        after_sent: Callable[[], None] | None = None,
        important: bool = False,
    ) -> Reply:
        data = self._renderer.response(page, extra_headers=extra, head_only=head_only)
        return Reply(data, f"{page.status}, {summary}", after_sent, important)

    @contextlib.contextmanager
    def _serving_slot(self) -> Iterator[bool]:
        if not self._serving.acquire(blocking=False):
            raise RuntimeError("the receiver is already serving on another thread")
        try:
            yield not self._closed
        finally:
            self._serving.release()
