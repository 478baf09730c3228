"""Renewer: refreshes, renewals and disconnects off the GUI thread, in a safe order."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from kit_desktop.connection import Connection, Snapshot
from kit_desktop.errors import KitError
from kit_desktop.qt.workers import Task, Workers


class Renewer(QObject):
    """Runs one refresh (or automatic renewal) at a time, and the disconnect after it.

    A disconnect asked for while a renewal is in flight waits for it, so the tokens that
    renewal brings are the ones revoked; the renewal's own result is then not reported.

    Signals:
        renewed(object): The :class:`Snapshot` after a refresh or renewal worked.
        renew_failed(object): Why it did not (a ``KitError``).
        disconnected(object): Done: None when Kit revoked the access, else the
            ``KitError`` saying why Kit could not be told (it is forgotten here anyway).
        disconnect_failed(object): Forgetting the connection here failed (a ``KitError``).

    Args:
        connection: Refreshes, renews and disconnects.
        workers: Where the blocking steps run.
    """

    renewed = Signal(object)
    renew_failed = Signal(object)
    disconnected = Signal(object)
    disconnect_failed = Signal(object)

    def __init__(
        self, connection: Connection, workers: Workers, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._connection = connection
        self._workers = workers
        self._task: Task | None = None  # the refresh or renewal whose result counts
        self._disconnecting = False

    @property
    def disconnecting(self) -> bool:
        """Whether a disconnect (revoke, then forget) is under way."""
        return self._disconnecting

    def refresh(self) -> None:
        """Renew access now, whatever its expiry (the Refresh button)."""
        self._task = self._workers.run(self._connection.refresh, self._on_done, self._on_failed)

    def renew(self) -> None:
        """Renew access because it expires soon (shares a renewal another process started)."""
        self._task = self._workers.run(self._connection.renew, self._on_done, self._on_failed)

    def drop(self) -> None:
        """Let a renewal in flight report nothing (an install is replacing the connection)."""
        self._task = None

    def disconnect_account(self) -> None:
        """Revoke at Kit and forget here; after the renewal in flight, if there is one."""
        self._disconnecting = True
        if self._task is None:
            self._start_disconnect()

    def _current(self) -> bool:
        return self._task is not None and self._workers.current_task is self._task

    def _on_done(self, result: Snapshot) -> None:
        if self._current():
            self._task = None
            if self._disconnecting:
                self._start_disconnect()
            else:
                self.renewed.emit(result)

    def _on_failed(self, error: KitError) -> None:
        if self._current():
            self._task = None
            if self._disconnecting:
                self._start_disconnect()
            else:
                self.renew_failed.emit(error)

    def _start_disconnect(self) -> None:
        self._workers.run(
            self._connection.disconnect, self._on_disconnected, self._on_disconnect_failed
        )

    def _on_disconnected(self, problem: KitError | None) -> None:
        self._disconnecting = False
        self.disconnected.emit(problem)

    def _on_disconnect_failed(self, error: KitError) -> None:
        self._disconnecting = False
        self.disconnect_failed.emit(error)
