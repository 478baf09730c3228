"""Hostile and huge answers (catalogue 59): 5 MB never freezes the window; HTML stays text."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.sandbox import SandboxServer
from tests.qt.test_api_support import (
    OFFSCREEN_NOISE,
    WAIT_MS,
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
    qtbot: QtBot, rig: Rig, big: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GUI thread never formats the answer, and fills the view a slice at a time.

    How long the GUI thread stalls meanwhile is measured by bench/ui_stall.py, not here.
    """
    formatted_on = record_formatting(monkeypatch)
    gui_thread = threading.get_ident()
    view = rig.panel.response_view

    result = rig.send("GET", "/v4/big")
    assert isinstance(result, ApiResult)
    assert result.response.size == len(big) and not result.response.truncated
    assert formatted_on and gui_thread not in formatted_on  # formatted before the GUI saw it
    assert result.body.truncated_view and view.show_all_button.isVisible()
    shown = view.body_view.toPlainText()
    assert shown == result.body.text and len(shown) <= 200_000

    view.tabs.setCurrentWidget(view.raw_view)
    qtbot.waitUntil(lambda: not view.raw_view.filling, timeout=WAIT_MS)
    raw = view.raw_view.toPlainText()
    assert raw.startswith(result.raw_text) and result.raw_truncated
    assert raw.endswith("“Save to file…” keeps the whole answer.]")

    formatted_before = len(formatted_on)
    QTest.mouseClick(view.show_all_button, Qt.MouseButton.LeftButton)
    assert view.body_view.filling  # one slice now, the rest on later turns of the event loop
    seen: set[int] = set()

    def filled() -> bool:
        seen.add(view.body_view.document().characterCount())
        return not view.body_view.filling

    qtbot.waitUntil(filled, timeout=60_000)
    total = view.body_view.document().characterCount()
    assert len(seen - {total}) >= 2, "the GUI thread ran in between only once or never"
    assert len(formatted_on) == formatted_before  # "Show all" shows what the worker made

    assert view.body_view.document().blockCount() == result.body.lines
    assert not view.show_all_button.isVisible()
    last_id = len(json.loads(big)["subscribers"]) - 1
    view.find_bar.field.setText(f'"id": {last_id},')
    QTest.keyClick(view.find_bar.field, Qt.Key.Key_Return)
    assert view.body_view.textCursor().selectedText() == f'"id": {last_id},'


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


def record_formatting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Note the thread of every call to ``format_body`` while answers are prepared.

    It is patched in the module that prepares an :class:`ApiResult` (wherever that lives).
    """
    threads: list[int] = []
    preparing = sys.modules[ApiResult.__module__]
    real = preparing.format_body

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(preparing, "format_body", recording)
    return threads


def _note(rig: Rig) -> str:
    from PySide6.QtWidgets import QLabel

    note = rig.panel.response_view.findChild(QLabel, "note")
    assert isinstance(note, QLabel)
    return note.text() if note.isVisibleTo(rig.panel) else ""
