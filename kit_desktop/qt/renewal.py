"""RenewalSchedule: the once-a-second look at whether access should be renewed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal, Slot

from kit_desktop.renewal import RenewalPolicy
from kit_desktop.state import SessionView

#: How often the schedule looks (milliseconds).
TICK_MS = 1000
#: Where the creator's automatic-renewal choice is remembered (QSettings key).
AUTO_RENEW_KEY = "session/auto_renew"


class RenewalSchedule(QObject):
    """Emits :attr:`due` when the :class:`RenewalPolicy` says to renew.

    The session owns one; it reports outcomes with :attr:`policy`'s ``succeeded`` and
    ``failed``. Tests call :meth:`check` instead of waiting for the timer.

    Signals:
        due(): Renew now.

    Args:
        clock: Wall-clock time.
        view: The card's current view.
        disconnecting: Whether a disconnect is running.
        settings_store: Where the creator's on/off choice is remembered.
    """

    due = Signal()

    def __init__(
        self,
        clock: Callable[[], float],
        view: Callable[[], SessionView],
        disconnecting: Callable[[], bool],
        settings_store: QSettings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings_store
        self.policy = RenewalPolicy()
        self._clock = clock
        self._view = view
        self._disconnecting = disconnecting
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.check)

    def remembered(self) -> bool:
        """The creator's last on/off choice (on unless they turned it off)."""
        return bool(self._settings.value(AUTO_RENEW_KEY, True, type=bool))

    def remember(self, enabled: bool) -> None:
        """Remember the creator's choice at once (on disk now, not at exit)."""
        self._settings.setValue(AUTO_RENEW_KEY, enabled)
        self._settings.sync()

    def start(self) -> None:
        """Start looking (once a second)."""
        self._timer.start()

    def stop(self) -> None:
        """Stop looking (the window is closing)."""
        self._timer.stop()

    @property
    def active(self) -> bool:
        """Whether the schedule is looking."""
        return self._timer.isActive()

    @Slot()
    def check(self) -> bool:
        """Look now; emits :attr:`due` and returns True when renewal is due."""
        if not self.policy.due(self._clock(), self._view(), disconnecting=self._disconnecting()):
            return False
        self.due.emit()
        return True
