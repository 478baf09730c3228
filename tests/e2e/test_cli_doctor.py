"""``kit-desktop doctor``, end to end (issue 17, item 2).

Each run is the real ``main.py doctor`` in a subprocess against a sandbox over HTTP on the
relay route (the sandbox hosts the relay page, baked for the app's ports), with the real
Secret Service (through tests/run-suite.sh). Problems are real too: a socket holding a
port, no D-Bus session, a server whose ``Date`` is ten minutes off, a port that refuses.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.token_store import KeyringTokenStore, profile_key
from kit_desktop.connection import Connection
from kit_desktop.errors import KitError
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.visitor import ApprovingVisitor
from kit_desktop.services import build_services
from tests.helpers.gui_apps import kit_settings
from tests.helpers.kit_env import kit_environment
from tests.helpers.main_process import run_main
from tests.helpers.ports import listening_port, probed_ports, refused_port
from tests.helpers.realparts import require

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.real_keyring
NAMES = ["ports", "loopback", "storage", "clock", "network", "browser", "kit", "relay"]


class Doctor:
    """A sandbox on the relay route with fixed app ports, and ``main.py doctor`` against it."""

    def __init__(self, server: SandboxServer, uris: tuple[str, ...], home: Path) -> None:
        self.server = server
        self.uris = uris
        self.env = {
            **kit_environment(server.base_url, server.app.client_id, home),
            "KIT_ROUTE": "relay",
            "KIT_RELAY_URL": server.relay_url,
            "KIT_REDIRECT_URI": " ".join(uris),
            "BROWSER": "true",  # a browser Python's webbrowser finds (none is opened)
        }

    def run(self, *args: str, **env: str) -> tuple[int, str, str]:
        process = run_main("doctor", *args, env={**self.env, **env}, timeout=90)
        return process.returncode, process.stdout, process.stderr


@pytest.fixture
def doctor(tmp_path: Path) -> Iterator[Doctor]:
    require(bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")), "a Secret Service (run-suite.sh)")
    uris = tuple(f"http://127.0.0.1:{port}/callback" for port in probed_ports(2))
    client_id = "doctor-" + secrets.token_hex(6)
    with SandboxServer(
        client_id=client_id, app_redirect_uris=uris, loopback_any_port=True
    ) as server:
        yield Doctor(server, uris, tmp_path)


def line(out: str, title: str) -> str:
    """The line of ``out`` about ``title`` (with its "What to do" line, if any)."""
    lines = out.splitlines()
    for index, text in enumerate(lines):
        if f"  {title}: " in text:
            follow = lines[index + 1] if index + 1 < len(lines) else ""
            return text + ("\n" + follow if "What to do:" in follow else "")
    raise AssertionError(f"no line about {title!r} in:\n{out}")


def test_all_is_well_exit_0_and_every_line_ok(doctor: Doctor) -> None:
    code, out, err = doctor.run()

    assert code == 0, out + err
    checked = [text for text in out.splitlines() if text.startswith(("OK", "Warning", "Problem"))]
    assert len(checked) == len(NAMES)
    assert all(text.startswith("OK ") for text in checked), out
    assert "All is well" in out
    assert "Secret Service" in line(out, "Secure storage") or "GNOME Keyring" in out
    assert "matches this build" in line(out, "Relay page")


def test_a_port_taken_by_another_program_is_named_and_blocks_when_none_is_left(
    doctor: Doctor,
) -> None:
    with listening_port() as busy:
        code, out, _ = doctor.run(
            KIT_ROUTE="direct", KIT_REDIRECT_URI=f"http://127.0.0.1:{busy}/callback"
        )

    assert code == 1
    ports = line(out, "Ports for Kit's answer")
    assert ports.startswith("Problem")
    assert f"Port {busy} is used by another program" in ports
    assert "Connecting will fail" in ports
    assert f":{busy}" in ports  # how to see which program holds it


def test_a_taken_first_port_leaves_the_next_one_and_does_not_block(doctor: Doctor) -> None:
    with listening_port() as busy:
        uris = f"http://127.0.0.1:{busy}/callback {doctor.uris[1]}"
        code, out, _ = doctor.run(KIT_ROUTE="direct", KIT_REDIRECT_URI=uris)

    assert code == 0, out
    ports = line(out, "Ports for Kit's answer")
    assert ports.startswith("Warning")
    second = doctor.uris[1].split(":")[2].split("/")[0]
    assert f"Connecting will use port {second} instead" in ports
    assert "App Store installs cannot reach" in ports


def test_no_secure_storage_is_a_problem(doctor: Doctor) -> None:
    code, out, _ = doctor.run(DBUS_SESSION_BUS_ADDRESS="")

    assert code == 1
    storage = line(out, "Secure storage")
    assert storage.startswith("Problem")
    assert "command line cannot connect" in storage
    assert "What to do:" in storage


class _SkewedKit(BaseHTTPRequestHandler):
    """Answers anything with a ``Date`` ten minutes behind this computer's clock."""

    def do_HEAD(self) -> None:
        self.send_response_only(404)
        self.send_header("Date", formatdate(time.time() - 600, usegmt=True))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def test_a_clock_ten_minutes_off_is_named_with_its_skew(doctor: Doctor) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SkewedKit)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code, out, _ = doctor.run(KIT_API_URL=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()

    clock = line(out, "This computer's clock")
    assert clock.startswith("Warning"), out
    assert "10 minutes ahead of Kit's clock" in clock
    assert "What to do:" in clock
    assert code == 0  # expiry is worked out from Kit's lifetimes; connecting still works


def test_kit_out_of_reach_blocks(doctor: Doctor) -> None:
    with refused_port() as port:
        gone = f"http://127.0.0.1:{port}"
        code, out, _ = doctor.run(
            KIT_AUTHORIZE_URL=f"{gone}/v4/oauth/authorize",
            KIT_TOKEN_URL=f"{gone}/v4/oauth/token",
            KIT_REVOKE_URL=f"{gone}/v4/oauth/revoke",
            KIT_API_URL=gone,
        )

    assert code == 1
    kit = line(out, "Kit's servers")
    assert kit.startswith("Problem")
    assert f"127.0.0.1:{port}" in kit
    assert "cannot be reached" in kit


def test_a_relay_page_for_other_ports_is_not_the_expected_one(doctor: Doctor) -> None:
    other = " ".join(f"http://127.0.0.1:{port}/callback" for port in probed_ports(2))

    code, out, _ = doctor.run(KIT_REDIRECT_URI=other)

    assert code == 1
    relay = line(out, "Relay page")
    assert relay.startswith("Problem")
    assert "not the relay page this build expects" in relay
    served = " ".join(uri.split(":")[2].split("/")[0] for uri in doctor.uris)
    assert served in relay
    assert "make relay-site" in relay


def test_no_browser_is_a_warning_that_does_not_block(doctor: Doctor) -> None:
    env = {**doctor.env, "PATH": "/nonexistent"}
    for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    process = run_main("doctor", env=env, timeout=90)

    browser = line(process.stdout, "Web browser")
    assert browser.startswith("Warning"), process.stdout
    assert "Copy link" in browser
    assert process.returncode == 0


def test_json_shape_and_no_secret_anywhere(doctor: Doctor, tmp_path: Path) -> None:
    settings = kit_settings(doctor.server)
    store = KeyringTokenStore(profile_key(settings.token_url, settings.client_id or ""))
    connection = Connection(build_services(settings))
    receiver, attempt = connection.begin_attempt(timeout=20)
    with receiver:
        assert ApprovingVisitor().open(attempt.url)
        response = receiver.wait()
    connection.keep(connection.exchange(response.code, attempt))
    saved = store.load()
    assert saved is not None
    proxy = {"HTTPS_PROXY": "http://helper:pr0xy-pa55word@127.0.0.1:9"}
    try:
        code, out, err = doctor.run("--json", **proxy)
        text_code, text_out, text_err = doctor.run(**proxy)
        assert store.load() == saved  # the storage check used an entry of its own
    finally:
        store.delete()

    checks = json.loads(out)
    assert code == text_code == 0, out + err
    assert [check["name"] for check in checks] == NAMES
    for check in checks:
        assert set(check) == {"name", "title", "ok", "blocking", "level", "message", "fix"}
        assert isinstance(check["ok"], bool) and isinstance(check["blocking"], bool)
        assert isinstance(check["message"], str) and isinstance(check["fix"], str)
    network = next(check for check in checks if check["name"] == "network")
    assert (
        network["ok"] is True and "HTTPS_PROXY=http://helper:***@127.0.0.1:9" in network["message"]
    )
    everything = out + err + text_out + text_err
    for secret in (saved["access_token"], saved["refresh_token"], "pr0xy-pa55word"):
        assert secret not in everything


def test_a_port_kit_desktop_itself_holds_is_fine(doctor: Doctor) -> None:
    with LoopbackReceiver((doctor.uris[0],), "doctor-state") as receiver:  # a window's receiver
        waiting = threading.Thread(target=_wait_quietly, args=(receiver,), daemon=True)
        waiting.start()
        code, out, _ = doctor.run()
    waiting.join(5)

    assert code == 0, out
    ports = line(out, "Ports for Kit's answer")
    assert ports.startswith("OK")
    assert f"port {receiver.port} is held by Kit Desktop" in ports.lower().replace(
        "kit desktop", "Kit Desktop"
    )


def _wait_quietly(receiver: LoopbackReceiver) -> None:
    with contextlib.suppress(KitError):  # cancelled when the test closes it
        receiver.wait()
