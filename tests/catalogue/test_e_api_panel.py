"""Catalogue section E, cases 55-57 and 59: where the token may go, and hostile answers.

Every test drives the real API page (pytest-qt, offscreen) wired to the real controller and
client, against stand-in origins on real sockets that record what reaches them. Cases 58 and
60-62 are in ``test_e_api_panel_env.py``.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.api.client import KitApiClient
from kit_desktop.api.paths import api_url, origin_of
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings
from kit_desktop.errors import ConfigError, KitTimeoutError, UnsafeRequestError
from kit_desktop.http import Timeouts
from tests.catalogue.ef_standins import (
    StandIns,
    endless,
    reply,
    stall,
)
from tests.catalogue.ef_support import (
    QT_NOISE,
    WAIT_MS,
    PanelRig,
    Rigs,
)

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)


ACCOUNT = {"user": {"email": "creator@example.com"}, "account": {"name": "Studio"}}


def result_of(outcome: object) -> ApiResult:
    assert isinstance(outcome, ApiResult), outcome
    return outcome


def response_headers(rig: PanelRig) -> dict[str, str]:
    table = rig.panel.response_view.headers_table
    shown: dict[str, str] = {}
    for row in range(table.rowCount()):
        name, value = table.item(row, 0), table.item(row, 1)
        assert name is not None and value is not None
        shown[name.text().lower()] = value.text()
    return shown


# --- 55: the token only goes to Kit ---------------------------------------------------------

HOSTILE_PATHS = [
    # the catalogue's own list
    "//evil.example/x",
    "https://evil.example/x",
    "https://api.kit.com@evil.example/",
    "http://api.kit.com/v4/x",
    "../../oauth/token",
    "https://api.kit.com.evil.example/",
    # the same tricks aimed at a live listener on this computer ({evil} is its port)
    "//127.0.0.1:{evil}/v4/x",
    "http://127.0.0.1:{evil}/v4/x",
    "HTTP://127.0.0.1:{evil}/v4/x",
    "http://api.kit.com@127.0.0.1:{evil}/v4/x",
    "  //127.0.0.1:{evil}/v4/x",
    "/v4/x@127.0.0.1:{evil}",
    "/v4/%2F%2F127.0.0.1:{evil}/x",
    "/v4/..%2F..%2Foauth/token",
    "/v4/%252e%252e/oauth/token",
    "/v4\\\\127.0.0.1:{evil}\\x",
    "/v4/x#@127.0.0.1:{evil}",
    "/v4/x\r\nHost: 127.0.0.1:{evil}",
    "\\\\127.0.0.1:{evil}/v4/x",
    "/oauth/token",
]


@pytest.mark.parametrize("template", HOSTILE_PATHS)
def test_c55_token_only_goes_to_kit(rigs: Rigs, standins: StandIns, template: str) -> None:
    kit, evil = (
        standins.start({"*": reply(200, ACCOUNT)}),
        standins.start({"*": reply(200, ACCOUNT)}),
    )
    rig = rigs.make(api_url=kit.base_url)
    path = template.format(evil=evil.port)

    outcome = rig.send("GET", path)

    assert isinstance(outcome, UnsafeRequestError)
    assert rig.message == f"Not sent. {outcome.user_message}"
    assert rig.client.meter.used() == 0
    assert evil.seen() == []
    assert kit.seen() == []


@pytest.mark.parametrize(
    ("path", "query", "expected_target"),
    [
        ("/v4/account", [], "/v4/account"),
        ("  /v4/subscribers?per_page=2 ", [], "/v4/subscribers?per_page=2"),
        ("/v4/subscribers", [("email_address", "a@b.example")], "/v4/subscribers?email_address="),
        ("/v4/tags/%31", [], "/v4/tags/1"),  # requests decodes unreserved escapes
    ],
)
def test_c55_bearer_is_attached_once_and_only_on_the_api_origin(
    rigs: Rigs, standins: StandIns, path: str, query: list[tuple[str, str]], expected_target: str
) -> None:
    kit = standins.start({"*": reply(200, ACCOUNT)})
    rig = rigs.make(api_url=kit.base_url)

    result = result_of(rig.send("GET", path, query))

    assert result.response.status == 200
    (seen,) = kit.seen()
    assert seen.target.startswith(expected_target)
    assert seen.header_values("Authorization") == [f"Bearer {rig.access_token}"]
    assert seen.header_values("Host") == [f"127.0.0.1:{kit.port}"]
    assert origin_of(result.response.url) == origin_of(kit.base_url)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v4/account", "https://api.kit.com/v4/account"),
        (" /v4/subscribers?per_page=2 ", "https://api.kit.com/v4/subscribers?per_page=2"),
        ("/v4/tags/%2e", None),
        ("/v4/../v4/account", None),
        ("https://api.kit.com/v4/account", None),  # a full address, even Kit's, is refused
        ("//api.kit.com/v4/account", None),
    ],
)
def test_c55_paths_land_on_https_api_kit_com_443_or_are_refused(
    path: str, expected: str | None
) -> None:
    if expected is None:
        with pytest.raises(UnsafeRequestError):
            api_url("https://api.kit.com", path)
        return
    url = api_url("https://api.kit.com", path)
    assert url == expected
    assert origin_of(url) == ("https", "api.kit.com", 443)


@pytest.mark.parametrize(
    "origin",
    [
        "http://api.kit.com",
        "https://user:pass@api.kit.com",
        "https://api.kit.com#x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://api.kit.com",
    ],
)
def test_c55_the_api_origin_itself_must_be_https(origin: str) -> None:
    settings = Settings(client_id="c", api_url=origin)
    with pytest.raises(ConfigError):
        KitApiClient(settings, TokenManager(OAuthClient(settings), MemoryTokenStore()))


# --- 56: API redirects ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_c56_a_redirect_to_another_host_is_not_followed(
    rigs: Rigs, standins: StandIns, status: int, method: str
) -> None:
    evil = standins.start({"*": reply(200, ACCOUNT)})
    location = f"http://127.0.0.1:{evil.port}/steal"
    kit = standins.start({"*": reply(status, b"", Location=location)})
    rig = rigs.make(api_url=kit.base_url)
    body = '{"name": "x"}' if method == "POST" else ""

    result = result_of(rig.send(method, "/v4/tags", body=body))

    assert result.response.status == status
    assert response_headers(rig)["location"] == location
    assert rig.panel.response_view.status_text.startswith(str(status))
    assert [r.method for r in kit.seen()] == [method]
    assert evil.seen() == []


def test_c56_a_same_origin_redirect_is_followed_only_by_hand(
    rigs: Rigs, standins: StandIns
) -> None:
    kit = standins.start(
        {"/v4/old": reply(302, b"", Location="/v4/account"), "/v4/account": reply(200, ACCOUNT)}
    )
    rig = rigs.make(api_url=kit.base_url)

    first = result_of(rig.send("GET", "/v4/old"))
    assert first.response.status == 302
    assert [r.path for r in kit.seen()] == ["/v4/old"]

    # The creator follows it by typing the path: it is checked like any other path.
    followed = result_of(rig.send("GET", response_headers(rig)["location"]))
    assert followed.response.status == 200
    assert [r.path for r in kit.seen()] == ["/v4/old", "/v4/account"]
    assert all(
        r.header_values("Authorization") == [f"Bearer {rig.access_token}"] for r in kit.seen()
    )


# --- 57: header injection and overrides ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("X-Test", "a\r\nX-Evil: 1", "has a line break"),
        ("X-Test", "a\nX-Evil: 1", "has a line break"),
        ("X-Test", "a\rX-Evil: 1", "has a line break"),
        ("X-Test", "a\x00b", "has a line break"),
        ("X-Test\r\nX-Evil", "1", "is not valid"),
        ("X Test", "1", "is not valid"),
        ("Authorization", "Bearer attacker", "The Authorization header is set by the app"),
        ("authorization", "Basic YTpi", "The Authorization header is set by the app"),
        ("AUTHORIZATION", "x", "The Authorization header is set by the app"),
        ("  Authorization  ", "x", "The Authorization header is set by the app"),
    ],
)
def test_c57_header_injection_and_overrides_are_refused_in_plain_words(
    rigs: Rigs, standins: StandIns, name: str, value: str, expected: str
) -> None:
    kit = standins.start({"*": reply(200, ACCOUNT)})
    rig = rigs.make(api_url=kit.base_url)

    outcome = rig.send("GET", "/v4/account", headers=[(name, value)])

    assert isinstance(outcome, UnsafeRequestError)
    assert rig.message.startswith("Not sent. ")
    assert expected in rig.message
    assert "Traceback" not in rig.message
    assert kit.seen() == []


def test_c57_a_typed_authorization_never_replaces_or_duplicates_the_bearer(
    qtbot: QtBot, rigs: Rigs, standins: StandIns
) -> None:
    kit = standins.start({"*": reply(200, ACCOUNT)})
    rig = rigs.make(api_url=kit.base_url)

    # The client refuses it even when the page's own check is bypassed.
    with pytest.raises(UnsafeRequestError):
        rig.client.request("GET", "/v4/account", headers={"Authorization": "Bearer attacker"})
    # "Copy as curl" refuses it too, and says why.
    rig.compose("GET", "/v4/account", headers=[("Authorization", "Bearer attacker")])
    with (
        qtbot.assertNotEmitted(rig.api.curl_ready),
        qtbot.waitSignal(rig.api.notice, timeout=WAIT_MS) as notice,
    ):
        QTest.mouseClick(rig.panel.composer.curl_button, Qt.MouseButton.LeftButton)
    assert "Authorization header is set by the app" in notice.args[0]
    assert kit.seen() == []

    # An ordinary custom header goes along with exactly one Bearer.
    result_of(rig.send("GET", "/v4/account", headers=[("X-Trace", "42")]))
    (seen,) = kit.seen()
    assert seen.header_values("X-Trace") == ["42"]
    assert seen.header_values("Authorization") == [f"Bearer {rig.access_token}"]


# --- 59: hostile responses ---------------------------------------------------------------------

DEEP = b"[" * 10_000 + b"]" * 10_000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
INVALID = b'{"subscribers": [1, 2,, 3]'


def test_c59_an_endless_body_is_capped_and_its_connection_closed(
    rigs: Rigs, standins: StandIns
) -> None:
    kit = standins.start({"*": endless()})
    rig = rigs.make(api_url=kit.base_url, max_body=1_000_000)

    result = result_of(rig.send("GET", "/v4/subscribers"))

    assert result.response.truncated
    assert result.response.size == 1_000_000
    assert kit.stream_ended.wait(10), "the app kept reading an endless body"
    shown = rig.panel.response_view.body_view.toPlainText()
    assert shown.startswith('{"x": "yyy')
    assert len(shown) <= 1_000_000


def test_c59_a_stalled_body_hits_the_read_timeout(rigs: Rigs, standins: StandIns) -> None:
    kit = standins.start({"*": stall()})
    rig = rigs.make(api_url=kit.base_url, timeouts=Timeouts(connect=5.0, read=0.3))

    outcome = rig.send("GET", "/v4/subscribers")

    assert isinstance(outcome, KitTimeoutError)
    assert rig.message == outcome.user_message
    assert not rig.api.running
    assert rig.panel.composer.send_button.isEnabled()


@pytest.mark.parametrize(
    ("content_type", "body", "literal"),
    [
        ("application/json", INVALID, '{"subscribers": [1, 2,, 3]'),
        ("application/json", DEEP, "[[[[[[[["),
        ("image/png", PNG, "PNG"),
        ("text/html", b"", "<script>"),  # filled in below with links to a live listener
    ],
    ids=["invalid-json", "nested-10000", "binary", "html"],
)
def test_c59_hostile_bodies_are_plain_text_with_no_remote_loads(
    qtbot: QtBot, rigs: Rigs, standins: StandIns, content_type: str, body: bytes, literal: str
) -> None:
    evil = standins.start({"*": reply(200, b"gotcha", Content_Type="image/gif")})
    if content_type == "text/html":
        here = f"http://127.0.0.1:{evil.port}"
        body = (
            f"<html><body><img src={here}/p.gif><a href='{here}/click'>click</a>"
            f"<link rel=stylesheet href={here}/s.css>"
            f"<script>fetch('{here}/s')</script></body></html>"
        ).encode()
    kit = standins.start({"*": reply(200, body, Content_Type=content_type)})
    rig = rigs.make(api_url=kit.base_url)

    result = result_of(rig.send("GET", "/v4/account"))

    view = rig.panel.response_view
    assert isinstance(view.body_view, QPlainTextEdit)
    assert result.body.kind in ("text", "binary")
    assert literal in view.body_view.toPlainText()
    for label in rig.panel.findChildren(QLabel):
        if "<" in label.text():
            assert label.textFormat() is Qt.TextFormat.PlainText, label.text()
    assert "nothing in it is opened or run" in " ".join(
        label.text() for label in rig.panel.findChildren(QLabel)
    )
    # Every view shows it literally; click into the body: nothing is fetched or opened.
    view.tabs.setCurrentWidget(view.raw_view)
    qtbot.waitUntil(lambda: bool(view.raw_view.toPlainText()), timeout=WAIT_MS)
    QTest.mouseClick(view.body_view.viewport(), Qt.MouseButton.LeftButton)
    assert evil.seen() == []
    assert len(kit.seen()) == 1
