"""The frozen one-folder app (`make dist-onedir`) does what the source tree does.

CI builds it before the suite runs (`make test` depends on it). The app runs with the
suite's real Secret Service; the browser is opened through xdg-open with PyInstaller's
library paths undone; the window paints on a real X server; every bundled library
resolves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kit_desktop import APP_NAME, __version__
from tests.helpers.browser import browser_env, chromium_path, wait_for_result
from tests.helpers.frozen_build import APP, fresh_onedir
from tests.helpers.realparts import require

BUNDLE = APP.parent / "_internal"


@pytest.fixture(scope="module")
def frozen() -> Path:
    return fresh_onedir()


def run(
    app: Path, *args: str, env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(app), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    env.update(extra)
    return env


def test_version_comes_from_the_one_source(frozen: Path, tmp_path: Path) -> None:
    done = run(frozen, "--version", env=app_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{APP_NAME} {__version__}"


@pytest.mark.real_keyring
def test_frozen_smoke_test_passes_with_the_secret_service(frozen: Path, tmp_path: Path) -> None:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    done = run(frozen, "--smoke-test", env=app_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [line for line in done.stdout.splitlines() if line.startswith("ok  ")]
    assert len(steps) == 6, done.stdout
    assert done.stdout.splitlines()[-1] == "smoke test passed"


def test_frozen_smoke_test_names_the_failing_step(frozen: Path, tmp_path: Path) -> None:
    env = app_env(tmp_path)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    done = run(frozen, "--smoke-test", env=env)
    assert done.returncode == 1
    assert "smoke test failed at step “find secure storage”" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.browser
@pytest.mark.real_keyring
def test_frozen_connect_opens_the_browser_with_the_original_environment(
    frozen: Path, tmp_path: Path
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    require(shutil.which("xdg-open") is not None, "xdg-open (apt-get install xdg-utils)")
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    result, seen = tmp_path / "browser.json", tmp_path / "browser-env.txt"
    browser = browser_env("allow", result)
    recorder = tmp_path / "browser.sh"
    recorder.write_text(
        f'#!/bin/sh\nenv > "{seen}"\nexec {browser["BROWSER"].replace(" %s", "")} "$@"\n',
        encoding="utf-8",
    )
    recorder.chmod(0o755)
    env = app_env(tmp_path, **{**browser, "BROWSER": f"{recorder} %s"})
    done = run(frozen, "--sandbox", "connect", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Connected" in done.stdout
    page = wait_for_result(result)
    assert "Connected" in page.text or "connected" in page.text.lower()
    browser_vars = dict(
        line.split("=", 1) for line in seen.read_text(encoding="utf-8").splitlines() if "=" in line
    )
    assert str(BUNDLE) not in browser_vars.get("LD_LIBRARY_PATH", "")
    assert str(BUNDLE) not in browser_vars.get("XDG_DATA_DIRS", "")
    status = run(frozen, "--sandbox", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert run(frozen, "--sandbox", "disconnect", env=env).returncode == 0


@pytest.mark.xvfb
def test_frozen_window_paints_on_a_real_x_server(
    frozen: Path, tmp_path: Path, xvfb_display: str
) -> None:
    env = app_env(tmp_path, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb", KIT_STARTUP_PROBE="300")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no keyring prompt on the display
    done = run(frozen, env=env)
    assert done.returncode == 0, done.stderr
    assert "kit-probe painted deferred=ok" in done.stdout
    assert "kit-probe idle" in done.stdout


def test_every_bundled_library_resolves(frozen: Path) -> None:
    search = os.pathsep.join([str(BUNDLE), str(BUNDLE / "PySide6" / "Qt" / "lib")])
    missing: dict[str, list[str]] = {}
    for path in BUNDLE.rglob("*.so*"):
        if not path.is_file():
            continue
        done = subprocess.run(
            ["ldd", str(path)],
            env={**os.environ, "LD_LIBRARY_PATH": search},
            capture_output=True,
            text=True,
            check=False,
        )
        lost = [line.split()[0] for line in done.stdout.splitlines() if "not found" in line]
        if lost:
            missing[str(path.relative_to(BUNDLE))] = lost
    assert missing == {}


def test_the_bundle_holds_what_the_app_needs_and_not_what_it_does_not(frozen: Path) -> None:
    for needed in (
        "resources/pages/page.html",
        "resources/icons/kit-desktop.png",
        "certifi/cacert.pem",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/imageformats/libqsvg.so",
    ):
        assert (BUNDLE / needed).exists(), needed
    for unwanted in (
        "PySide6/Qt/translations",
        "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
        "libgtk-3.so.0",
        "tkinter",
        "PySide6/QtDBus.abi3.so",
    ):
        assert not (BUNDLE / unwanted).exists(), unwanted
    assert "keyring-" in " ".join(p.name for p in BUNDLE.glob("keyring-*.dist-info"))
