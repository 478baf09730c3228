"""Catalogue case 16 over a whole flow: connect, refresh, API requests, disconnect at DEBUG.

Every secret the flow handles (each code and token the sandbox issued, each value the app sent
to the token and revocation endpoints, the PKCE verifier and the state) is hunted for in the
app's log file, stderr, every log record (root logger at DEBUG, third-party loggers too) and
the diagnostics text. Once in-process with the whole window (GuiApp) and a browser stand-in,
once as CLI subprocesses with a real Chromium as the system browser.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from kit_desktop.log import log_file, setup_logging
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.messages import BadRequest, Request, Response
from kit_desktop.sandbox.oauth import OAuthServer
from kit_desktop.state import AttemptView
from tests.catalogue.ef_support import (
    QT_NOISE,
    WAIT_MS,
    Guis,
    click_and_wait,
    connect_gui,
    gui_send,
)
from tests.helpers.browser import browser_env, chromium_path, wait_for_result
from tests.helpers.realparts import require
from tests.helpers.user_browser import UserBrowser, Visit

ROOT = Path(__file__).resolve().parents[2]
#: A bearer token written out in full (``Bearer [redacted]`` and ``$KIT_ACCESS_TOKEN`` are fine).
BEARER_VALUE = re.compile(r"(?i)bearer\s+(?!\[redacted\])[A-Za-z0-9\-._~+/]{8,}")


class OAuthTap:
    """Wraps a sandbox's token and revocation endpoints; keeps every secret sent or issued."""

    def __init__(self, oauth: OAuthServer) -> None:
        self._token = oauth.token
        self._revoke = oauth.revoke
        self._lock = threading.Lock()
        self.values: set[str] = set()
        self.token_posts = 0

    def token(self, request: Request) -> Response:
        self._keep(request, "code", "code_verifier", "refresh_token")
        response = self._token(request)
        if response.status == 200:
            body = json.loads(response.body)
            with self._lock:
                self.token_posts += 1
                self.values |= {body["access_token"], body["refresh_token"]}
        return response

    def revoke(self, request: Request) -> Response:
        self._keep(request, "token")
        return self._revoke(request)

    def _keep(self, request: Request, *names: str) -> None:
        try:
            form = request.form_or_json()
        except BadRequest:
            return
        with self._lock:
            self.values |= {form[name] for name in names if form.get(name)}


def leaks(texts: dict[str, str], hunted: set[str]) -> list[str]:
    """Where any hunted value (or a written-out bearer token) appears: ``["<where>: <what>"]``."""
    found = [
        f"{where}: {value[:6]}…"
        for where, text in texts.items()
        for value in hunted
        if value in text
    ]
    found += [f"{where}: bearer" for where, text in texts.items() if BEARER_VALUE.search(text)]
    return found


# --- in-process: the whole window ----------------------------------------------------------------


class TrackedBrowser(UserBrowser):
    """The creator's browser stand-in; its threads are noted so its own HTTP logs are left out.

    The stand-in is not the app: urllib3 logs its GET of ``/callback?code=...&state=...`` at
    DEBUG on its own thread, as any browser's history would hold that address.
    """

    def __init__(self) -> None:
        super().__init__("allow")
        self.thread_ids: set[int] = set()

    def _visit(self, visit: Visit) -> None:
        self.thread_ids.add(threading.get_ident())
        super()._visit(visit)


class NotFrom(logging.Filter):
    """Drops records logged on the browser stand-in's threads."""

    def __init__(self, thread_ids: set[int]) -> None:
        super().__init__()
        self.thread_ids = thread_ids

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread not in self.thread_ids


class Records(logging.Handler):
    """Keeps every record, formatted with its exception text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(threadName)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's own logging as ``KIT_DEBUG=1`` sets it up, in a fresh data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("KIT_DEBUG", "1")
    logger = logging.getLogger("kit_desktop")
    saved = (list(logger.handlers), logger.level, getattr(logger, "_kit_configured", False))
    for handler in saved[0]:
        logger.removeHandler(handler)
    logger._kit_configured = False  # type: ignore[attr-defined]
    setup_logging(logging.DEBUG)  # what finish_start does when KIT_DEBUG is set
    try:
        yield log_file()
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            logger.addHandler(handler)
        logger.setLevel(saved[1])
        logger._kit_configured = saved[2]  # type: ignore[attr-defined]


@pytest.fixture
def root_at_debug() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield root
    root.setLevel(level)


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_c16_no_secrets_in_logs_full_flow_window(
    qtbot: QtBot,
    debug_logging: Path,
    root_at_debug: logging.Logger,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser = TrackedBrowser()
    records, stderr = Records(), logging.StreamHandler(sys.stderr)
    for handler in (records, stderr):
        handler.addFilter(NotFrom(browser.thread_ids))
        root_at_debug.addHandler(handler)
    guis = Guis(qtbot)
    try:
        gui = guis.start(browser.open)
        session, sandbox, api = gui.session, gui.sandbox, gui.api
        assert session is not None and sandbox is not None and api is not None
        tap = OAuthTap(sandbox.oauth)
        monkeypatch.setattr(sandbox.oauth, "token", tap.token)
        monkeypatch.setattr(sandbox.oauth, "revoke", tap.revoke)
        attempts: list[AttemptView] = []
        session.attempt_changed.connect(attempts.append)

        connect_gui(qtbot, gui)
        gui.window.refresh_requested.emit()
        qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
        gui_send(qtbot, gui, "GET", "/v4/subscribers", [("per_page", "2")])
        panel = gui.window.api_panel
        click_and_wait(qtbot, api, panel, panel.response_view.next_button)
        gui_send(qtbot, gui, "POST", "/v4/tags", body='{"name": "Redaction"}')
        held = session.services.tokens.tokens
        assert held is not None
        sandbox.oauth.expire_access_token(held.access_token)  # the next call renews on 401
        gui_send(qtbot, gui, "GET", "/v4/account")
        gui.window.diagnostics_requested.emit()
        diagnostics = [session.diagnostics(), QGuiApplication.clipboard().text()]
        gui.window.disconnect_requested.emit()
        qtbot.waitUntil(lambda: not session.view.phase.has_tokens, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not session.busy and not api.busy, timeout=WAIT_MS)
        browser.join()
        issued = sandbox.oauth.issued_secrets()
    finally:
        guis.close_all()
        for handler in (records, stderr):
            root_at_debug.removeHandler(handler)

    flows = [(a.verifier, a.state) for a in attempts]
    assert len(flows) == 1
    hunted = issued | tap.values | set(flows[0])
    assert tap.token_posts == 3  # the code, the Refresh button, the renewal on a 401
    assert len(hunted) == 9  # a code, three access and refresh tokens, verifier, state
    log_text = "".join(p.read_text("utf-8") for p in debug_logging.parent.glob("*.log*"))
    captured = "\n".join(records.lines)
    assert " DEBUG " in log_text and "accepted the callback" in log_text
    assert '"POST /v4/oauth/token HTTP/1.1" 200' in captured  # urllib3's own DEBUG lines too
    texts = {
        "log file": log_text,
        "stderr": capfd.readouterr().err,
        "log records": captured,
        "diagnostics": diagnostics[0],
        "copied diagnostics": diagnostics[1],
    }
    assert leaks(texts, hunted) == []
    assert leaks({"browser": browser.visits[0].consent_url}, hunted)  # control: the hunt finds


# --- subprocesses: the command line ------------------------------------------------------------


@pytest.mark.browser
def test_c16_no_secrets_in_logs_full_flow_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    require(
        bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")),
        "a Secret Service (run through tests/run-suite.sh)",
    )
    client_id = "redaction-" + secrets.token_hex(8)
    with SandboxServer(
        client_id=client_id, loopback_any_port=True, redirect_uris=["http://127.0.0.1:1/callback"]
    ) as server:
        tap = OAuthTap(server.oauth)
        monkeypatch.setattr(server.oauth, "token", tap.token)
        monkeypatch.setattr(server.oauth, "revoke", tap.revoke)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
        env.update(
            KIT_DEBUG="1",
            KIT_CLIENT_ID=client_id,
            KIT_AUTHORIZE_URL=f"{server.base_url}/v4/oauth/authorize",
            KIT_TOKEN_URL=f"{server.base_url}/v4/oauth/token",
            KIT_REVOKE_URL=f"{server.base_url}/v4/oauth/revoke",
            KIT_API_URL=server.base_url,
            KIT_REDIRECT_URI="http://127.0.0.1:0/callback",
            XDG_DATA_HOME=str(tmp_path / "data"),
            PYTHONPATH=str(ROOT),
        )
        result = tmp_path / "browser.json"

        def run(*args: str, extra: dict[str, str] | None = None) -> tuple[int, str, str]:
            done = subprocess.run(
                [sys.executable, "main.py", *args],
                cwd=ROOT,
                env={**env, **(extra or {})},
                capture_output=True,
                text=True,
                timeout=60,
            )
            return done.returncode, done.stdout, done.stderr

        runs = [run("connect", extra=browser_env("allow", result))]
        assert runs[0][0] == 0, runs[0][2]
        assert "/done" in wait_for_result(result).url
        for command in (
            ("status",),
            ("request", "GET", "/v4/subscribers", "--query", "per_page=2"),
            ("request", "POST", "/v4/tags", "--data", '{"name": "Redaction CLI"}'),
            ("refresh",),
            ("request", "GET", "/v4/account"),
            ("status", "--json"),
            ("disconnect",),
        ):
            runs.append(run(*command))
            assert runs[-1][0] == 0, (command, runs[-1][2])
        issued = server.oauth.issued_secrets()

    authorize_url = runs[0][1].splitlines()[0]
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    hunted = issued | tap.values | {state}
    assert tap.token_posts == 2  # the code, then the refresh command
    assert len(hunted) == 7  # a code, two access and refresh tokens, verifier, state
    logs = tmp_path / "data" / "kit-desktop" / "logs"
    log_text = "".join(p.read_text("utf-8") for p in sorted(logs.glob("*.log*")))
    assert " DEBUG " in log_text
    texts = {"log file": log_text}
    texts |= {f"stderr of command {n}": err for n, (_, _, err) in enumerate(runs)}
    assert leaks(texts, hunted) == []
    assert leaks({"printed link": authorize_url}, hunted)  # control: the hunt does find
