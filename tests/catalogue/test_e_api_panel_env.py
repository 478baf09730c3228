"""Catalogue section E, cases 58 and 60-62: environment, secret echo, retries, tokens in URLs.

Real API page and client against stand-in origins and proxies on real sockets; cases 60 and 62
run the whole practice app (GuiApp) with a browser stand-in.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from kit_desktop.api.client import KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings
from kit_desktop.errors import NetworkError, RateLimitedError
from kit_desktop.qt.session import KitSession
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.messages import Request, Response
from kit_desktop.services import build_services
from tests.catalogue.ef_standins import (
    Behaviour,
    StandIn,
    StandIns,
    drop,
    open_tunnel_and_listen,
    reply,
)
from tests.catalogue.ef_support import (
    QT_NOISE,
    WAIT_MS,
    Guis,
    Rigs,
    all_widget_texts,
    click_and_wait,
    connect_gui,
    fresh_tokens,
    gui_send,
)
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.realparts import require
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)

ACCOUNT = {"user": {"email": "creator@example.com"}, "account": {"name": "Studio"}}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy or CA variables from the machine running the tests."""
    for name in (*PROXY_VARIABLES, "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def client_for(api_url: str) -> KitApiClient:
    """A connected client (made-up tokens) whose API origin is ``api_url``."""
    settings = Settings(client_id="catalogue-58", api_url=api_url)
    tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
    tokens.adopt(fresh_tokens())
    return KitApiClient(settings, tokens)


def access_of(client: KitApiClient) -> str:
    held = client.tokens.tokens
    assert held is not None
    return held.access_token


# --- 58: environment interference --------------------------------------------------------------


@pytest.mark.parametrize("via", ["HOME", "NETRC"])
def test_c58_a_netrc_for_the_api_host_is_never_used(
    rigs: Rigs, standins: StandIns, clean_env: pytest.MonkeyPatch, tmp_path: Path, via: str
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1\nlogin netrc-user\npassword netrc-password\n")
    netrc.chmod(0o600)
    clean_env.setenv("HOME", str(tmp_path))
    if via == "NETRC":
        netrc = netrc.rename(tmp_path / "elsewhere-netrc")
        clean_env.setenv("NETRC", str(netrc))
    kit = standins.start({"*": reply(200, ACCOUNT)})
    # Control: plain requests does use the file, so it is really in effect.
    requests.get(f"{kit.base_url}/control", timeout=5).close()
    assert kit.seen()[0].header_values("Authorization")[0].startswith("Basic ")

    rig = rigs.make(api_url=kit.base_url)
    rig.send("GET", "/v4/account")
    rig.send("POST", "/v4/tags", body='{"name": "n"}')

    sent = [r.header_values("Authorization") for r in kit.seen()[1:]]
    assert sent == [[f"Bearer {rig.access_token}"]] * 2


@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: HTTPS_PROXY=", logger="kit_desktop.http"
)
def test_c58_an_https_proxy_never_sees_the_token(
    standins: StandIns, clean_env: pytest.MonkeyPatch
) -> None:
    proxy = standins.start({"CONNECT": open_tunnel_and_listen()})
    clean_env.setenv("HTTPS_PROXY", proxy.base_url)
    client = client_for("https://api.kit.com")

    with pytest.raises(NetworkError):  # the proxy cannot finish TLS as api.kit.com
        client.request("GET", "/v4/account")

    (tunnel,) = proxy.seen()
    assert (tunnel.method, tunnel.target) == ("CONNECT", "api.kit.com:443")
    assert tunnel.header_values("Authorization") == []
    assert bytes(proxy.raw[:1]) == b"\x16"  # what followed was a TLS handshake record
    assert b"api.kit.com" in proxy.raw  # ... for api.kit.com (SNI)
    assert access_of(client) not in proxy.everything()
    assert "Bearer" not in proxy.everything()


@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: HTTP_PROXY=", logger="kit_desktop.http"
)
def test_c58_practice_traffic_to_this_computer_skips_an_http_proxy(
    standins: StandIns, clean_env: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    proxy = standins.start({"*": reply(502, {"errors": ["proxy"]})})
    clean_env.setenv("HTTP_PROXY", proxy.base_url)
    client = client_for(sandbox.base_url)
    sandbox.oauth.import_grant(access_of(client), None, expires_at=None)

    response = client.request("GET", "/v4/account")

    assert proxy.seen() == [], [r.text() for r in proxy.seen()]
    assert response.status == 200


@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: (HTTPS_PROXY|REQUESTS_CA_BUNDLE)=",
    logger="kit_desktop.http",
)
def test_c58_proxy_and_ca_overrides_are_named_in_diagnostics(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, qtbot: QtBot
) -> None:
    clean_env.setenv("HTTPS_PROXY", "http://proxy-user:proxy-secret@proxy.example:3128")
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "corporate-ca.pem"))
    settings = Settings(client_id="catalogue-58")
    session = KitSession(
        build_services(settings, backend=MemoryKeyring()),
        settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
    )

    text = session.diagnostics()

    assert "proxy.example:3128" in text
    assert "corporate-ca.pem" in text
    assert "proxy-secret" not in text  # the proxy's password is hidden


def make_attacker_ca(folder: Path) -> tuple[Path, Path, Path]:
    """An attacker's CA and a certificate it signed for 127.0.0.1: (ca, cert, key)."""
    openssl = shutil.which("openssl")
    require(openssl is not None, "openssl (apt-get install openssl)")
    assert openssl is not None
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "leaf.pem", folder / "leaf.key", folder / "leaf.csr"
    ext = folder / "leaf.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for args in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=CA"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-out", cert, "-extfile", ext],
    ):
        subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=30)
    return ca, cert, key


@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: REQUESTS_CA_BUNDLE=",
    logger="kit_desktop.http",
)
def test_c58_a_ca_bundle_override_is_never_silent(
    standins: StandIns,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ca, cert, key = make_attacker_ca(tmp_path)
    mitm = StandIn({"*": reply(200, ACCOUNT)})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    mitm.socket = context.wrap_socket(mitm.socket, server_side=True)
    with mitm:
        with pytest.raises(NetworkError):  # control: without the override, TLS fails
            client_for(f"https://127.0.0.1:{mitm.port}").request("GET", "/v4/account")
        assert mitm.seen() == []

        clean_env.setenv("REQUESTS_CA_BUNDLE", str(ca))
        caplog.set_level("WARNING", logger="kit_desktop")
        client = client_for(f"https://127.0.0.1:{mitm.port}")
        response = client.request("GET", "/v4/account")  # honoured: a company CA is legitimate
        session = KitSession(
            build_services(Settings(client_id="catalogue-58"), backend=MemoryKeyring()),
            settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        )

        assert response.status == 200
        assert f"REQUESTS_CA_BUNDLE={ca}" in caplog.text  # ... but never silently
        assert f"REQUESTS_CA_BUNDLE={ca}" in session.diagnostics()


# --- 60: no secret echo --------------------------------------------------------------------------


def test_c60_no_secret_echo_in_preview_history_export_or_curl(
    qtbot: QtBot, guis: Guis, tmp_path: Path
) -> None:
    gui = guis.start(UserBrowser("allow").open)
    session = connect_gui(qtbot, gui)
    panel, api = gui.window.api_panel, gui.api
    assert api is not None
    histories: list[object] = []
    api.history_changed.connect(histories.append)
    gui_send(qtbot, gui, "GET", "/v4/subscribers", [("per_page", "2")])
    gui_send(qtbot, gui, "POST", "/v4/tags", body='{"name": "Echo"}')
    saved = tmp_path / "answer.json"
    panel.choose_save_path = lambda _parent, _name: str(saved)
    QTest.mouseClick(panel.response_view.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(saved.exists, timeout=WAIT_MS)
    with qtbot.waitSignal(api.curl_ready, timeout=WAIT_MS):
        QTest.mouseClick(panel.composer.curl_button, Qt.MouseButton.LeftButton)
    curl = QGuiApplication.clipboard().text()

    held = session.services.tokens.tokens
    assert held is not None and held.refresh_token is not None
    secrets = {held.access_token, held.refresh_token}
    assert "Authorization: Bearer $KIT_ACCESS_TOKEN" in curl
    field = gui.window.token_panel.token_field
    assert field.value == held.access_token
    assert field.line_edit.echoMode() is QLineEdit.EchoMode.Password
    shown = [
        curl,
        saved.read_text(encoding="utf-8"),
        repr(histories),
        *all_widget_texts(gui.window),
    ]
    assert [s for s in secrets if any(s in text for text in shown)] == []
    # Only an explicit Show reveals it.
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.displayText() == held.access_token
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.displayText() != held.access_token
    # History lives in memory only: no file this app can write holds a token.
    gui.window.close()
    written = [
        p for p in written_files() if any(s in p.read_text(errors="replace") for s in secrets)
    ]
    assert written == []


def written_files() -> list[Path]:
    """Every file in the test run's XDG folders (QSettings, data, logs, cache, state)."""
    roots = {os.environ.get(name, "") for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")}
    roots |= {os.environ.get(name, "") for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME")}
    found: list[Path] = []
    for root in filter(None, roots):
        found += [p for p in Path(root).rglob("*") if p.is_file() and p.stat().st_size < 5_000_000]
    return found


# --- 61: rate limits and retries -----------------------------------------------------------------

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@pytest.mark.parametrize("method", METHODS)
def test_c61_429_without_retry_after_waits_and_never_retries(
    qtbot: QtBot, rigs: Rigs, standins: StandIns, method: str
) -> None:
    kit = standins.start({"*": reply(429, {"errors": ["Too many requests"]})})
    rig = rigs.make(api_url=kit.base_url)
    body = '{"name": "x"}' if method in ("POST", "PUT", "PATCH") else ""

    with qtbot.waitSignal(rig.api.rate_limited, timeout=WAIT_MS) as limited:
        outcome = rig.send(method, "/v4/tags/1", body=body)

    assert isinstance(outcome, RateLimitedError)
    assert 1 <= limited.args[0] <= 60  # from the app's own meter: no Retry-After came
    assert not rig.panel.composer.send_button.isEnabled()
    assert "try again in" in rig.panel.composer.hint.text()
    # Asking again during the wait sends nothing (no tight loop, no automatic retry).
    with qtbot.waitSignal(rig.api.failed, timeout=WAIT_MS):
        rig.api.send(method, "/v4/tags/1", (), body, ())
    assert len(kit.seen()) == 1
    assert rig.client.meter.used() == 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "answer",
    [
        reply(500, {"errors": ["Internal Server Error"]}),
        reply(502, b"<html>Bad gateway</html>", Content_Type="text/html"),
        reply(503, {"errors": ["Busy"]}, Retry_After="1"),
        drop(),
    ],
    ids=["500", "502", "503-retry-after", "dropped"],
)
def test_c61_failures_are_never_retried_automatically(
    rigs: Rigs, standins: StandIns, method: str, answer: Behaviour
) -> None:
    kit = standins.start({"*": answer})
    rig = rigs.make(api_url=kit.base_url)
    body = '{"name": "x"}' if method in ("POST", "PUT", "PATCH") else ""

    rig.send(method, "/v4/tags/1", body=body)

    assert [r.method for r in kit.seen()] == [method]
    assert not rig.api.running


# --- 62: never a token in a URL ----------------------------------------------------------------


class SandboxTap:
    """Wraps the practice sandbox's dispatch: every URL it is asked for, every token it issues."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._dispatch = sandbox.dispatch
        self._lock = threading.Lock()
        self.urls: list[str] = []
        self.bearers: list[str] = []
        self.issued: set[str] = set()

    def __call__(self, request: Request) -> Response:
        response = self._dispatch(request)
        with self._lock:
            query = "&".join(f"{k}={v}" for k, v in request.query)
            self.urls.append(f"{request.path}?{query}" if query else request.path)
            self.bearers.append(request.header("authorization"))
            if request.path.endswith("/oauth/token") and response.status == 200:
                body = json.loads(response.body)
                self.issued |= {body["access_token"], body["refresh_token"]}
        return response


def test_c62_never_a_token_in_a_url(
    qtbot: QtBot, guis: Guis, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = UserBrowser("allow")
    gui = guis.start(browser.open)
    assert gui.sandbox is not None and gui.api is not None
    tap = SandboxTap(gui.sandbox)
    monkeypatch.setattr(gui.sandbox, "dispatch", tap)
    session = connect_gui(qtbot, gui)
    gui_send(qtbot, gui, "GET", "/v4/subscribers", [("per_page", "2")])
    panel = gui.window.api_panel
    next_page = panel.response_view.next_button
    assert next_page.isEnabled()
    click_and_wait(qtbot, gui.api, panel, next_page)
    gui.window.refresh_requested.emit()
    qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
    gui_send(qtbot, gui, "POST", "/v4/tags", body='{"name": "URL check"}')
    results: list[object] = []
    gui.api.finished.connect(results.append)
    gui_send(qtbot, gui, "GET", "/v4/account")
    with qtbot.waitSignal(gui.api.curl_ready, timeout=WAIT_MS) as curl:
        QTest.mouseClick(panel.composer.curl_button, Qt.MouseButton.LeftButton)
    gui.window.disconnect_requested.emit()
    qtbot.waitUntil(lambda: not session.view.phase.has_tokens, timeout=WAIT_MS)
    browser.join()

    assert len(tap.issued) == 4  # two access and two refresh tokens: connect, then refresh
    urls = [*tap.urls, *(visit.url for visit in browser.visits), curl.args[0]]
    urls += [getattr(getattr(r, "response", None), "url", "") for r in results]
    assert [u for u in urls if any(token in u for token in tap.issued)] == []
    names = {name.lower() for url in urls for name, _ in parse_qsl(urlsplit(url).query)}
    assert not names & {"access_token", "refresh_token", "token", "bearer"}
    api_calls = [b for u, b in zip(tap.urls, tap.bearers, strict=True) if u.startswith("/v4/s")]
    assert api_calls and all(b.startswith("Bearer ") for b in api_calls)
