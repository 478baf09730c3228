"""Run something once, right after a window's first paint (or after a fallback delay)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: A window that never paints (started minimised) gets ``then`` after this long anyway.
FALLBACK_MS = 1000


class AfterFirstPaint(QObject):
    """Calls ``then`` once: behind the window's first paint, or after ``fallback_ms``.

    Args:
        window: The window to watch (also this object's parent).
        then: What to run.
        fallback_ms: The longest wait for a paint.
    """

    def __init__(
        self, window: QWidget, then: Callable[[], None], fallback_ms: int = FALLBACK_MS
    ) -> None:
        super().__init__(window)
        self._then = then
        self._done = False
        window.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Schedule ``then`` behind the paint that is under way."""
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._run)
        return False

    def _run(self) -> None:
        if not self._done:
            self._done = True
            self._then()
