"""Another account squats a local socket name (catalogue G74); standard library only.

Run as uid 65534 by ``tests/catalogue/test_g_local_files.py`` through
:mod:`tests.helpers.second_account`. Usage::

    g_squat.py SOCKET [--folder MODE]

With ``--folder`` the socket's folder is created first (it must not exist) with ``MODE``
(octal), as an attacker pre-creating ``/tmp/kit-desktop-<uid>`` would. The socket is
made world-connectable and listened on; a JSON line ``{"ready": ...}`` is printed. Every
connection is accepted, read from briefly and closed. When stdin closes (or after a
minute), the socket is removed (its folder stays), a JSON line with the connections seen
is printed and the script exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import sys
import time

LIFETIME = 60.0


def main() -> int:
    """Squat, serve until stdin closes, report."""
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--folder", type=lambda text: int(text, 8), default=None)
    args = parser.parse_args()
    folder = os.path.dirname(args.socket)
    if args.folder is not None:
        os.mkdir(folder, 0o700)
        os.chmod(folder, args.folder)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    os.chmod(args.socket, 0o777)  # noqa: S103 - a squatter invites everyone in
    server.listen(8)
    print(json.dumps({"ready": True, "uid": os.getuid()}), flush=True)
    connections = 0
    received: list[str] = []
    deadline = time.monotonic() + LIFETIME
    stdin = sys.stdin.fileno()
    try:
        while time.monotonic() < deadline:
            readable, _, _ = select.select([server, stdin], [], [], 0.5)
            if stdin in readable and not os.read(stdin, 1024):
                break
            if server in readable:
                connection, _ = server.accept()
                connections += 1
                with connection:
                    connection.settimeout(0.5)
                    with contextlib.suppress(OSError):
                        received.append(connection.recv(64).decode("ascii", "replace"))
    finally:
        server.close()
        with contextlib.suppress(OSError):  # not once the folder owner has tightened it
            os.unlink(args.socket)
    print(json.dumps({"connections": connections, "received": received}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
