"""Where the app finds its bundled resources and keeps its own files (no Qt)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kit_desktop.private_files import is_private_dir, private_dir

APP_DIR_NAME = "kit-desktop"
#: The longest socket path Qt's QLocalServer accepts here (``sun_path`` less two bytes).
SOCKET_PATH_MAX = 102 if sys.platform == "darwin" else 106
#: The longest file name :func:`runtime_dir` keeps room for by default.
RUNTIME_NAME_ROOM = 32


def resources_dir() -> Path:
    """Return the ``resources/`` folder, from a source checkout or a frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Return the path of one file under ``resources/``."""
    return resources_dir().joinpath(*parts)


def data_dir() -> Path:
    """Return the per-user data folder (logs live here), honouring ``XDG_DATA_HOME``."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_DIR_NAME


def private_data_dir() -> Path:
    """Return the data folder, created 0700 or tightened to it.

    Raises:
        NotPrivateError: The folder is another account's, or a link.
    """
    return private_dir(data_dir())


def runtime_dir(room: int = RUNTIME_NAME_ROOM) -> Path:
    """Return a folder only this account can use, for sockets and other rendezvous points.

    The first that works, in order: ``$XDG_RUNTIME_DIR/kit-desktop`` when
    ``XDG_RUNTIME_DIR`` is a folder of ours nobody else may enter; ``run`` in the data
    folder when a socket path (with a name of ``room`` bytes) fits there; else
    ``kit-desktop-<uid>`` in the temporary folder (``TMPDIR``, else ``/tmp``), which
    anyone could have made first: it is used only if it is ours and not a link.

    Args:
        room: The longest file name that will be put in the folder.

    Raises:
        NotPrivateError: The folder to use is another account's, or a link.
    """

    def fits(folder: Path) -> bool:
        return len(os.fsencode(folder)) + 1 + room <= SOCKET_PATH_MAX

    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime) and is_private_dir(Path(runtime)):
        candidate = Path(runtime) / APP_DIR_NAME
        if fits(candidate):
            return private_dir(candidate, parents=False)
    candidate = data_dir() / "run"
    if sys.platform == "win32" or fits(candidate):
        private_data_dir()
        return private_dir(candidate, parents=False)
    temp = os.environ.get("TMPDIR", "")
    base = Path(temp if os.path.isabs(temp) else "/tmp")  # noqa: S108 - checked to be ours
    return private_dir(base / f"{APP_DIR_NAME}-{os.getuid()}", parents=False)
