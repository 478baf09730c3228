"""ListExport: runs "Export all to CSV" on a worker thread; progress comes back as signals."""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.export import BACKOFF, export_list
from kit_desktop.api.pipeline import ApiRequest
from kit_desktop.errors import KitError
from kit_desktop.lists import ExportOutcome, ExportProgress
from kit_desktop.qt.workers import Workers


class _ProgressBridge(QObject):
    """Carries progress from the export's thread to the GUI thread; never deleted.

    The export's thread never emits on an object that may be gone (a closed window): it
    emits here, and progress for a ``ListExport`` that is gone is dropped.

    Signals:
        progressed(object): ``(weakref to ListExport, ExportProgress)``.
    """

    progressed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.progressed.connect(self._on_progressed)

    @Slot(object)
    def _on_progressed(self, sent: object) -> None:
        if isinstance(sent, tuple) and len(sent) == 2:
            owner, progress = sent
            export = owner() if isinstance(owner, weakref.ref) else None
            if isinstance(export, ListExport) and isinstance(progress, ExportProgress):
                export._deliver(progress)


_bridge: _ProgressBridge | None = None


def _the_bridge() -> _ProgressBridge:
    global _bridge
    if _bridge is None:
        _bridge = _ProgressBridge()
    return _bridge


class ListExport(QObject):
    """One export at a time, from the first page of a list answer's request to a CSV file.

    Signals:
        progressed(object): An :class:`ExportProgress` (after each page, before each wait).
        finished(object): The :class:`ExportOutcome`.

    Args:
        client: The connected API client.
        backoff: Waits before retrying a page whose connection dropped (tests shorten it).
        parent: The parent object.
    """

    progressed = Signal(object)
    finished = Signal(object)

    def __init__(
        self,
        client: KitApiClient,
        *,
        backoff: Sequence[float] = BACKOFF,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._client = client
        self._backoff = tuple(backoff)
        self._workers = Workers(self, max_threads=1)
        self._stop: threading.Event | None = None
        self._bridge = _the_bridge()

    @property
    def running(self) -> bool:
        """Whether an export is under way."""
        return self._stop is not None

    def start(self, request: ApiRequest, path: str) -> bool:
        """Export every page of ``request``'s list to ``path``; False if one is running."""
        if self._stop is not None or not path:
            return False
        stop = self._stop = threading.Event()
        me = weakref.ref(self)

        def tell(progress: ExportProgress) -> None:  # on the export's thread
            self._bridge.progressed.emit((me, progress))

        call = functools.partial(
            export_list,
            self._client,
            request,
            Path(path),
            progress=tell,
            stop=stop,
            backoff=self._backoff,
        )
        self._workers.run(call, self._on_done, self._on_failed)
        return True

    def cancel(self) -> None:
        """Stop after the request under way; the file keeps its ``.part`` ending."""
        if self._stop is not None:
            self._stop.set()

    def shutdown(self) -> None:
        """Cancel and wait briefly for the export's thread (window closing)."""
        self.cancel()
        self._workers.shutdown()

    def _deliver(self, progress: ExportProgress) -> None:
        if self._stop is not None and not self._stop.is_set():
            self.progressed.emit(progress)

    @Slot(object)
    def _on_done(self, outcome: object) -> None:
        self._stop = None
        if isinstance(outcome, ExportOutcome):
            self.finished.emit(outcome)

    @Slot(object)
    def _on_failed(self, error: KitError) -> None:
        self._stop = None
        self.finished.emit(ExportOutcome("stopped", "", 0, f"Stopped: {error.user_message}"))
