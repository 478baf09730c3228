"""Run blocking core calls on a thread pool; results come back to the GUI thread as signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kit_desktop.errors import KitError

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


@dataclass(frozen=True)
class _Box:
    """Carries a result across threads inside a plain object.

    PySide6 mis-counts references of a bare ``True``/``None`` sent through ``Signal(object)``
    from another thread (a fatal ``bool_dealloc`` at exit), so no bare value travels.
    """

    value: Any


class Task(QObject):
    """One call running off the GUI thread.

    Signals:
        succeeded(object): The call's return value, boxed.
        failed(object): A :class:`KitError` (unexpected exceptions are wrapped and logged).
    """

    succeeded = Signal(object)
    failed = Signal(object)


class _Runnable(QRunnable):
    def __init__(self, task: Task, call: Callable[[], Any]) -> None:
        super().__init__()
        self.task = task
        self.call = call

    def run(self) -> None:
        """The one exception boundary: every outcome leaves as a signal with plain data."""
        try:
            result = self.call()
        except KitError as exc:
            self.task.failed.emit(exc)
        except Exception as exc:
            log.exception("a background task failed unexpectedly")
            self.task.failed.emit(KitError(detail=f"unexpected {type(exc).__name__}"))
        else:
            self.task.succeeded.emit(_Box(result))


class Workers(QObject):
    """A small pool for keyring, network and browser calls; never touches a widget.

    Callbacks run on the GUI thread; while one runs, :attr:`current_task` is its task.
    """

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._callbacks: dict[Task, tuple[Callback, Callback]] = {}
        self.current_task: Task | None = None

    def run(self, call: Callable[[], Any], on_success: Callback, on_failure: Callback) -> Task:
        """Run ``call`` on the pool; ``on_success``/``on_failure`` get the outcome later."""
        task = Task(self)
        task.succeeded.connect(self._on_task_succeeded)
        task.failed.connect(self._on_task_failed)
        self._callbacks[task] = (on_success, on_failure)
        self._pool.start(_Runnable(task, call))
        return task

    @property
    def busy(self) -> bool:
        """Whether any task is still running."""
        return bool(self._callbacks)

    def shutdown(self, msecs: int = 3000) -> bool:
        """Drop queued tasks and wait up to ``msecs`` for running ones; True when all ended."""
        self._pool.clear()
        return self._pool.waitForDone(msecs)

    @Slot(object)
    def _on_task_succeeded(self, box: object) -> None:
        self._finish(0, box.value if isinstance(box, _Box) else box)

    @Slot(object)
    def _on_task_failed(self, error: object) -> None:
        self._finish(1, error)

    def _finish(self, which: int, value: object) -> None:
        task = self.sender()
        if not isinstance(task, Task) or task not in self._callbacks:
            return
        callback = self._callbacks.pop(task)[which]
        self.current_task = task
        try:
            callback(value)
        finally:
            self.current_task = None
            task.deleteLater()
