"""The QThread that runs the loopback receiver and reports back only through signals."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kit_desktop.auth.late_answer import LateAnswers
from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.pages import late_page
from kit_desktop.errors import KitError, LoopbackError

_log = logging.getLogger(__name__)

#: Milliseconds :meth:`LoopbackThread.stop` waits for the thread by default.
STOP_WAIT_MS = 2000


class LoopbackThread(QThread):
    """Waits for Kit's redirect on a receiver that is already bound, off the GUI thread.

    Build the :class:`LoopbackReceiver` on the GUI thread (so a busy port is reported before
    the browser opens), hand it over, connect the signals, then ``start()``. The thread owns
    the receiver from then on and always closes it, freeing the port, before it finishes
    (or, given ``late``, hands the port to the late-answer page after an unsuccessful end).
    After a success it keeps serving the browser's ``/done`` page briefly; call
    :meth:`finish` once the token exchange is over so that page can say how it went.

    The thread touches no widget. :meth:`cancel`, :meth:`finish` and :meth:`stop` are meant
    for the GUI thread; the thread stops within a second of :meth:`cancel`,
    ``requestInterruption()`` or :meth:`stop`.

    Signals:
        received(object): The :class:`~kit_desktop.auth.loopback.AuthorizationResponse`;
            emitted at most once, when this flow's valid callback arrives.
        failed(object): A :class:`~kit_desktop.errors.KitError`, emitted at most once:
            ``ConsentDeniedError``, ``AuthorizationError``, ``FlowTimeoutError``,
            ``FlowCancelledError`` (cancel, interruption or stop) or ``LoopbackError``.
        finished(): Inherited from ``QThread``; the receiver is closed by then.

    Exactly one of ``received`` and ``failed`` is emitted per run.

    Args:
        receiver: The bound receiver; the thread owns it from ``start()`` on.
        parent: The QObject parent.
        late: Where to hand the port when the wait ends without an answer to use (cancel,
            timeout, Deny or Kit's error; not on :meth:`stop`): a
            :class:`~kit_desktop.auth.late_answer.LateAnswerDesk` slot, which keeps
            answering a late Allow with a page saying what happened. Without it, or if it
            declines, the port is freed as the thread ends.
    """

    received = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        receiver: LoopbackReceiver,
        parent: QObject | None = None,
        *,
        late: Callable[[LateAnswers], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self._receiver = receiver
        self._late = late
        self._answered = False

    @property
    def redirect_uri(self) -> str:
        """The redirect URI the receiver listens on (send exactly this to Kit)."""
        return self._receiver.redirect_uri

    def run(self) -> None:
        """Wait for the callback, report it, serve ``/done`` briefly, always close."""
        receiver = self._receiver
        reported = False
        try:
            try:
                response = receiver.wait(should_stop=self.isInterruptionRequested)
            except KitError as error:
                reported = True
                try:
                    self._hand_over(error)  # first, so a late visit never finds the port shut
                finally:
                    self.failed.emit(error)
                return
            reported = True
            self.received.emit(response)
            receiver.serve_done(should_stop=self.isInterruptionRequested)
        except Exception as exc:  # the one boundary: nothing escapes the thread
            _log.error("the loopback thread failed unexpectedly (%s)", type(exc).__name__)
            if not reported:
                self.failed.emit(LoopbackError(detail=type(exc).__name__))
        finally:
            receiver.close()

    def _hand_over(self, ended: KitError) -> None:
        """Give the port to the late-answer slot, unless stopping (a new attempt needs it)."""
        if self._late is None or self.isInterruptionRequested():
            return
        late = self._receiver.hand_over(late_page(ended, answered=self._answered))
        if late is None:
            return
        try:
            self._late(late)
        except BaseException:
            late.close()
            raise

    def expect_browser(self) -> None:
        """The app is about to open the browser on the start link once more (thread-safe)."""
        self._receiver.expect_browser()

    @Slot()
    def cancel(self, *, answered: bool = False) -> None:
        """Stop waiting; ``failed(FlowCancelledError)`` follows if no answer came yet.

        Args:
            answered: Kit's answer reached the app another way (pasted), so a late visit
                is told it was already received rather than cancelled.
        """
        self._answered = self._answered or answered
        self._receiver.cancel()

    @Slot(bool, str)
    def finish(self, ok: bool, message: str) -> None:
        """Tell the browser's ``/done`` page whether connecting worked (``message`` is escaped)."""
        self._receiver.finish(ok, message)

    def stop(self, timeout_ms: int = STOP_WAIT_MS) -> bool:
        """Cancel, request interruption and wait for the thread (e.g. when the window closes).

        Returns:
            Whether the thread has finished (or never started).
        """
        self.requestInterruption()
        self._receiver.cancel()
        if not self.isRunning():
            self._receiver.close()
            return True
        return self.wait(timeout_ms)
