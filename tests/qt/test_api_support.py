"""Shared pieces for the API panel tests: a connected client, the wired page, a heartbeat.

It holds no tests; the ``test_api_`` prefix only keeps it beside the files that use it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.api.client import KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.errors import KitError
from kit_desktop.gui.gui_app import wire_api
from kit_desktop.qt.api_requests import ApiRequests
from kit_desktop.sandbox import SandboxServer
from kit_desktop.ui.api_panel import ApiPanel
from tests.helpers import flow

WAIT_MS = 10_000
#: The offscreen platform warns that it cannot size or raise windows; nothing else is ignored.
OFFSCREEN_NOISE = r"^This plugin does not support (propagateSizeHints|raise)\(\)$"
#: The completion popup grabs the keyboard, which the offscreen platform cannot do.
POPUP_NOISE = r"^This plugin does not support grabbing the keyboard$"


def cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """The item at ``row``, ``column`` (there always is one in these tables)."""
    item = table.item(row, column)
    assert item is not None
    return item


class FakeMonotonic:
    """Monotonic time that only moves when a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """A connected client against a real sandbox, its controller and the page, wired."""

    qtbot: QtBot
    server: SandboxServer
    tokens: TokenManager
    client: KitApiClient
    api: ApiRequests
    panel: ApiPanel
    saved_to: list[str] = field(default_factory=list)
    save_path: str = ""

    @property
    def access_token(self) -> str:
        current = self.tokens.tokens
        assert current is not None
        return current.access_token

    @property
    def refresh_token(self) -> str:
        current = self.tokens.tokens
        assert current is not None and current.refresh_token is not None
        return current.refresh_token

    def compose(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]] = (),
        body: str = "",
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Fill in the composer as a creator would end up with it."""
        self.panel.composer.load(method, path, query, body, headers)

    def click_and_wait(self, button: QWidget) -> ApiResult | KitError:
        """Click ``button`` (Send, Next page...) and wait for the outcome."""
        outcomes: list[object] = []
        self.api.finished.connect(outcomes.append)
        self.api.failed.connect(outcomes.append)
        try:
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
            self.qtbot.waitUntil(lambda: bool(outcomes), timeout=WAIT_MS)
        finally:
            self.api.finished.disconnect(outcomes.append)
            self.api.failed.disconnect(outcomes.append)
        outcome = outcomes[0]
        assert isinstance(outcome, ApiResult | KitError)
        self.qtbot.waitUntil(
            lambda: not self.panel.response_view.body_view.filling, timeout=WAIT_MS
        )
        return outcome

    def send(
        self, method: str, path: str, query: Iterable[tuple[str, str]] = (), body: str = ""
    ) -> ApiResult | KitError:
        """Compose and press Send."""
        self.compose(method, path, query, body)
        return self.click_and_wait(self.panel.composer.send_button)

    def close(self) -> None:
        self.api.shutdown()
        self.qtbot.waitUntil(lambda: not self.api.busy, timeout=WAIT_MS)


def make_rig(
    qtbot: QtBot,
    server: SandboxServer,
    *,
    api_url: str | None = None,
    clock: FakeMonotonic | None = None,
    panel: ApiPanel | None = None,
) -> Rig:
    """Connect to ``server`` (tokens adopted from a real flow), build the page and wire it.

    A ``panel`` given (the window's own page) is wired as it is: not resized or shown here.
    """
    settings = Settings().with_sandbox(server.base_url)
    if api_url is not None:
        settings = dataclasses.replace(settings, api_url=api_url)
    tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
    tokens.adopt(TokenSet.from_response(flow.connect(server.base_url), received_at=time.time()))
    client = KitApiClient(settings, tokens)
    api = ApiRequests(client)
    saved_to: list[str] = []
    rig_ref: list[Rig] = []

    def choose(_parent: QWidget, suggested: str) -> str:
        saved_to.append(suggested)
        return rig_ref[0].save_path

    if panel is None:
        panel = ApiPanel(clock=clock or time.monotonic, choose_save_path=choose)
        qtbot.addWidget(panel)
        panel.resize(1100, 760)
        panel.show()
        qtbot.waitExposed(panel)
    else:
        panel.choose_save_path = choose
    wire_api(panel, api)
    panel.show_connected(True)
    rig = Rig(qtbot, server, tokens, client, api, panel, saved_to)
    rig_ref.append(rig)
    return rig


class Heartbeat(QObject):
    """A 1 ms timer on the GUI thread that records the longest gap between its ticks."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def longest_ms(self) -> float:
        return max(self.gaps, default=0.0) * 1000

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _on_timer_timeout(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def big_json(size: int = 5_000_000) -> bytes:
    """A Kit-shaped list answer of about ``size`` bytes (compact, on one line, like Kit's)."""
    item = {
        "id": 0,
        "first_name": "Reader",
        "email_address": "reader@example.com",
        "state": "active",
        "created_at": "2026-01-01T00:00:00Z",
        "fields": {"company": None, "city": "Lisbon", "score": 1.5, "vip": True},
    }
    one = len(json.dumps(item)) + 2
    items = [dict(item, id=i) for i in range(size // one)]
    pagination = {"has_next_page": False, "has_previous_page": False, "per_page": len(items)}
    return json.dumps({"subscribers": items, "pagination": pagination}).encode()


class StandIn:
    """A stdlib HTTP server answering fixed bodies on fixed paths (Kit's API stand-in)."""

    def __init__(self, routes: dict[str, tuple[int, str, bytes]]) -> None:
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                status, content_type, body = routes.get(
                    self.path.split("?")[0], (404, "application/json", b'{"errors":["Not Found"]}')
                )
                head = (
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                    f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                self.wfile.write(head + body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
