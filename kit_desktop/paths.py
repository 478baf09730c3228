"""Where the app finds its bundled resources and keeps its own files (no Qt)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "kit-desktop"


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
