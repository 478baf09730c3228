"""Two app processes, one keyring entry, both due to refresh: exactly one refresh at Kit.

The real Secret Service holds the tokens (run through tests/run-suite.sh); each process
is the real CLI. The sandbox's token endpoint is slowed down so the two refreshes overlap.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kit_desktop.auth.refresh_lock import ProcessLock, lock_for_profile
from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.config import Settings
from kit_desktop.connection import Connection
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.sandbox.visitor import ApprovingVisitor
from kit_desktop.services import build_services
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]


def _settings(server: SandboxServer, client_id: str) -> Settings:
    return Settings(
        client_id=client_id,
        authorize_url=f"{server.base_url}/v4/oauth/authorize",
        token_url=f"{server.base_url}/v4/oauth/token",
        revoke_url=f"{server.base_url}/v4/oauth/revoke",
        api_url=server.base_url,
        redirect_uris=("http://127.0.0.1:0/callback",),
    )


def _env(server: SandboxServer, client_id: str, data: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KIT_CLIENT_ID": client_id,
        "KIT_AUTHORIZE_URL": f"{server.base_url}/v4/oauth/authorize",
        "KIT_TOKEN_URL": f"{server.base_url}/v4/oauth/token",
        "KIT_REVOKE_URL": f"{server.base_url}/v4/oauth/revoke",
        "KIT_API_URL": server.base_url,
        "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",
        "XDG_DATA_HOME": str(data),
    }


@pytest.mark.real_keyring
def test_c41_two_processes_refresh_once_and_both_keep_working(tmp_path: Path) -> None:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    client_id = "lock-e2e-" + secrets.token_hex(8)
    with SandboxServer(client_id=client_id, loopback_any_port=True) as server:
        settings = _settings(server, client_id)
        connection = Connection(build_services(settings))
        receiver, attempt = connection.begin_attempt(timeout=20)
        visitor = ApprovingVisitor()
        with receiver:
            assert visitor.open(attempt.url)
            response = receiver.wait()
        connection.keep(connection.exchange(response.code, attempt))
        store = KeyringTokenStore(profile_key(settings.token_url, client_id))
        payload = store.load()
        assert payload is not None
        payload["expires_at"] = time.time() - 60  # both processes find it due
        store.save(payload)
        before = server.oauth.refresh_requests
        server.faults.set("/v4/oauth/token", Fault("delay", seconds=1.0))

        env = _env(server, client_id, tmp_path / "data")
        command = [sys.executable, "main.py", "request", "GET", "/v4/account"]
        processes = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=60) for process in processes]
        for process, (out, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err
            assert "account" in json.loads(out)
        assert server.oauth.refresh_requests - before == 1
        server.faults.clear()
        final = store.load()
        assert final is not None and final["access_token"] != payload["access_token"]
        store.delete()


@pytest.mark.expected_log(
    r"^another copy of the app held the refresh lock too long$",
    logger="kit_desktop.auth.refresh_lock",
)
def test_the_lock_is_exclusive_between_holders(tmp_path: Path) -> None:
    first = lock_for_profile("sandbox#a", folder=tmp_path)
    second = ProcessLock(first.path, wait=0.3)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with first.held() as taken:
            assert taken
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5)
    with second.held() as taken:
        assert not taken, "a second holder gives up after its wait, and says so"
    release.set()
    holder.join(5)
    with second.held() as taken:
        assert taken
    assert lock_for_profile("sandbox#a", folder=tmp_path).path == first.path
    assert lock_for_profile("sandbox#b", folder=tmp_path).path != first.path


def test_a_lock_held_by_another_process_is_waited_for(tmp_path: Path) -> None:
    lock = lock_for_profile("https://api.kit.com#x", folder=tmp_path)
    script = (
        "import sys, time; from pathlib import Path; "
        "from kit_desktop.auth.refresh_lock import ProcessLock; "
        "lock = ProcessLock(Path(sys.argv[1]))\n"
        "with lock.held():\n    print('held', flush=True); time.sleep(1.0)\n"
        "    print('released', flush=True)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(lock.path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        waiting = ProcessLock(lock.path, wait=10)
        with waiting.held() as taken:
            assert taken
            released = child.stdout.readline().strip()
            assert released == "released", "taken only after the other process let go"
        child.wait(10)


@pytest.mark.expected_log(
    r"^refresh lock unavailable \(.*\); refreshing without it$",
    logger="kit_desktop.auth.refresh_lock",
)
def test_no_lock_folder_still_refreshes(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    lock = ProcessLock(blocked / "locks" / "x.lock")
    with lock.held() as taken:
        assert not taken
