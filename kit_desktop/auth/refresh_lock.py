"""A lock between app processes, so two copies never refresh the same tokens at once.

Kit rotates refresh tokens: if two processes (the window and a ``kit-desktop refresh``
in a terminal, say) refreshed with the same refresh token, the second would be refused
and could end up disconnected. :class:`ProcessLock` is an OS file lock (``fcntl.flock``
on Linux and macOS, ``msvcrt.locking`` on Windows) on a per-profile file in the app's
data folder (0600, in a 0700 folder); the OS releases it if the holder dies.
:class:`TokenManager` takes it around every network refresh and re-reads the store
inside it, so the second process finds the first one's new tokens and uses them instead
of refreshing again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kit_desktop.errors import NotPrivateError
from kit_desktop.paths import data_dir
from kit_desktop.private_files import open_private, private_dir

_log = logging.getLogger(__name__)

#: Seconds to wait for another process's refresh before going ahead anyway.
LOCK_WAIT = 30.0
_POLL = 0.05


class ProcessLock:
    """An exclusive lock shared by every app process on this computer, for one profile.

    Args:
        path: The lock file (created if missing; its content is irrelevant).
        wait: Seconds to wait for another holder before going ahead without the lock.
    """

    def __init__(self, path: Path, *, wait: float = LOCK_WAIT) -> None:
        self.path = path
        self.wait = wait

    @contextlib.contextmanager
    def held(self) -> Iterator[bool]:
        """Hold the lock for the ``with`` block; yields whether it was really taken.

        A lock that cannot be taken (no data folder, another holder for longer than
        ``wait``) is logged and the block runs anyway: refreshing without the lock is
        what the app did before it had one, and never worse than not refreshing.
        """
        handle = self._open()
        if handle is None:
            yield False
            return
        try:
            taken = self._acquire(handle)
            try:
                yield taken
            finally:
                if taken:
                    _unlock(handle)
        finally:
            handle.close()

    def _open(self) -> IO[bytes] | None:
        try:
            private_dir(self.path.parent)
            return os.fdopen(open_private(self.path, os.O_RDWR | os.O_APPEND), "a+b")
        except NotPrivateError as exc:
            _log.warning("refresh lock unavailable (%s); refreshing without it", exc.detail)
            return None
        except OSError as exc:
            _log.warning("refresh lock unavailable (%s); refreshing without it", exc.strerror)
            return None

    def _acquire(self, handle: IO[bytes]) -> bool:
        deadline = time.monotonic() + self.wait
        while True:
            if _try_lock(handle):
                return True
            if time.monotonic() >= deadline:
                _log.warning("another copy of the app held the refresh lock too long")
                return False
            time.sleep(_POLL)


def lock_for_profile(profile: str, *, folder: Path | None = None) -> ProcessLock:
    """Return the refresh lock of one keyring profile (its file is named by a checksum)."""
    name = f"refresh-{zlib.crc32(profile.encode('utf-8')):08x}.lock"
    return ProcessLock((folder if folder is not None else data_dir() / "locks") / name)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = ["LOCK_WAIT", "ProcessLock", "lock_for_profile"]
