"""Catalogue A1-A8: where the loopback receiver binds and which requests it turns away."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.loopback_http import MAX_BODY, HttpRequest, LoopbackServer, Reply
from kit_desktop.config import Settings, load_settings
from kit_desktop.connection import Connection
from kit_desktop.errors import ConfigError, PortInUseError
from kit_desktop.qt.session import KitSession
from kit_desktop.services import build_services
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.loopback import (
    CODE,
    EPHEMERAL,
    STATE,
    VALID,
    Waiter,
    assert_hardened,
    finish_flow,
    lan_address,
    send,
)
from tests.helpers.ports import ipv6_loopback, probed_port
from tests.helpers.reach import kit_is_reachable
from tests.helpers.realparts import require

IP_LITERAL_REDIRECT = re.compile(r"^http://(127\.0\.0\.1|\[::1\]):\d+/callback$")
DECOY = "decoy-code-not-to-be-used"


# --- helpers --------------------------------------------------------------------------------


def listeners(port: int) -> list[str]:
    """Addresses with a listening TCP socket on ``port``, read from the kernel (Linux)."""
    found: list[str] = []
    for name, width in (("tcp", 8), ("tcp6", 32)):
        table = Path("/proc/net") / name
        if not table.exists():
            continue
        for line in table.read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] != "0A" or int(hex_port, 16) != port or len(address) != width:
                continue
            raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, width, 8))
            found.append(str(ipaddress.ip_address(raw)))
    return found


def app_connection(*redirect_uris: str) -> Connection:
    """The app's real connection steps for Kit, with a memory keyring (no network is used)."""
    settings = Settings(client_id="catalogue-client", redirect_uris=redirect_uris, route="direct")
    return Connection(build_services(settings, backend=MemoryKeyring()))


class _Silent:
    """A responder for a bare LoopbackServer that is never asked anything."""

    def respond(self, request: HttpRequest) -> Reply:
        raise AssertionError("no request expected")

    def refuse(self, status: int, reason: str) -> Reply:
        raise AssertionError("no request expected")


@pytest.fixture
def receiver() -> Iterator[LoopbackReceiver]:
    with LoopbackReceiver([EPHEMERAL], STATE) as rec:
        yield rec


@pytest.fixture
def waiter(receiver: LoopbackReceiver) -> Iterator[Waiter]:
    running = Waiter(receiver)
    yield running
    receiver.cancel()
    running.join()


@pytest.fixture
def squatter() -> Iterator[socket.socket]:
    """Another program's listening socket on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


# --- 1. loopback-only bind ------------------------------------------------------------------


def test_c01_loopback_only_bind(receiver: LoopbackReceiver) -> None:
    assert receiver.server_address == ("127.0.0.1", receiver.port)
    assert listeners(receiver.port) == ["127.0.0.1"]  # what the kernel says, not the app
    with pytest.raises(ConnectionRefusedError):  # another loopback address: nobody there
        socket.create_connection(("127.0.0.2", receiver.port), timeout=5).close()


def test_c01_loopback_only_bind_lan_refused(receiver: LoopbackReceiver) -> None:
    lan = lan_address()
    require(lan is not None, "a non-loopback IPv4 address (the LAN side)")
    assert lan is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lan, receiver.port), timeout=5).close()


def test_c01_loopback_only_bind_app_path() -> None:
    receiver, attempt = app_connection(EPHEMERAL).begin_attempt()
    with receiver:
        assert receiver.server_address[0] == "127.0.0.1"
        assert listeners(receiver.port) == ["127.0.0.1"]
        assert attempt.redirect_uri == receiver.redirect_uri


# --- 2. IP-literal redirect URI -------------------------------------------------------------


def test_c02_ip_literal_redirect_uri_in_authorize_url() -> None:
    receiver, attempt = app_connection(EPHEMERAL).begin_attempt()
    with receiver:
        sent = parse_qs(urlsplit(attempt.url).query)["redirect_uri"]
        assert sent == [receiver.redirect_uri]
        assert IP_LITERAL_REDIRECT.match(sent[0])
        assert urlsplit(sent[0]).port == receiver.port != 0
        assert "localhost" not in attempt.url.lower()


def test_c02_ip_literal_redirect_uri_fixed_port_byte_identical() -> None:
    uri = f"http://127.0.0.1:{probed_port()}/callback"
    receiver, attempt = app_connection(uri).begin_attempt()
    with receiver:
        assert receiver.redirect_uri == uri
        assert attempt.redirect_uri == uri
        assert parse_qs(urlsplit(attempt.url).query)["redirect_uri"] == [uri]


@pytest.mark.parametrize("uri", ["http://localhost:0/callback", "http://LOCALHOST:53219/callback"])
def test_c02_ip_literal_redirect_uri_localhost_refused(uri: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ={"KIT_REDIRECT_URI": uri}, toml_path=Path("/nonexistent"))
    with pytest.raises(ConfigError):
        LoopbackReceiver([uri], STATE)


# --- 3. ephemeral port, or a busy fixed port -------------------------------------------------


def test_c03_ephemeral_port_assigned_and_varies() -> None:
    with (
        LoopbackReceiver([EPHEMERAL], STATE) as first,
        LoopbackReceiver([EPHEMERAL], STATE) as second,
    ):
        assert 0 not in (first.port, second.port)
        assert first.port != second.port
        assert listeners(first.port) == ["127.0.0.1"]
    ports = set()
    for _ in range(3):
        with LoopbackReceiver([EPHEMERAL], STATE) as again:
            ports.add(again.port)
    assert len(ports) > 1


def test_c03_fixed_port_busy_is_a_clear_error(squatter: socket.socket) -> None:
    port = port_of(squatter)
    with pytest.raises(PortInUseError) as caught:
        LoopbackReceiver([f"http://127.0.0.1:{port}/callback"], STATE)
    assert caught.value.port == port
    assert f"port {port}" in caught.value.user_message
    assert listeners(port) == ["127.0.0.1"]  # only the squatter: no fallback anywhere else


def test_c03_fixed_port_busy_only_configured_fallback(squatter: socket.socket) -> None:
    busy, spare = port_of(squatter), probed_port()
    uris = [f"http://127.0.0.1:{busy}/callback", f"http://127.0.0.1:{spare}/callback"]
    with LoopbackReceiver(uris, STATE) as rec:
        assert rec.redirect_uri == uris[1]  # the next registered URI, nothing invented
        assert rec.port == spare


def test_c03_fixed_port_busy_session_says_so(
    qtbot: QtBot, squatter: socket.socket, tmp_path: Path
) -> None:
    port = port_of(squatter)
    settings = Settings(
        client_id="catalogue-client", redirect_uris=(f"http://127.0.0.1:{port}/x",), route="direct"
    )
    opened: list[str] = []

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    session = KitSession(
        build_services(settings, backend=MemoryKeyring()),
        opener=opener,
        settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        reach=kit_is_reachable,
    )
    try:
        session.connect_to_kit()
        qtbot.waitUntil(lambda: session.view.phase is not Phase.OPENING, timeout=5000)
        assert session.view.phase is Phase.FAILED
        assert f"port {port}" in session.view.detail
        assert session.view.last_error_code == "PortInUseError"
        assert opened == []  # the browser never opens on a flow that cannot finish
        assert not session.busy
    finally:
        session.shutdown()


# --- 4. no port sharing ---------------------------------------------------------------------


def test_c04_no_port_sharing_reuseaddr_squatter_blocks_us() -> None:
    with socket.socket() as sneaky:
        sneaky.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sneaky.bind(("127.0.0.1", 0))  # bound but not listening: reuse would let us share
        with pytest.raises(PortInUseError):
            LoopbackReceiver([f"http://127.0.0.1:{port_of(sneaky)}/callback"], STATE)


@pytest.mark.parametrize("options", [(), ("SO_REUSEADDR",), ("SO_REUSEADDR", "SO_REUSEPORT")])
def test_c04_no_port_sharing_live_port_refuses_intruders(
    receiver: LoopbackReceiver, options: tuple[str, ...]
) -> None:
    with socket.socket() as intruder:
        for name in options:
            intruder.setsockopt(socket.SOL_SOCKET, getattr(socket, name), 1)
        with pytest.raises(OSError, match="in use"):
            intruder.bind(("127.0.0.1", receiver.port))
    with pytest.raises(PortInUseError):
        LoopbackReceiver([f"http://127.0.0.1:{receiver.port}/callback"], STATE)
    assert listeners(receiver.port) == ["127.0.0.1"]


def test_c04_no_port_sharing_reuse_options_never_set() -> None:
    server = LoopbackServer(socket.AF_INET, ("127.0.0.1", 0), _Silent())
    try:
        assert server.allow_reuse_address is False
        assert server.allow_reuse_port is False
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 0
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        server.stop()


# --- 5. IPv4 unavailable: [::1] ---------------------------------------------------------------


def test_c05_ipv6_fallback_when_ipv4_cannot_bind(squatter: socket.socket) -> None:
    require(ipv6_loopback(), "an IPv6 loopback address (::1)")
    uris = [f"http://127.0.0.1:{port_of(squatter)}/callback", "http://[::1]:0/callback"]
    receiver, attempt = app_connection(*uris).begin_attempt()
    with receiver:
        port = receiver.port
        assert receiver.server_address == ("::1", port)
        assert listeners(port) == ["::1"]
        assert receiver.redirect_uri == f"http://[::1]:{port}/callback"
        assert IP_LITERAL_REDIRECT.match(receiver.redirect_uri)
        assert parse_qs(urlsplit(attempt.url).query)["redirect_uri"] == [receiver.redirect_uri]
        running = Waiter(receiver)
        with socket.create_connection(("::1", port), timeout=10) as sock:
            head = f"GET /callback?code={CODE}&state={attempt.state} HTTP/1.1\r\n"
            sock.sendall(f"{head}Host: [::1]:{port}\r\nConnection: close\r\n\r\n".encode())
            assert sock.recv(64).startswith(b"HTTP/1.1 302 ")
        assert running.result().code == CODE


@pytest.mark.parametrize(
    "uri",
    [
        "http://0.0.0.0:0/callback",
        "http://[::]:0/callback",
        "http://:0/callback",
        "http://[::ffff:127.0.0.1]:0/callback",
        "http://127.1:0/callback",
    ],
)
def test_c05_never_binds_a_wildcard(uri: str) -> None:
    with pytest.raises(ConfigError):
        LoopbackReceiver([uri], STATE)
    with pytest.raises(ConfigError):
        load_settings(environ={"KIT_REDIRECT_URI": uri}, toml_path=Path("/nonexistent"))


# --- 6. wrong path --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/favicon.ico", "/callback/../x", "/CALLBACK", "/callbackX", "/%63allback"]
)
def test_c06_wrong_path_404_keeps_waiting(
    receiver: LoopbackReceiver, waiter: Waiter, path: str
) -> None:
    reference = send(receiver, "/unrelated")
    answer = send(receiver, f"{path}?code={DECOY}&state={STATE}")
    assert answer.status == 404
    assert answer.body == reference.body  # one fixed body, whatever was asked
    assert DECOY not in answer.body and STATE not in answer.body
    assert_hardened(answer)
    assert waiter.running
    response = finish_flow(receiver, waiter)  # the same state still works: nothing consumed
    assert (response.code, response.state) == (CODE, STATE)


# --- 7. non-GET -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "OPTIONS", "HEAD", "PATCH"])
def test_c07_non_get_405_keeps_waiting(
    receiver: LoopbackReceiver, waiter: Waiter, method: str
) -> None:
    body = f"code={DECOY}&state={STATE}".encode()
    answer = send(
        receiver, VALID, method=method, headers=(("Content-Length", str(len(body))),), body=body
    )
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET"
    assert_hardened(answer)
    if method == "HEAD":
        assert answer.body == ""
    assert DECOY not in answer.body and STATE not in answer.body
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


@pytest.mark.parametrize(("length", "status"), [(MAX_BODY, 405), (MAX_BODY + 1, 413)])
def test_c07_non_get_body_never_read(
    receiver: LoopbackReceiver, waiter: Waiter, length: int, status: int
) -> None:
    head = (
        f"POST {VALID} HTTP/1.1\r\nHost: 127.0.0.1:{receiver.port}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as sock:
        sock.sendall(head.encode())  # the announced body never comes: the answer must not wait
        assert sock.recv(64).startswith(f"HTTP/1.1 {status} ".encode())
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE


# --- 8. Host header -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example:{port}", 421),
        ("evil.example", 421),
        ("localhost:{port}", 421),
        ("127.0.0.1:{other}", 421),
        (None, 400),
    ],
)
def test_c08_host_header_checked(
    receiver: LoopbackReceiver, waiter: Waiter, host: str | None, status: int
) -> None:
    value = None if host is None else host.format(port=receiver.port, other=receiver.port + 1)
    answer = send(receiver, f"/callback?code={DECOY}&state={STATE}", host=value)
    assert answer.status == status
    assert_hardened(answer)
    assert "Location" not in answer.headers
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE  # nothing was accepted or consumed


@pytest.mark.parametrize(
    "raw",
    [
        "GET /callback?code={decoy}&state={state} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Host: evil.example\r\n\r\n",
        "GET http://evil.example/callback?code={decoy}&state={state} HTTP/1.1\r\n"
        "Host: evil.example\r\n\r\n",
    ],
    ids=["two-hosts", "absolute-form"],
)
def test_c08_host_header_smuggling_refused(
    receiver: LoopbackReceiver, waiter: Waiter, raw: str
) -> None:
    data = raw.format(decoy=DECOY, state=STATE, port=receiver.port).encode()
    answer = send(receiver, "", raw=data)
    assert answer.status == 400
    assert waiter.running
    assert finish_flow(receiver, waiter).code == CODE
