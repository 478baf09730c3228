"""The "Copy diagnostics" text: versions, system, storage, redirect URI, error codes; no secrets."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion

from kit_desktop import APP_NAME, __version__
from kit_desktop.config import Settings
from kit_desktop.http import environment_overrides
from kit_desktop.log import log_file, redact
from kit_desktop.state import SessionView


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def diagnostics_text(settings: Settings, view: SessionView) -> str:
    """Return a plain-text report a creator can paste into a support message."""
    storage = view.storage
    lines = [
        f"{APP_NAME} {__version__}{' (frozen)' if getattr(sys, 'frozen', False) else ''}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"Qt {qVersion()}, PySide6 {pyside_version}, requests {_version('requests')}, "
        f"keyring {_version('keyring')}",
        f"Mode: {'practice (built-in sandbox)' if view.practice else 'Kit'}",
        f"Authorization endpoint: {settings.authorize_url}",
        f"API: {settings.api_url}",
        f"Redirect URIs: {', '.join(settings.redirect_uris)}",
        f"Route: {settings.route_summary}",
        f"Relay page: {settings.relay_url or 'none'}",
        f"App Store installs: {settings.install_entry_url}",
        *([f"Practice App Store: {settings.api_url}/apps"] if view.practice else []),
        f"Token request body: {settings.token_body}",
        f"Network overrides: {'; '.join(environment_overrides()) or 'none'}",
        f"Storage: {storage.location if storage else 'not checked yet'}"
        f"{'' if storage is None or storage.secure else ' (not secure: this session only)'}",
        f"State: {view.phase.value}",
        f"Last error: {view.last_error_code or 'none'}",
        f"Log file: {log_file()}",
    ]
    return redact("\n".join(lines))
