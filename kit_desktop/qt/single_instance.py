"""Only one instance runs: a second launch asks the first to come to the front, then exits.

The socket lives in :func:`kit_desktop.paths.runtime_dir`, a 0700 folder of this
account's own, never under a name anyone can compute in the shared ``/tmp``
(catalogue G74). If another account holds the name anyway (it made the temporary
fallback folder first, or planted a socket in it), the app is told so and runs without
the single-instance check; it never talks to that socket.
"""

from __future__ import annotations

import enum
import logging
import os
import stat
import sys
import zlib

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from kit_desktop.errors import NameTakenError, NotPrivateError
from kit_desktop.paths import data_dir, runtime_dir

log = logging.getLogger(__name__)

CONNECT_WAIT_MS = 500
_MESSAGE = b"activate\n"


class Claim(enum.Enum):
    """What :meth:`SingleInstance.claim_name` found."""

    #: This is the first instance; it now listens.
    FIRST = "first"
    #: Another instance of ours runs; it was asked to come to the front.
    ALREADY_RUNNING = "already running"
    #: Another account holds the name (see :attr:`SingleInstance.problem`); run anyway.
    NAME_TAKEN = "name taken"
    #: Listening failed for another reason (logged); run anyway.
    UNAVAILABLE = "unavailable"


def instance_key() -> str:
    """A per-user (per data folder) name for the local socket."""
    # A name, not a secret: crc32 spares loading OpenSSL before the first paint.
    digest = f"{zlib.crc32(str(data_dir()).encode('utf-8')):08x}"
    return f"kit-desktop-{digest}"


class SingleInstance(QObject):
    """Claims the app's local socket, or tells the running instance to activate.

    Signals:
        activated(): Another launch asked this instance to come to the front.

    Args:
        key: The socket's file name in :func:`~kit_desktop.paths.runtime_dir` (the pipe
            name on Windows; default: :func:`instance_key`).

    Attributes:
        problem: Why the name could not be used (another account holds it), or None.
    """

    activated = Signal()

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or instance_key()
        self.problem: NameTakenError | None = None
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """Return False when another instance of ours runs (it was activated); else True."""
        return self.claim_name() is not Claim.ALREADY_RUNNING

    def claim_name(self) -> Claim:
        """Listen on the name, or activate the instance that does; say which happened."""
        try:
            name = self._server_name()
        except OSError as exc:  # no folder could be made (a full disk, say)
            log.warning("single-instance folder unavailable: %s", exc.strerror)
            return Claim.UNAVAILABLE
        if name is None:
            return Claim.NAME_TAKEN
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(CONNECT_WAIT_MS):
            socket.write(_MESSAGE)
            socket.waitForBytesWritten(CONNECT_WAIT_MS)
            socket.disconnectFromServer()
            log.info("another instance is running; asked it to come to the front")
            return Claim.ALREADY_RUNNING
        QLocalServer.removeServer(name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(name):
            log.warning("single-instance socket unavailable: %s", server.errorString())
            return Claim.UNAVAILABLE
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server
        return Claim.FIRST

    def _server_name(self) -> str | None:
        """The socket's full path (pipe name on Windows); None when another account has it."""
        if sys.platform == "win32":
            return self.key
        try:
            folder = runtime_dir(len(os.fsencode(self.key)))
        except NotPrivateError as exc:
            self._taken(exc.path, exc.detail)
            return None
        path = folder / self.key
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return str(path)
        if info.st_uid != os.getuid():
            kind = "socket" if stat.S_ISSOCK(info.st_mode) else "file"
            self._taken(str(path), f"a {kind} owned by uid {info.st_uid}")
            return None
        return str(path)

    def _taken(self, path: str, detail: str) -> None:
        self.problem = NameTakenError(path, detail=detail)
        log.warning("single-instance name taken by another account: %s (%s)", path, detail)

    def release(self) -> None:
        """Stop listening (the app is quitting)."""
        if self._server is not None:
            self._server.close()
            self._server = None

    @Slot()
    def _on_server_new_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            connection = server.nextPendingConnection()
            connection.disconnected.connect(connection.deleteLater)
            connection.close()
            self.activated.emit()
