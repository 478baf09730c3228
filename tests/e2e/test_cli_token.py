"""``kit-desktop token`` for scripts, end to end (issue 17, item 1).

Each command is the real ``main.py`` in a subprocess against a sandbox over HTTP, with the
real Secret Service (through tests/run-suite.sh) holding the tokens.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.connection import Connection
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.sandbox.visitor import ApprovingVisitor
from kit_desktop.services import build_services
from tests.helpers.gui_apps import kit_settings
from tests.helpers.kit_env import kit_environment
from tests.helpers.main_process import popen_main
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.real_keyring


class Kit:
    """A sandbox, the keyring entry its connection uses, and the command line."""

    def __init__(self, server: SandboxServer, home: Path) -> None:
        self.server = server
        self.env = kit_environment(server.base_url, server.app.client_id, home)
        settings = kit_settings(server)
        self.store = KeyringTokenStore(profile_key(settings.token_url, server.app.client_id))
        self.settings = settings

    def connect(self) -> dict[str, Any]:
        """Connect as the app does (a browser stand-in clicks Allow); return what is saved."""
        connection = Connection(build_services(self.settings))
        receiver, attempt = connection.begin_attempt(timeout=20)
        with receiver:
            assert ApprovingVisitor().open(attempt.url)
            response = receiver.wait()
        connection.keep(connection.exchange(response.code, attempt))
        saved = self.store.load()
        assert saved is not None
        return saved

    def make_due(self) -> dict[str, Any]:
        """Make the saved access token due for renewal; return what is saved."""
        saved = self.store.load()
        assert saved is not None
        saved["expires_at"] = time.time() + 10
        self.store.save(saved)
        return saved

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return popen_main(*args, env={**self.env, **(env or {})})

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        process = self.popen(*args, env=env)
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err

    def api(self, token: str) -> int:
        answer = requests.get(
            f"{self.server.base_url}/v4/account",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return answer.status_code


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    client_id = "token-" + secrets.token_hex(6)
    with SandboxServer(client_id=client_id, loopback_any_port=True) as server:
        made = Kit(server, tmp_path)
        yield made
        made.store.delete()


def test_the_token_alone_on_one_line_and_it_works_at_kit(kit: Kit) -> None:
    saved = kit.connect()

    code, out, err = kit.run("token")

    assert code == 0, err
    assert out == saved["access_token"] + "\n"
    assert err == ""
    assert kit.api(out.strip()) == 200


def test_a_token_due_for_renewal_is_renewed_first_and_saved(kit: Kit) -> None:
    kit.connect()
    stale = kit.make_due()
    before = kit.server.oauth.refresh_requests

    code, out, err = kit.run("token")

    assert code == 0, err
    fresh = out.strip()
    assert fresh != stale["access_token"]
    assert kit.server.oauth.refresh_requests == before + 1
    saved = kit.store.load()
    assert saved is not None and saved["access_token"] == fresh
    assert kit.api(fresh) == 200


def test_two_scripts_asking_at_once_make_one_renewal(kit: Kit) -> None:
    kit.connect()
    kit.make_due()
    before = kit.server.oauth.refresh_requests
    kit.server.faults.set("/v4/oauth/token", Fault("delay", seconds=1.0))

    processes = [kit.popen("token") for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in processes]

    kit.server.faults.clear()
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0], "both got the one renewed token"
    assert kit.server.oauth.refresh_requests == before + 1


def test_header_and_json_shapes(kit: Kit) -> None:
    saved = kit.connect()

    code, out, err = kit.run("token", "--header")
    assert code == 0, err
    assert out == f"Authorization: Bearer {saved['access_token']}\n"

    code, out, err = kit.run("token", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["access_token"] == saved["access_token"]
    assert info["token_type"] == "Bearer"
    assert info["account"]["email"] == "creator@example.com"
    assert info["expires_at"].endswith("Z") or "+" in info["expires_at"]
    assert info["problem"] is None


def test_curl_reads_the_header_from_standard_input(kit: Kit) -> None:
    """The README's recipe: the token never appears on curl's command line."""
    require(subprocess.run(["curl", "--version"], capture_output=True).returncode == 0, "curl")
    kit.connect()
    with kit.popen("token", "--header") as token:
        curl = subprocess.run(
            ["curl", "-s", "-H", "@-", f"{kit.server.base_url}/v4/account"],
            stdin=token.stdout,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert token.stderr is not None and token.stderr.read() == ""
    assert token.returncode == 0
    assert json.loads(curl.stdout)["account"]["primary_email_address"] == "creator@example.com"


def test_not_connected_says_so_and_prints_no_token(kit: Kit) -> None:
    code, out, err = kit.run("token")
    assert code == 1
    assert out == ""
    assert err.strip() == "Not connected to Kit. Run connect first."


def test_without_secure_storage_it_says_why(kit: Kit) -> None:
    code, out, err = kit.run("token", env={"DBUS_SESSION_BUS_ADDRESS": ""})
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "Not connected to Kit. Run connect first."
    assert "secure storage is not available" in err
    assert "Traceback" not in err


def test_a_refused_renewal_says_reconnect_and_prints_no_token(kit: Kit) -> None:
    saved = kit.connect()
    kit.make_due()
    services = build_services(kit.settings)
    services.oauth.revoke(saved["refresh_token"], "refresh_token")

    code, out, err = kit.run("token")

    assert code == 1 and out == ""
    assert "reconnect" in err.lower()
    assert "Traceback" not in err
