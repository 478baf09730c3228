"""The command line starts fast: only what a command needs, the browser before the heavy part.

Each test runs a fresh interpreter, since what is imported is the point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit_desktop.sandbox import SandboxServer
from tests.helpers.kit_env import kit_environment
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "cli-start-client"
HEAVY = ("requests", "keyring", "urllib3", "kit_desktop.sandbox", "kit_desktop.services")


@pytest.fixture
def kit() -> Iterator[SandboxServer]:
    with SandboxServer(
        client_id=CLIENT,
        auto_approve=True,
        loopback_any_port=True,
        redirect_uris=["http://127.0.0.1:0/callback"],
    ) as server:
        yield server


def environment(server: SandboxServer, tmp_path: Path) -> dict[str, str]:
    """The app pointed at ``server``; tokens in the run's Secret Service (run-suite.sh)."""
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    env = kit_environment(server.base_url, CLIENT, tmp_path)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env


def run(code: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_loading_the_command_line_loads_no_http_keyring_or_practice_code() -> None:
    code = f"import sys, kit_desktop.cli\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    assert run(code, dict(os.environ)) == ["[]"]


def test_connect_opens_the_browser_before_loading_http_and_keyring(
    kit: SandboxServer, tmp_path: Path
) -> None:
    """The libraries load while the browser is away; the connection still completes."""
    code = (
        "import sys, threading, urllib.request\n"
        "from kit_desktop.cli import Cli, add_commands\n"
        "from kit_desktop.config import load_settings\n"
        "import argparse\n"
        "parser = argparse.ArgumentParser(); add_commands(parser)\n"
        "def opener(url):\n"
        f"    print('loaded when the browser opened:', sorted(m for m in {HEAVY!r} "
        "if m in sys.modules))\n"
        "    threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=30).read())"
        ".start()\n"
        "    return True\n"
        "code = Cli(load_settings(), opener=opener).run(parser.parse_args(['connect']))\n"
        "print('exit', code)\n"
    )
    lines = run(code, environment(kit, tmp_path))
    assert "loaded when the browser opened: []" in lines
    assert lines[-2].startswith("Connected to Kit as") and lines[-1] == "exit 0"


def test_a_command_process_turns_the_collector_off_and_freezes_at_exit(tmp_path: Path) -> None:
    """Only a command run as its own process; a caller's process (a test) is left alone."""
    code = (
        "import gc, sys, atexit\n"
        "from kit_desktop.app import main\n"
        "atexit.register(lambda: print('at exit', gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "main(['status'])\n"
        "print('called', gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "sys.argv = ['kit-desktop', 'status']\n"
        "main()\n"
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path)}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    lines = run(code, env)
    assert "called True False" in lines
    assert lines[-1] == "at exit False True"
