"""Test set-up: offscreen Qt, a throwaway home, real parts, and no unexpected app warning."""

from __future__ import annotations

import os
import tempfile

# Before any Qt import: no display here, and never the user's real settings or keyring.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_HOME = tempfile.mkdtemp(prefix="kit-desktop-test-home-")
for _name, _sub in (
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_DATA_HOME", "data"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_STATE_HOME", "state"),
):
    os.environ[_name] = os.path.join(_HOME, _sub)
for _name in list(os.environ):
    if _name.startswith("KIT_"):
        del os.environ[_name]


def _without_network_overrides() -> None:
    """Drop this machine's proxy and CA variables: the app warns about each one it honours.

    A test that is about them sets them itself (catalogue 36 and 58).
    """
    from kit_desktop.http import OVERRIDE_VARIABLES

    for name in OVERRIDE_VARIABLES:
        os.environ.pop(name, None)


_without_network_overrides()

pytest_plugins = [
    "pytester",
    "tests.helpers.logfail",
    "tests.helpers.fixtures",
    "tests.helpers.browser_fixtures",
    "tests.helpers.xvfb",
]
