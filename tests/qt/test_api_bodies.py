"""Hostile and huge answers (catalogue 59): 5 MB never freezes the window; HTML stays text."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kit_desktop.qt.api_requests import ApiResult
from kit_desktop.sandbox import SandboxServer
from tests.qt.test_api_support import (
    OFFSCREEN_NOISE,
    WAIT_MS,
    Heartbeat,
    Rig,
    StandIn,
    big_json,
    make_rig,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

HOSTILE_HTML = (
    b"<html><head><title>Proxy</title></head><body><h1>Blocked</h1>"
    b"<img src='http://127.0.0.1:9/pixel.png'><a href='https://evil.example/'>Click</a>"
    b"<script>alert(1)</script></body></html>"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8


@pytest.fixture(scope="module")
def big() -> bytes:
    return big_json()


@pytest.fixture
def rig(qtbot: QtBot, sandbox: SandboxServer, big: bytes) -> Iterator[Rig]:
    routes = {
        "/v4/big": (200, "application/json; charset=utf-8", big),
        "/v4/html": (200, "text/html; charset=utf-8", HOSTILE_HTML),
        "/v4/binary": (200, "image/png", PNG),
        "/v4/broken": (200, "application/json", b'{"subscribers": [1, 2,'),
    }
    with StandIn(routes) as standin:
        made = make_rig(qtbot, sandbox, api_url=standin.base_url)
        yield made
        made.close()


def test_a_5_mb_answer_opens_shortened_then_in_full_without_freezing(
    qtbot: QtBot, rig: Rig, big: bytes
) -> None:
    view = rig.panel.response_view
    heartbeat = Heartbeat()
    heartbeat.start()

    result = rig.send("GET", "/v4/big")
    assert isinstance(result, ApiResult)
    assert result.response.size == len(big) and not result.response.truncated
    assert result.body.truncated_view and view.show_all_button.isVisible()
    shown = view.body_view.toPlainText()
    assert shown == result.body.text and len(shown) <= 200_000
    first_stall = heartbeat.longest_ms

    view.tabs.setCurrentWidget(view.raw_view)
    qtbot.waitUntil(lambda: not view.raw_view.filling, timeout=WAIT_MS)
    raw = view.raw_view.toPlainText()
    assert raw.startswith(result.raw_text) and result.raw_truncated
    assert raw.endswith("“Save to file…” keeps the whole answer.]")
    QTest.mouseClick(view.show_all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.body_view.filling, timeout=60_000)
    heartbeat.stop()

    assert view.body_view.document().blockCount() == result.body.lines
    assert not view.show_all_button.isVisible()
    last_id = len(json.loads(big)["subscribers"]) - 1
    view.find_bar.field.setText(f'"id": {last_id},')
    QTest.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.body_view.textCursor().selectedText() == f'"id": {last_id},'
    print(
        f"\nlongest GUI stall: {first_stall:.1f} ms receiving and showing 5 MB, "
        f"{heartbeat.longest_ms:.1f} ms including Show all"
    )
    assert heartbeat.longest_ms < 500  # generous: catches a freeze, not a benchmark


def test_html_is_shown_as_text_never_rendered(rig: Rig) -> None:
    result = rig.send("GET", "/v4/html")
    assert isinstance(result, ApiResult)
    body = rig.panel.response_view.body_view
    assert body.toPlainText() == HOSTILE_HTML.decode()
    assert result.body.kind == "text"
    assert "Shown as plain text" in _note(rig)


def test_binary_is_described_not_dumped(rig: Rig) -> None:
    result = rig.send("GET", "/v4/binary")
    assert isinstance(result, ApiResult)
    assert result.body.kind == "binary"
    text = rig.panel.response_view.body_view.toPlainText()
    assert text.startswith("Binary content, 2.0 KB")
    assert "89 50 4e 47" in text
    assert "\x00" not in text


def test_broken_json_is_shown_as_received_with_the_reason(rig: Rig) -> None:
    result = rig.send("GET", "/v4/broken")
    assert isinstance(result, ApiResult)
    assert rig.panel.response_view.body_view.toPlainText() == '{"subscribers": [1, 2,'
    assert "Not valid JSON: line 1" in _note(rig)


def test_ctrl_f_finds_in_the_answer(qtbot: QtBot, rig: Rig) -> None:
    rig.send("GET", "/v4/html")
    view = rig.panel.response_view
    view.body_view.setFocus()
    QTest.keyClick(view.body_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.field.hasFocus()
    QTest.keyClicks(view.find_bar.field, "script")
    QTest.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.body_view.textCursor().selectedText() == "script"
    view.find_bar.field.setText("nowhere to be seen")
    QTest.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.find_bar.result_label == "Not found"


def _note(rig: Rig) -> str:
    from PySide6.QtWidgets import QLabel

    note = rig.panel.response_view.findChild(QLabel, "note")
    assert isinstance(note, QLabel)
    return note.text() if note.isVisibleTo(rig.panel) else ""
