"""Hostile answers over real HTTP (catalogue 56, 59, 61): big, endless, redirecting, limited."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kit_desktop.api.bodyview import format_body
from kit_desktop.api.client import MAX_BODY, KitApiClient
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.errors import KitTimeoutError, RateLimitedError
from kit_desktop.http import Timeouts

MB = 1024 * 1024
_ITEM = json.dumps(
    {"id": 1, "email_address": "reader@example.com", "first_name": "Zoë", "state": "active"}
).encode()


def big_json(size: int) -> bytes:
    """A JSON list answer of at least ``size`` bytes."""
    count = size // (len(_ITEM) + 1) + 1
    return b'{"subscribers": [' + b",".join([_ITEM] * count) + b"]}"


JSON_5MB = big_json(5 * MB)
JSON_30MB = big_json(30 * MB)
DEEP = b"[" * 10_000 + b"]" * 10_000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
HTML = (
    b"<html><body><h1>Gateway</h1><img src=http://tracker.example/p.gif>"
    b"<a href='https://evil.example/'>click</a><script>alert(1)</script></body></html>"
)


class Scripted(ThreadingHTTPServer):
    """A tiny API origin whose answers are scripted per path; notes every request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str]] = []
        self.routes: dict[str, Callable[[_Handler], None]] = {}
        self.stop = threading.Event()
        self.stream_ended = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Scripted
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization", "")))
        self.server.routes[self.path.partition("?")[0]](self)

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        lines = [f"HTTP/1.1 {status} Scripted", f"Content-Length: {len(body)}"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def stream(self, chunk: bytes, pause: float, after_first: float | None = None) -> None:
        """Send a chunked body forever: a chunk every ``pause`` s, or stall after the first."""
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        self.wfile.write((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            while not self.server.stop.is_set():
                self.wfile.write(frame)
                self.wfile.flush()
                if after_first is not None:
                    self.server.stop.wait(after_first)
                elif pause:
                    self.server.stop.wait(pause)
        except OSError:  # the client closed the connection
            self.server.stream_ended.set()
        self.close_connection = True


def serve() -> Iterator[Scripted]:
    server = Scripted()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def origin() -> Iterator[Scripted]:
    yield from serve()


@pytest.fixture
def elsewhere() -> Iterator[Scripted]:
    yield from serve()


def client_for(server: Scripted, **kwargs: Any) -> tuple[KitApiClient, str]:
    """A client on ``server`` with a fresh token that nothing here needs to refresh."""
    settings = Settings().with_sandbox(server.base_url)
    tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
    now = time.time()
    access = secrets.token_urlsafe(32)
    tokens.adopt(TokenSet(access, secrets.token_urlsafe(32), "Bearer", None, now, now + 3600))
    return KitApiClient(settings, tokens, **kwargs), access


# --- catalogue 59: big, endless and strange bodies --------------------------------------------


def test_a_5mb_json_body_is_read_whole_and_formats(origin: Scripted) -> None:
    origin.routes["/v4/big"] = lambda h: h.answer(200, JSON_5MB, Content_Type="application/json")
    client, _ = client_for(origin)
    response = client.request("GET", "/v4/big")
    assert not response.truncated
    assert response.size == len(JSON_5MB) and response.body == JSON_5MB
    view = format_body(response.body, response.content_type)
    assert view.kind == "json" and view.error is None
    assert view.truncated_view and len(view.text) == 200_000
    full = format_body(response.body, response.content_type, preview_chars=None)
    expected = json.dumps(json.loads(JSON_5MB), indent=2, ensure_ascii=False)
    assert full.text == expected and "Zoë" in full.text
    assert view.lines == full.lines == expected.count("\n") + 1


def test_a_30mb_body_is_truncated_to_the_first_20mb(origin: Scripted) -> None:
    origin.routes["/v4/huge"] = lambda h: h.answer(200, JSON_30MB, Content_Type="application/json")
    client, _ = client_for(origin)
    response = client.request("GET", "/v4/huge")
    assert MAX_BODY == 20 * MB
    assert response.truncated
    assert response.size == MAX_BODY
    assert response.body == JSON_30MB[:MAX_BODY]
    view = format_body(response.body, response.content_type, cut_off=True)
    assert view.kind == "text" and view.error and "cut off" in view.error


def test_an_endless_stream_stops_at_the_cap_and_closes_the_connection(origin: Scripted) -> None:
    origin.routes["/v4/endless"] = lambda h: h.stream(b"[1,2,3]," * 8192, pause=0)
    client, _ = client_for(origin, max_body=MB)
    response = client.request("GET", "/v4/endless")
    assert response.truncated and response.size == MB
    assert origin.stream_ended.wait(5), "the connection was not closed"


def test_a_stream_that_stalls_hits_the_read_time_out(origin: Scripted) -> None:
    origin.routes["/v4/stall"] = lambda h: h.stream(b"[1,", pause=0, after_first=30)
    client, _ = client_for(origin, timeouts=Timeouts(2, 0.3))
    with pytest.raises(KitTimeoutError):
        client.request("GET", "/v4/stall")


def test_a_trickling_endless_stream_hits_the_deadline(origin: Scripted) -> None:
    origin.routes["/v4/trickle"] = lambda h: h.stream(b" ", pause=0.01)
    client, _ = client_for(origin, read_deadline=0.4)
    with pytest.raises(KitTimeoutError) as caught:
        client.request("GET", "/v4/trickle")
    assert "still arriving" in caught.value.user_message


def test_binary_html_and_deep_bodies_are_shown_as_text(origin: Scripted) -> None:
    origin.routes["/v4/png"] = lambda h: h.answer(200, PNG, Content_Type="image/png")
    origin.routes["/v4/html"] = lambda h: h.answer(200, HTML, Content_Type="text/html")
    origin.routes["/v4/deep"] = lambda h: h.answer(200, DEEP, Content_Type="application/json")
    client, _ = client_for(origin)
    png = client.request("GET", "/v4/png")
    view = format_body(png.body, png.content_type)
    assert view.kind == "binary" and f"{len(PNG):,} bytes" in view.text and "PNG" in view.text
    html = client.request("GET", "/v4/html")
    assert format_body(html.body, html.content_type).text == HTML.decode()
    deep = client.request("GET", "/v4/deep")
    view = format_body(deep.body, deep.content_type)
    assert view.kind == "text" and view.error and view.text == DEEP.decode()


# --- catalogue 56: redirects are answers, never followed ---------------------------------------


@pytest.mark.parametrize("target", ["elsewhere", "evil", "same origin"])
def test_e56_redirects_are_returned_not_followed(
    origin: Scripted, elsewhere: Scripted, target: str
) -> None:
    location = {
        "elsewhere": f"{elsewhere.base_url}/v4/account",
        "evil": "https://evil.example/v4/account",
        "same origin": "/v4/account",
    }[target]
    origin.routes["/v4/moved"] = lambda h: h.answer(302, Location=location)
    origin.routes["/v4/account"] = lambda h: h.answer(200, b"{}")
    elsewhere.routes["/v4/account"] = lambda h: h.answer(200, b"{}")
    client, access = client_for(origin)
    response = client.request("GET", "/v4/moved")
    assert response.status == 302
    assert response.headers["location"] == location
    assert origin.seen == [("/v4/moved", f"Bearer {access}")]
    assert elsewhere.seen == []


# --- catalogue 61: 429 is reported with a wait, never retried ----------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_retry_after_seconds_are_used_and_nothing_is_retried(origin: Scripted, method: str) -> None:
    origin.routes["/v4/tags"] = lambda h: h.answer(429, Retry_After="12")
    client, _ = client_for(origin)
    with pytest.raises(RateLimitedError) as caught:
        client.request(method, "/v4/tags", json_body={"name": "x"} if method == "POST" else None)
    assert caught.value.retry_after == 12
    assert caught.value.user_message == (  # this app sent one: Kit's own reason, not 600
        "Kit asked Kit Desktop to slow down (too many requests on this connection; another "
        "program may be using it too); try again in 12 s."
    )
    assert len(origin.seen) == 1


def test_retry_after_as_a_date(origin: Scripted) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    origin.routes["/v4/tags"] = lambda h: h.answer(429, Retry_After=when)
    client, _ = client_for(origin)
    with pytest.raises(RateLimitedError) as caught:
        client.request("GET", "/v4/tags")
    assert 25 < caught.value.retry_after <= 31


@pytest.mark.parametrize("header", ["", "soon", "nan", "-5"])
def test_a_missing_or_odd_retry_after_falls_back_to_the_meter(
    origin: Scripted, header: str
) -> None:
    origin.routes["/v4/tags"] = lambda h: h.answer(429, Retry_After=header)
    client, _ = client_for(origin)
    with pytest.raises(RateLimitedError) as caught:
        client.request("GET", "/v4/tags")
    assert 1 <= caught.value.retry_after <= 60
    assert len(origin.seen) == 1
