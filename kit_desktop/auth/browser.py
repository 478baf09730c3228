"""Open the system browser on the authorization URL, safely (no shell, checked URL)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import webbrowser
from collections.abc import Callable
from urllib.parse import urlsplit

from kit_desktop.config import is_loopback_host
from kit_desktop.private_files import child_umask

log = logging.getLogger(__name__)

BrowserOpener = Callable[[str], bool]
_FROZEN_VARS = ("LD_LIBRARY_PATH", "XDG_DATA_DIRS", "QT_PLUGIN_PATH", "SSL_CERT_FILE")


def safe_to_open(url: str) -> bool:
    """Whether ``url`` is https (or http on this computer) with no credentials or controls."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback_host(parts.hostname)
    )
    clean = not any(ch in url for ch in "\r\n\t\x00 ") and not url.startswith("-")
    return secure and clean and bool(parts.hostname) and not parts.username


def original_environment() -> dict[str, str]:
    """Return the environment with PyInstaller's library-path changes undone (Linux)."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        return env
    for name in _FROZEN_VARS:
        original = env.pop(f"{name}_ORIG", None)
        if original is not None:
            env[name] = original
        else:
            env.pop(name, None)
    return env


def open_system_browser(url: str) -> bool:
    """Open ``url`` in the user's browser; return whether a browser was started.

    When frozen on Linux, ``xdg-open`` runs with the original environment (so it does not
    load the bundle's libraries) and the umask the app started with (so a browser it
    starts saves downloads as the creator expects). Elsewhere Python's :mod:`webbrowser`
    is used (it honours ``BROWSER``; it cannot be given a umask). Never through a shell.
    """
    if not safe_to_open(url):
        log.warning("refused to open an unsafe authorization URL")
        return False
    xdg = shutil.which("xdg-open")
    if getattr(sys, "frozen", False) and sys.platform.startswith("linux") and xdg:
        try:
            subprocess.Popen(  # noqa: S603 - fixed program, URL checked above, no shell
                [xdg, url],
                env=original_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                umask=child_umask(),  # the creator's own, not the app's private 077
            )
        except OSError:
            log.warning("xdg-open could not be started")
            return False
        return True
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        log.warning("no browser could be opened")
        return False
