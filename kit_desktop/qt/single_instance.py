"""Only one instance runs: a second launch asks the first to come to the front, then exits."""

from __future__ import annotations

import logging
import zlib

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from kit_desktop.paths import data_dir

log = logging.getLogger(__name__)

CONNECT_WAIT_MS = 500
_MESSAGE = b"activate\n"


def instance_key() -> str:
    """A per-user (per data folder) name for the local socket."""
    # A name, not a secret: crc32 spares loading OpenSSL before the first paint.
    digest = f"{zlib.crc32(str(data_dir()).encode('utf-8')):08x}"
    return f"kit-desktop-{digest}"


class SingleInstance(QObject):
    """Claims the app's local socket name, or tells the running instance to activate.

    Signals:
        activated(): Another launch asked this instance to come to the front.

    Args:
        key: The local socket name (default: :func:`instance_key`).
    """

    activated = Signal()

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or instance_key()
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """Return True when this is the first instance (it now listens); False otherwise."""
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if socket.waitForConnected(CONNECT_WAIT_MS):
            socket.write(_MESSAGE)
            socket.waitForBytesWritten(CONNECT_WAIT_MS)
            socket.disconnectFromServer()
            log.info("another instance is running; asked it to come to the front")
            return False
        QLocalServer.removeServer(self.key)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.key):
            log.warning("single-instance socket unavailable: %s", server.errorString())
            return True
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server
        return True

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
