"""A KitSession rig for catalogue sections C and D: real sessions, and a probe of the GUI loop."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer, Signal, Slot
from pytestqt.qtbot import QtBot

from kit_desktop.auth.browser import BrowserOpener
from kit_desktop.auth.token_store import SERVICE_NAME
from kit_desktop.qt.session import KitSession
from kit_desktop.services import Services
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.user_browser import UserBrowser

WAIT_MS = 10_000


class Rig:
    """Makes sessions with a throwaway settings file and shuts them all down afterwards."""

    def __init__(self, qtbot: QtBot, tmp_path: Path) -> None:
        self.qtbot = qtbot
        self.ini = tmp_path / "settings.ini"
        self._made: list[KitSession] = []

    def session(
        self,
        services: Services,
        *,
        browser: UserBrowser | None = None,
        opener: BrowserOpener | None = None,
        clock: Callable[[], float] = time.time,
        flow_timeout: float = 30.0,
    ) -> KitSession:
        session = KitSession(
            services,
            opener=opener or (browser or UserBrowser("ignore")).open,
            settings_store=QSettings(str(self.ini), QSettings.Format.IniFormat),
            clock=clock,
            flow_timeout=flow_timeout,
        )
        self._made.append(session)
        return session

    def stop(self, session: KitSession) -> None:
        """Close like the window does, then let the last results arrive."""
        session.shutdown()
        self.qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)

    def close_all(self) -> None:
        for session in self._made:
            self.stop(session)
        collect_quietly()


def collect_quietly() -> None:
    """Delete finished Qt objects and collect cycles now, on the GUI thread.

    Left to itself, the cycle collector may run on a worker thread and destroy a window or
    session there (Qt then warns that timers cannot be stopped from another thread).
    """
    app = QCoreApplication.instance()
    if app is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    gc.collect()


def phase_of(session: KitSession) -> Phase:
    """The phase now (a call, so type checkers do not carry an earlier check over)."""
    return session.view.phase


def wait_phase(qtbot: QtBot, session: KitSession, phase: Phase, timeout: int = WAIT_MS) -> None:
    """Wait until ``session`` is in ``phase``; stop early (and fail) on another ending."""
    ends = {Phase.FAILED, Phase.RECONNECT_NEEDED, Phase.NOT_CONNECTED} - {phase}

    def reached() -> bool:
        now = session.view.phase
        return now is phase or (now in ends and not session.busy)

    qtbot.waitUntil(reached, timeout=timeout)
    assert session.view.phase is phase, session.view


def launch(qtbot: QtBot, session: KitSession) -> None:
    """Start as the app does and wait for the saved-connection check to end."""
    session.start()
    qtbot.waitUntil(lambda: not session.busy, timeout=WAIT_MS)


def connect(qtbot: QtBot, session: KitSession) -> None:
    """Click Connect (the browser allows) and wait for CONNECTED."""
    session.connect_to_kit()
    wait_phase(qtbot, session, Phase.CONNECTED)


def tick(session: KitSession) -> None:
    """Let the session's renewal schedule look once, now (what its one-second timer does)."""
    session.renewal.check()


def stored_data(backend: MemoryKeyring) -> dict[str, object] | None:
    """The token data of the one entry under the app's service, or None."""
    values = [v for (service, _), v in backend.entries.items() if service == SERVICE_NAME]
    if not values:
        return None
    (value,) = values
    data = json.loads(value)["data"]
    assert isinstance(data, dict)
    return data


class LoopProbe(QObject):
    """A 5 ms timer on the GUI thread; each tick proves the event loop is running.

    It is a child of the session it watches, so it stops when the session goes, even when
    a test fails before calling :meth:`stop`.

    Signals:
        ticked(int): The number of ticks so far.

    Attributes:
        phases: The session's phase at every tick (when a session is watched).
    """

    ticked = Signal(int)

    def __init__(self, session: KitSession | None = None) -> None:
        super().__init__(session)
        self.session = session
        self.phases: list[Phase | None] = []
        self._timer = QTimer(self)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    @property
    def ticks(self) -> int:
        """How many times the timer fired."""
        return len(self.phases)

    def during(self, phase: Phase) -> int:
        """How many ticks saw the session in ``phase``."""
        return sum(1 for seen in self.phases if seen is phase)

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.phases.append(None if self.session is None else self.session.view.phase)
        self.ticked.emit(len(self.phases))
