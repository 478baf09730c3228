"""StoreWatch: notices when another copy of the app changed the saved connection.

Watches the profile's :class:`~kit_desktop.auth.change_stamp.ChangeStamp` with a
``QFileSystemWatcher`` (inotify on Linux, kqueue on macOS, change notifications on
Windows) and emits :attr:`StoreWatch.changed` shortly after another process rewrote it.
Changes this process made itself are not reported.
"""

from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

from kit_desktop.auth.change_stamp import ChangeStamp

#: Milliseconds to let a burst of writes settle before reporting once.
SETTLE_MS = 150


class StoreWatch(QObject):
    """Emits :attr:`changed` when another process changed the saved connection.

    Signals:
        changed(): Read the store again.

    Args:
        stamp: The profile's change stamp (created here if missing, so it can be watched).
    """

    changed = Signal()

    def __init__(self, stamp: ChangeStamp, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stamp = stamp
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_file_changed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._report)
        if stamp.ensure():
            self._watcher.addPath(str(stamp.path))

    @property
    def watching(self) -> bool:
        """Whether the stamp file is being watched."""
        return bool(self._watcher.files())

    @Slot(str)
    def _on_file_changed(self, path: str) -> None:
        if path not in self._watcher.files() and self._stamp.ensure():
            self._watcher.addPath(path)  # some editors and systems replace the file
        self._settle.start()

    @Slot()
    def _report(self) -> None:
        if not self._stamp.written_by_us():
            self.changed.emit()
