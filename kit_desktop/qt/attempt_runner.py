"""AttemptRunner: one connection attempt's moving parts, the receiver thread and the browser."""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import QObject, Signal, Slot

from kit_desktop.auth.attempt import AuthorizationAttempt
from kit_desktop.auth.browser import BrowserOpener
from kit_desktop.auth.late_answer import LateAnswerDesk
from kit_desktop.connection import Connection
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.workers import Workers

log = logging.getLogger(__name__)

#: Milliseconds a replaced attempt's receiver gets to stop and free its port.
REPLACE_WAIT_MS = 5000


class AttemptRunner(QObject):
    """Binds the loopback receiver, runs it in a :class:`LoopbackThread`, opens the browser.

    The session decides what an attempt's outcome means; this class only keeps its parts:
    the PKCE values (:attr:`attempt`, until the session ends the attempt with :meth:`end`)
    and the thread (until it finishes, which is later: after a success it keeps serving
    the browser's ``/done`` page until :meth:`finish`). Signals from a thread that was
    replaced (:meth:`abandon`) are dropped, so a late answer can never end a new attempt.
    Call everything on the GUI thread.

    An attempt that ends without connecting (Cancel, the timeout, Deny, Kit's error) keeps
    its port answering for a while (:attr:`late`, ``auth/late_answer.py``): an Allow
    clicked afterwards gets a page saying what happened instead of the browser's "refused
    to connect". It exchanges nothing, starts nothing and is not :attr:`listening`; it
    gives the port up before the next attempt binds (:meth:`begin`) and on :meth:`stop`.

    Signals:
        received(object): Kit's :class:`~kit_desktop.auth.loopback.AuthorizationResponse`.
        failed(object): Why the wait ended without one (a ``KitError``).
        browser_opened(bool): Whether the browser could be opened on the start link.

    Args:
        connection: Binds receivers and makes attempts.
        opener: Opens the system browser (:attr:`opener`; tests swap it).
        workers: Where the (blocking) browser launch runs.
        late: Keeps an ended attempt's port answering late visits (default: 30 minutes).
    """

    received = Signal(object)
    failed = Signal(object)
    browser_opened = Signal(bool)

    def __init__(
        self,
        connection: Connection,
        opener: BrowserOpener,
        workers: Workers,
        parent: QObject | None = None,
        *,
        late: LateAnswerDesk | None = None,
    ) -> None:
        super().__init__(parent)
        self._connection = connection
        self.opener = opener
        self._workers = workers
        self.late = late if late is not None else LateAnswerDesk()
        self.attempt: AuthorizationAttempt | None = None
        self._thread: LoopbackThread | None = None
        self._start_url = ""  # what the browser is opened on (never the authorization URL)

    @property
    def listening(self) -> bool:
        """Whether a receiver thread is running (waiting, or serving ``/done``)."""
        return self._thread is not None

    def begin(self, *, timeout: float, back_to: str | None = None) -> AuthorizationAttempt:
        """Bind a receiver, make a new attempt and start waiting for Kit's answer.

        The ports are fixed (registered at Kit), so whatever still holds one is stopped
        first: an ended attempt's late-answer page, and a thread still serving ``/done``.

        Raises:
            KitError: No redirect URI could be bound, or the build cannot reach Kit.
        """
        self._free_ports()
        receiver, attempt = self._connection.begin_attempt(timeout=timeout, back_to=back_to)
        self.attempt = attempt
        self._start_url = receiver.start_url
        thread = LoopbackThread(receiver, self, late=self.late.slot())
        thread.received.connect(self._on_received)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        thread.start()
        return attempt

    def abandon(self) -> None:
        """Drop the running attempt without a word (a new one replaces it).

        The old receiver is stopped and its port freed before returning (it stops within a
        poll interval; the wait is capped at :data:`REPLACE_WAIT_MS`), so the new attempt
        can bind the same port.
        """
        thread, self._thread = self._thread, None
        if thread is not None and not thread.stop(REPLACE_WAIT_MS):
            log.warning("the previous attempt's listener did not stop in time")
        self.end()

    def _free_ports(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and not thread.stop(REPLACE_WAIT_MS):
            log.warning("the previous attempt's listener did not stop in time")
        self.late.stop()

    def end(self) -> None:
        """Forget the attempt's values (its thread may still serve ``/done`` for a while)."""
        self.attempt = None

    def open_browser(self) -> None:
        """Open the browser on the receiver's start link (off the GUI thread).

        The start link answers with the authorization URL, so that URL never appears on
        the browser's command line, which other accounts can read (catalogue 70).
        """
        if self._thread is not None:
            self._thread.expect_browser()
        self._workers.run(
            functools.partial(self.opener, self._start_url),
            self.browser_opened.emit,
            lambda _error: self.browser_opened.emit(False),
        )

    def cancel(self, *, answered: bool = False) -> None:
        """Stop waiting; :attr:`failed` follows with ``FlowCancelledError`` if still waiting.

        Args:
            answered: Kit's answer came another way (pasted): a late visit to the port is
                told it was already received, not that the attempt was cancelled.
        """
        if self._thread is not None:
            self._thread.cancel(answered=answered)

    def finish(self, ok: bool, message: str) -> None:
        """Tell the browser's ``/done`` page how connecting went."""
        if self._thread is not None:
            self._thread.finish(ok, message)

    def stop(self) -> None:
        """Stop the receiver thread and any late-answer page now (the window is closing)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
        self.late.stop()
        self.end()

    @Slot(object)
    def _on_received(self, response: object) -> None:
        if self.sender() is self._thread:
            self.received.emit(response)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        if self.sender() is self._thread:
            self.failed.emit(error)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self.sender() is self._thread:
            self._thread = None
