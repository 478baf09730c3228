"""Folders and files only this account can use: 0700 and 0600, whatever the umask (no Qt).

The app keeps its log, data folder, lock files and single-instance socket to the account
that runs it (security catalogue G75). :func:`restrict_umask` makes every file the
process creates private, Qt's and libraries' too; :func:`private_dir` and
:func:`open_private` set the modes explicitly as well, so a piece used without
``main()`` (a test, another entry point) is private all the same, and files an older
version left readable are tightened. Folders or files owned by another account, or links,
are refused with :class:`~kit_desktop.errors.NotPrivateError`. On Windows the folders
live in the user's own profile, whose permissions already keep other accounts out, and
no modes are set.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from kit_desktop.errors import NotPrivateError

DIR_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)

_original_umask: int | None = None


def restrict_umask() -> int:
    """Make everything this process creates private (umask 077); return the umask it had.

    The umask the process started with is remembered (the first call wins) for
    :func:`child_umask`.
    """
    global _original_umask
    previous = os.umask(PRIVATE_UMASK)
    if _original_umask is None:
        _original_umask = previous
    return _original_umask


def child_umask() -> int:
    """The umask for programs started for the creator (the browser), for ``Popen(umask=)``.

    Returns:
        The umask the app started with, or -1 (``Popen``'s "leave it") when the app never
        changed it.
    """
    return -1 if _original_umask is None else _original_umask


def _owned_by_us(info: os.stat_result) -> bool:
    if sys.platform == "win32":  # never asked there: Windows files carry no owner uid
        return True
    return info.st_uid == os.getuid()


def private_dir(path: Path, *, parents: bool = True) -> Path:
    """Make ``path`` a folder only this account can use, and return it.

    A missing folder is created 0700 (missing parents too, as the XDG spec asks, unless
    ``parents`` is False); an existing one of ours that others may read or enter is
    tightened to 0700.

    Raises:
        NotPrivateError: ``path`` is a link, not a folder, or another account's.
        OSError: The folder could not be created or opened (a full disk, no permission).
    """
    if sys.platform == "win32":
        path.mkdir(parents=parents, exist_ok=True)
        return path
    if parents:
        for parent in reversed(path.parents):
            if not parent.exists():
                _make_dir(parent)
    _make_dir(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise NotPrivateError(path, detail=f"not a folder: {exc.strerror}") from None
        _refuse_if_foreign(path)
        raise
    try:
        info = os.fstat(fd)
        if not _owned_by_us(info):
            raise NotPrivateError(path, detail=f"folder owned by uid {info.st_uid}")
        if stat.S_IMODE(info.st_mode) != DIR_MODE:
            os.fchmod(fd, DIR_MODE)
    finally:
        os.close(fd)
    return path


def _refuse_if_foreign(path: Path) -> None:
    """Raise NotPrivateError when ``path`` (which could not be opened) is another's."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if not _owned_by_us(info):
        raise NotPrivateError(path, detail=f"owned by uid {info.st_uid}") from None


def _make_dir(path: Path) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, DIR_MODE)


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """Open (creating it when missing) a file only this account can read; return its fd.

    The file is created 0600, and set to 0600 if it existed with another mode.

    Raises:
        NotPrivateError: ``path`` is a link, not a regular file, or another account's.
        OSError: It could not be opened.
    """
    try:
        fd = os.open(path, flags | os.O_CREAT | _NOFOLLOW | _CLOEXEC | _BINARY, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotPrivateError(path, detail="the file is a link") from None
        raise
    if sys.platform == "win32":
        return fd
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _owned_by_us(info):
            raise NotPrivateError(path, detail=f"not a file of ours (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open`: the file is created 0600 (see :func:`open_private`)."""
    return open_private(Path(path), flags)


def tighten_file(path: Path) -> bool:
    """Set an existing regular file of ours to 0600; return whether it is private now.

    Missing files, links and other accounts' files are left alone (False).
    """
    if sys.platform == "win32":
        return path.is_file()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _owned_by_us(info):
            return False
        if stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
        return True
    finally:
        os.close(fd)


def is_private_dir(path: Path) -> bool:
    """Whether ``path`` is an existing folder of ours that nobody else may read or enter."""
    if sys.platform == "win32":
        return path.is_dir()
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _owned_by_us(info) and not info.st_mode & PRIVATE_UMASK


__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "child_umask",
    "is_private_dir",
    "open_private",
    "private_dir",
    "private_opener",
    "restrict_umask",
    "tighten_file",
]
