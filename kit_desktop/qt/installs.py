"""App Store installs while the app runs: the install entry on a thread, answered on the GUI.

:class:`InstallListener` runs :class:`~kit_desktop.auth.install_entry.InstallEntry` in a
QThread. When Kit's App Store opens ``/kit/oauth?redirect=…`` (directly, or through the
publisher's relay page), the connection thread hands the checked ``redirect`` to the GUI
thread through :attr:`InstallListener.install_requested` and waits for the new attempt's
authorization URL, which the browser is then sent to.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QThread, Signal, Slot

from kit_desktop.auth.install_entry import INSTALL_WAIT, InstallAnswer, InstallEntry
from kit_desktop.errors import KitError

_log = logging.getLogger(__name__)

#: Milliseconds :meth:`InstallListener.stop` waits for the thread.
STOP_WAIT_MS = 2000


class Handoff:
    """One install request waiting on a connection thread for the GUI's answer."""

    def __init__(self) -> None:
        self._answered = threading.Event()
        self._url: InstallAnswer = None

    def answer(self, url: InstallAnswer) -> None:
        """Give the app's answer (see :data:`InstallAnswer`). First answer wins."""
        if not self._answered.is_set():
            self._url = url
            self._answered.set()

    def wait(self, timeout: float) -> InstallAnswer:
        """Return the answer, or ``None`` after ``timeout`` seconds."""
        return self._url if self._answered.wait(timeout) else None


class InstallListener(QThread):
    """Serves the install entry until stopped; asks the GUI thread to start each install.

    The listener object lives on the GUI thread, so :attr:`install_requested`, emitted on
    a connection thread, reaches :meth:`_on_install_requested` there (a queued call), which
    calls ``answer`` and hands the result back.

    Signals:
        install_requested(str, bool, object): A checked ``redirect``, whether the caller is
            known to be this account, and the :class:`Handoff` to answer with.

    Args:
        redirect_uri: The first registered redirect URI (its origin is listened on).
        answer: Starts an install (GUI thread); returns its authorization URL or ``None``.
        app_hosts: Hosts an install may send the browser back to.
        extra_origins: Exact origins also allowed (the built-in sandbox's App Store).
        wait: Seconds a request waits for the GUI.

    Raises:
        KitError: The port could not be bound (``PortInUseError``, ``LoopbackError``).
    """

    install_requested = Signal(str, bool, object)

    def __init__(
        self,
        redirect_uri: str,
        answer: Callable[[str, bool], InstallAnswer],
        *,
        app_hosts: Sequence[str],
        extra_origins: Sequence[str] = (),
        wait: float = INSTALL_WAIT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._answer = answer
        self._wait = wait
        self.install_requested.connect(self._on_install_requested)
        self._entry = InstallEntry(
            redirect_uri, self._ask_gui, app_hosts=app_hosts, extra_origins=extra_origins
        )

    @property
    def url(self) -> str:
        """The install entry's address."""
        return self._entry.url

    @property
    def port(self) -> int:
        """The port the install entry listens on."""
        return self._entry.port

    def run(self) -> None:
        """Serve until stopped; always free the port."""
        try:
            self._entry.serve(should_stop=self.isInterruptionRequested)
        except Exception as exc:  # the one boundary: nothing escapes the thread
            _log.error("the install listener failed (%s)", type(exc).__name__)
        finally:
            self._entry.close()

    @Slot()
    def stop(self, timeout_ms: int = STOP_WAIT_MS) -> bool:
        """Stop serving and wait for the thread; return whether it has finished."""
        self.requestInterruption()
        self._entry.stop()
        if not self.isRunning():
            self._entry.close()
            return True
        return self.wait(timeout_ms)

    def _ask_gui(self, redirect: str, trusted: bool) -> InstallAnswer:
        handoff = Handoff()
        self.install_requested.emit(redirect, trusted, handoff)
        return handoff.wait(self._wait)

    @Slot(str, bool, object)
    def _on_install_requested(self, redirect: str, trusted: bool, handoff: object) -> None:
        if not isinstance(handoff, Handoff):
            return
        try:
            url = self._answer(redirect, trusted)
        except Exception as exc:  # the browser still gets a page saying it did not start
            _log.error("starting an install failed (%s)", type(exc).__name__)
            url = None
        handoff.answer(url)


def start_install_listener(
    redirect_uris: Sequence[str],
    answer: Callable[[str, bool], InstallAnswer],
    *,
    app_hosts: Sequence[str],
    extra_origins: Sequence[str] = (),
    parent: QObject | None = None,
) -> InstallListener | None:
    """Listen for installs on the first redirect URI's origin, if the port is free.

    Attempts then use the next free redirect URI, so with a single one registered the
    listener is not started (the port stays free for connecting).

    Args:
        redirect_uris: The registered redirect URIs.
        answer: Starts an install on the GUI thread (``KitSession.start_install``).
        app_hosts: Hosts an install may send the browser back to.
        extra_origins: Exact origins also allowed (the built-in sandbox's App Store).
        parent: The listener's QObject parent.

    Returns:
        The running listener, or ``None`` when it could not or should not start.
    """
    if len(redirect_uris) < 2:
        _log.info("one redirect URI only: App Store installs are not listened for")
        return None
    try:
        listener = InstallListener(
            redirect_uris[0],
            answer,
            app_hosts=app_hosts,
            extra_origins=extra_origins,
            parent=parent,
        )
    except KitError as exc:
        _log.warning("App Store installs are not listened for: %s", exc.detail or exc)
        return None
    listener.start()
    return listener
