"""Kit's own refusals, through the real command line against a standalone practice Kit.

The sandbox runs as its own process with one of its Kit-behaviour flags; ``main.py``
connects to it (a browser stand-in clicks Allow) and then meets the behaviour.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from kit_desktop import words
from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.config import load_settings
from kit_desktop.errors import ReconnectNeededError
from tests.helpers.kit_env import kit_environment
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "cli-behaviours-client"


class Kit:
    """A standalone sandbox with ``flags``, and the environment that points the app at it."""

    def __init__(self, tmp_path: Path, *flags: str) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "kit_desktop.sandbox", "--port", "0", "--auto-approve"),
                *("--loopback-any-port", "--client-id", CLIENT),
                *("--redirect-uri", "http://127.0.0.1:1/callback", *flags),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        base = self.process.stdout.readline().strip().rstrip("/")
        assert base.startswith("http://127.0.0.1:"), base
        self.env = kit_environment(base, CLIENT, tmp_path)
        self.env.pop("PYTHON_KEYRING_BACKEND", None)  # the Secret Service keeps it between runs

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "main.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def connect(self) -> subprocess.CompletedProcess[str]:
        """``connect --no-browser``, with a stand-in that follows the printed link."""
        process = subprocess.Popen(
            [sys.executable, "main.py", "connect", "--no-browser"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        threading.Thread(
            target=lambda: urllib.request.urlopen(url, timeout=30).read(), daemon=True
        ).start()
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(process.args, process.returncode, url + "\n" + out, err)

    def close(self) -> None:
        self.run("disconnect")  # nothing left in the keyring
        self.process.terminate()
        self.process.communicate(timeout=10)  # closes the pipe too


pytestmark = pytest.mark.real_keyring


@pytest.fixture
def kit_with(tmp_path: Path) -> Iterator[Callable[..., Kit]]:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    started: list[Kit] = []

    def start(*flags: str) -> Kit:
        kit = Kit(tmp_path, *flags)
        started.append(kit)
        return kit

    yield start
    for kit in started:
        kit.close()


def test_account_without_app_access_connects_and_every_command_says_check_the_plan(
    kit_with: Callable[..., Kit],
) -> None:
    kit = kit_with("--account-lost-access")

    connected = kit.connect()
    status = kit.run("status")
    request = kit.run("request", "GET", "/v4/tags")

    assert connected.returncode == 0, connected.stderr
    assert "Check your plan and billing in Kit" in connected.stderr
    assert status.returncode == 0 and "Check your plan and billing in Kit" in status.stderr
    assert request.returncode == 1
    line = request.stderr.strip().splitlines()[-1]
    assert line.startswith("Kit says:") and "connecting again will not help" in line
    assert "Traceback" not in request.stderr + status.stderr


def test_a_permission_refusal_names_who_can_change_it(kit_with: Callable[..., Kit]) -> None:
    kit = kit_with("--forbidden")
    assert kit.connect().returncode == 0

    request = kit.run("request", "GET", "/v4/tags")

    assert request.returncode == 1
    assert request.stderr.strip().splitlines()[-1] == (
        "Kit answered 403 Forbidden. Your Kit account is not allowed to do this. If it should "
        "be, ask the account's owner, or Kit's support. Kit says: You do not have sufficient "
        "permissions to access this resource. Please contact support."
    )


def test_kits_429_says_when_to_try_again(kit_with: Callable[..., Kit]) -> None:
    kit = kit_with("--force-429")
    assert kit.connect().returncode == 0

    request = kit.run("request", "GET", "/v4/tags")

    assert request.returncode == 1
    assert request.stderr.strip().splitlines()[-1] == (
        "Kit asked Kit Desktop to slow down (too many requests on this connection; another "
        "program may be using it too); try again in 2 s."
    )


def test_an_expired_refresh_token_in_kits_error_shape_says_reconnect(
    kit_with: Callable[..., Kit],
) -> None:
    kit = kit_with("--token-errors", "kit", "--refresh-token-lifetime", "1")
    assert kit.connect().returncode == 0
    time.sleep(1.2)

    renewed = kit.run("refresh")
    status = kit.run("status")

    assert renewed.returncode == 1
    assert renewed.stderr.strip().splitlines()[-1] == ReconnectNeededError.default_message
    assert status.returncode == 1 and "Not connected to Kit." in status.stdout


def test_disconnect_revokes_at_kit_although_kit_ignores_json_revokes(
    kit_with: Callable[..., Kit],
) -> None:
    """Kit answers 200 to a JSON revoke and revokes nothing; the app sends a form."""
    kit = kit_with("--json-revoke", "ignored")
    assert kit.connect().returncode == 0
    settings = load_settings(kit.env)
    assert settings.client_id is not None
    saved = KeyringTokenStore(profile_key(settings.token_url, settings.client_id)).load()
    assert saved is not None
    access = str(saved["access_token"])

    gone = kit.run("disconnect")

    assert gone.returncode == 0
    assert gone.stdout.strip() == words.REVOKED
    answer = requests.get(
        settings.api_url + "/v4/account", headers={"Authorization": f"Bearer {access}"}, timeout=10
    )
    assert answer.status_code == 401, "revoked at Kit, not only forgotten here"
