"""The QThread that runs the loopback receiver and reports back only through signals."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.errors import KitError, LoopbackError

_log = logging.getLogger(__name__)

#: Milliseconds :meth:`LoopbackThread.stop` waits for the thread by default.
STOP_WAIT_MS = 2000


class LoopbackThread(QThread):
    """Waits for Kit's redirect on a receiver that is already bound, off the GUI thread.

    Build the :class:`LoopbackReceiver` on the GUI thread (so a busy port is reported before
    the browser opens), hand it over, connect the signals, then ``start()``. The thread owns
    the receiver from then on and always closes it, freeing the port, before it finishes.
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
    """

    received = Signal(object)
    failed = Signal(object)

    def __init__(self, receiver: LoopbackReceiver, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._receiver = receiver

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

    def expect_browser(self) -> None:
        """The app is about to open the browser on the start link once more (thread-safe)."""
        self._receiver.expect_browser()

    @Slot()
    def cancel(self) -> None:
        """Stop waiting; ``failed(FlowCancelledError)`` follows if no answer came yet."""
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
