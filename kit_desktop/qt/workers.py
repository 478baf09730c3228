"""Run blocking core calls on worker threads; results come back to the GUI thread as signals."""

from __future__ import annotations

import concurrent.futures
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal, Slot

from kit_desktop.errors import KitError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: What a caller gets back on failure: always a :class:`KitError` (see :func:`_run`).
OnFailure = Callable[[KitError], None]


class Task:
    """A handle on one call; compare it with :attr:`Workers.current_task` in callbacks."""

    __slots__ = ("__weakref__",)


@dataclass(frozen=True)
class _Outcome:
    """One finished call, carried to the GUI thread inside a plain object.

    A plain object also avoids PySide6's mis-counting of bare ``True``/``None`` sent through
    ``Signal(object)`` from another thread.
    """

    owner: weakref.ref[Workers]
    task: Task
    ok: bool
    value: Any


class _Bridge(QObject):
    """The one receiver of every worker outcome; lives on the GUI thread and is never deleted.

    Worker threads never emit on an object that can be destroyed while they run (a window
    closing, a session collected): they emit here, and outcomes for a ``Workers`` that is
    gone are dropped.

    Signals:
        finished(object): An :class:`_Outcome`.
    """

    finished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._on_finished)

    @Slot(object)
    def _on_finished(self, outcome: object) -> None:
        if isinstance(outcome, _Outcome):
            workers = outcome.owner()
            if workers is not None:
                workers._deliver(outcome)


_bridge: _Bridge | None = None


def _the_bridge() -> _Bridge:
    global _bridge
    if _bridge is None:
        _bridge = _Bridge()
    return _bridge


def _run(bridge: _Bridge, owner: weakref.ref[Workers], task: Task, call: Callable[[], Any]) -> None:
    """The one exception boundary: every outcome leaves as a signal with plain data."""
    try:
        outcome = _Outcome(owner, task, True, call())
    except KitError as exc:
        outcome = _Outcome(owner, task, False, exc)
    except Exception as exc:
        log.exception("a background task failed unexpectedly")
        outcome = _Outcome(owner, task, False, KitError(detail=f"unexpected {type(exc).__name__}"))
    bridge.finished.emit(outcome)


class Workers(QObject):
    """A few worker threads for keyring, network and browser calls; never touches a widget.

    Callbacks run on the GUI thread; while one runs, :attr:`current_task` is its task.
    """

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._bridge = _the_bridge()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_threads, thread_name_prefix="kit-worker"
        )
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._callbacks: dict[Task, tuple[Callable[[Any], None], OnFailure]] = {}
        self._closed = False
        self.current_task: Task | None = None

    def run(
        self, call: Callable[[], T], on_success: Callable[[T], None], on_failure: OnFailure
    ) -> Task:
        """Run ``call`` on a worker thread; ``on_success``/``on_failure`` get the outcome later.

        Both run on the GUI thread. ``on_success`` gets what ``call`` returned;
        ``on_failure`` gets the :class:`KitError` it raised (any other exception arrives as
        a plain ``KitError`` and is logged with its traceback).
        """
        task = Task()
        if self._closed:  # the app is quitting: nothing new starts
            return task
        self._callbacks[task] = (on_success, on_failure)
        future = self._pool.submit(_run, self._bridge, weakref.ref(self), task, call)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return task

    @property
    def busy(self) -> bool:
        """Whether any call's outcome is still to come."""
        return bool(self._callbacks)

    def shutdown(self, msecs: int = 3000) -> bool:
        """Start nothing new and wait up to ``msecs`` for running calls; True when all ended."""
        self._closed = True
        self._callbacks.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        _, running = concurrent.futures.wait(set(self._futures), timeout=msecs / 1000)
        return not running

    def _deliver(self, outcome: _Outcome) -> None:
        callbacks = self._callbacks.pop(outcome.task, None)
        if callbacks is None:
            return
        self.current_task = outcome.task
        try:
            callbacks[0 if outcome.ok else 1](outcome.value)
        finally:
            self.current_task = None
