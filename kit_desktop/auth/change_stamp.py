"""A note between app processes that the saved connection changed, so windows can follow.

Each copy of the app keeps the tokens it loaded in memory. When another copy (a second
window, or ``kit-desktop disconnect`` / ``refresh`` in a terminal) changes the keyring
entry, nothing would tell the window, which would go on saying "Connected" until a request
failed. :class:`ChangeStamp` is a small file next to the profile's refresh lock (0600 in a
0700 folder) that every :class:`~kit_desktop.auth.tokens.TokenManager` rewrites after it
saves or forgets tokens. It holds a random id of the writing process and a counter, never a
secret (a process id could be shared by two sandboxed copies):
the window watches it (``qt/store_watch.py``) and reads the keyring again when another
process wrote it.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import stat
from pathlib import Path

from kit_desktop.errors import NotPrivateError
from kit_desktop.private_files import open_private, private_dir

_log = logging.getLogger(__name__)

_counter = itertools.count(1)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no pipes at file paths
#: This process's id in stamps it writes (random: two sandboxed copies can share a pid).
_WRITER = secrets.token_hex(8).encode("ascii")


class ChangeStamp:
    """The per-profile "the saved connection changed" file.

    Args:
        path: The stamp file (created on first :meth:`touch`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def touch(self) -> None:
        """Say that this process changed the saved connection (never raises)."""
        content = _WRITER + f":{next(_counter)}\n".encode("ascii")
        try:
            private_dir(self.path.parent)
            # Non-blocking: a pipe planted at the path must not hang the window.
            fd = open_private(self.path, os.O_WRONLY | os.O_TRUNC | _NONBLOCK)
        except (NotPrivateError, OSError) as exc:
            _log.info("change stamp not written: %s", getattr(exc, "detail", "") or exc)
            return
        try:
            os.write(fd, content)
        except OSError as exc:
            _log.info("change stamp not written: %s", exc.strerror)
        finally:
            os.close(fd)

    def ensure(self) -> bool:
        """Create the file if it is missing (so it can be watched); whether it exists now."""
        if self.path.exists():
            return True
        self.touch()
        return self.path.exists()

    def written_by_us(self) -> bool:
        """Whether this process wrote the stamp last (its own change needs no follow-up)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | _NONBLOCK)
        except OSError:
            return False
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False  # not our stamp: never wait on a pipe or a device
            head = os.read(fd, 32)
        except OSError:
            return False
        finally:
            os.close(fd)
        return head.split(b":", 1)[0] == _WRITER


def stamp_beside(lock_path: Path) -> ChangeStamp:
    """The change stamp of the profile whose refresh lock is ``lock_path``."""
    return ChangeStamp(lock_path.with_suffix(".changed"))
