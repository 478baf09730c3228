"""The command line end to end: subprocesses, a real sandbox, Chromium and a Secret Service."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit_desktop.cli import REPLACES_NOTE
from kit_desktop.sandbox import SandboxServer
from tests.helpers.browser import browser_env, chromium_path, open_in_thread, wait_for_result
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


def secret_service_available() -> bool:
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


class Kit:
    """A sandbox with its own client ID (its own keyring profile) and a CLI runner."""

    def __init__(self, server: SandboxServer, client_id: str, home: Path) -> None:
        self.server = server
        self.env = {
            **os.environ,
            "KIT_CLIENT_ID": client_id,
            "KIT_AUTHORIZE_URL": f"{server.base_url}/v4/oauth/authorize",
            "KIT_TOKEN_URL": f"{server.base_url}/v4/oauth/token",
            "KIT_REVOKE_URL": f"{server.base_url}/v4/oauth/revoke",
            "KIT_API_URL": server.base_url,
            "KIT_REDIRECT_URI": "http://127.0.0.1:0/callback",
            "XDG_DATA_HOME": str(home / "data"),
            "PYTHONPATH": str(ROOT),
        }

    def popen(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "main.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        process = self.popen(*args, env=env)
        out, err = process.communicate(timeout=60)
        return process.returncode, out, err

    def log_text(self) -> str:
        logs = Path(self.env["XDG_DATA_HOME"]) / "kit-desktop" / "logs"
        return "".join(p.read_text(encoding="utf-8") for p in sorted(logs.glob("*.log*")))


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    client_id = "cli-e2e-" + secrets.token_hex(8)
    with SandboxServer(
        client_id=client_id, loopback_any_port=True, redirect_uris=["http://127.0.0.1:1/callback"]
    ) as server:
        yield Kit(server, client_id, tmp_path)


def test_connect_status_request_refresh_disconnect_with_chromium(kit: Kit, tmp_path: Path) -> None:
    require(secret_service_available(), "a Secret Service (run through tests/run-suite.sh)")
    result = tmp_path / "browser.json"
    code, out, err = kit.run("connect", env=browser_env("allow", result))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{kit.server.base_url}/v4/oauth/authorize?")
    assert "code_challenge_method=S256" in lines[0]
    assert lines[-1] == "Connected to Kit as Sandbox Creator Studio (creator@example.com)."
    assert "Waiting for you to click Allow" in err
    page = wait_for_result(result)
    assert "/done" in page.url
    assert "connected" in page.text.lower()
    assert "go back to the terminal" in page.text, "the command line has no window to return to"
    assert "return to Kit Desktop" not in page.text

    code, out, err = kit.run("status")
    assert code == 0, err
    assert "Connected to Kit as Sandbox Creator Studio" in out
    assert "Saved in: GNOME Keyring" in out

    code, out, err = kit.run("request", "GET", "/v4/account")
    assert code == 0, err
    assert '"name": "Sandbox Creator Studio"' in out

    before = kit.server.oauth.token_requests
    code, out, err = kit.run("refresh")
    assert code == 0, err
    assert out.startswith("Access renewed")
    assert kit.server.oauth.token_requests == before + 1

    code, out, err = kit.run("status", "--json")
    assert code == 0 and '"connected": true' in out

    code, out, err = kit.run("disconnect")
    assert code == 0, err
    assert "Kit Desktop's access to your Kit account is cancelled at Kit" in out
    code, out, _ = kit.run("status")
    assert code == 1 and out.strip() == "Not connected to Kit."
    leaked = [s for s in kit.server.oauth.issued_secrets() if s in kit.log_text()]
    assert leaked == []


def test_connect_while_connected_says_it_replaces_the_connection(kit: Kit, tmp_path: Path) -> None:
    require(secret_service_available(), "a Secret Service (run through tests/run-suite.sh)")
    code, _, err = kit.run("connect", env=browser_env("allow", tmp_path / "first.json"))
    assert code == 0, err
    assert REPLACES_NOTE not in err, "nothing to replace the first time"
    code, out, err = kit.run("connect", env=browser_env("allow", tmp_path / "second.json"))
    assert code == 0, err
    assert REPLACES_NOTE in err
    assert "Connected to Kit as" in out


def test_deny_in_chromium_is_explained_and_nothing_is_stored(kit: Kit, tmp_path: Path) -> None:
    result = tmp_path / "browser.json"
    code, _out, err = kit.run("connect", env=browser_env("deny", result))
    assert code == 1
    assert "You chose not to connect" in err
    page = wait_for_result(result)
    assert "go back to the terminal" in page.text and "return to Kit Desktop" not in page.text
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    code, _, _ = kit.run("status")
    assert code == 1


def test_no_browser_prints_the_url_and_the_test_opens_it(kit: Kit) -> None:
    process = kit.popen("connect", "--no-browser", env={"BROWSER": "false"})
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith(kit.server.base_url)
    job = open_in_thread(url, "allow")
    out, err = process.communicate(timeout=60)
    page = job.wait(30)
    assert process.returncode == 0, err
    assert "Open the link above in your browser" in err
    assert out.strip().endswith("Connected to Kit as Sandbox Creator Studio (creator@example.com).")
    assert "connected" in page.text.lower()


def test_without_a_keyring_connect_refuses_and_kit_issues_nothing(kit: Kit, tmp_path: Path) -> None:
    """Each command is its own process: a connection only in memory would be lost at once."""
    env = {**browser_env("allow", tmp_path / "b.json"), "DBUS_SESSION_BUS_ADDRESS": ""}
    code, out, err = kit.run("connect", env=env)
    assert code == 1, err
    assert "the command line will not be able to keep the connection" in err  # said at once
    last = err.strip().splitlines()[-1]
    assert last.startswith("Not connected: the command line can't keep a connection")
    assert "use the Kit Desktop window" in last
    assert "Connected to Kit" not in out
    oauth = kit.server.oauth  # no token was issued, or every one was revoked
    assert [s for s in oauth.issued_secrets() if oauth.check_access_token(s).status == "ok"] == []
    code, _, _ = kit.run("status", env={"DBUS_SESSION_BUS_ADDRESS": ""})
    assert code == 1


def test_debug_logging_leaks_no_code_state_verifier_or_token(kit: Kit, tmp_path: Path) -> None:
    require(secret_service_available(), "a Secret Service (run through tests/run-suite.sh)")
    debug = {"KIT_DEBUG": "1"}
    code, out, err = kit.run("connect", env={**browser_env("allow", tmp_path / "b.json"), **debug})
    assert code == 0, err
    url = out.splitlines()[0]
    state = url.split("state=")[1].split("&")[0]
    for command in (("refresh",), ("request", "GET", "/v4/tags"), ("disconnect",)):
        assert kit.run(*command, env=debug)[0] == 0
    text = kit.log_text()
    assert "DEBUG" in text
    secrets_seen = kit.server.oauth.issued_secrets() | {state}
    assert secrets_seen
    assert [s for s in secrets_seen if s in text] == []
    assert [s for s in secrets_seen if s in err] == []


def test_failures_are_one_plain_line(kit: Kit) -> None:
    code, _, err = kit.run("request", "GET", "https://evil.example/v4/account")
    assert code == 1
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    code, _, err = kit.run("refresh")
    assert code == 1 and "Not connected" in err
    code, _, err = kit.run(
        "request", "GET", "/v4/account", env={"KIT_TOKEN_URL": "http://x.example/t"}
    )
    assert code == 2 and "https" in err
