"""The real window under Xvfb with Chromium and a Secret Service: connect, quit, restore.

The window is driven by its keyboard shortcut (xdotool); headless Chromium plays the
creator's browser; a second launch only activates the first; after quitting, the saved
practice connection is restored from the keyring.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.browser import browser_env, chromium_path, wait_for_result
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.xvfb, pytest.mark.real_keyring]


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


def test_connect_in_the_real_window_then_restore(xvfb_display: str, tmp_path: Path) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    result = tmp_path / "browser.json"
    env = {
        **os.environ,
        **browser_env("allow", result),
        "DISPLAY": xvfb_display,
        "QT_QPA_PLATFORM": "xcb",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }

    def launch(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "main.py", "--sandbox", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    app = launch()
    try:
        window = xdotool(xvfb_display, "search", "--sync", "--name", "^Kit Desktop")
        window = window.splitlines()[0]
        xdotool(xvfb_display, "windowfocus", "--sync", window, "key", "ctrl+k")
        page = wait_for_result(result, timeout=60)
        assert "Connected as Sandbox Creator Studio (creator@example.com)" in page.text

        second = launch()
        out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err
        assert app.poll() is None, "the first instance keeps running"

        xdotool(xvfb_display, "windowfocus", "--sync", window, "key", "ctrl+q")
        deadline = time.monotonic() + 15
        while app.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        _, app_err = app.communicate(timeout=5)
        assert app.returncode == 0, app_err
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()

    status = launch("status")
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err
    assert "Connected to Kit as Sandbox Creator Studio (creator@example.com)." in out
    assert "Saved in: GNOME Keyring" in out
    bye = launch("disconnect")
    out, err = bye.communicate(timeout=60)
    assert bye.returncode == 0, err
