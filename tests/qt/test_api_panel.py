"""The API page on its own: composing, keeping path and query in step, keys, connection state."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QProgressBar, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.api.endpoints import ENDPOINTS
from kit_desktop.qt.api_requests import ApiRequests
from kit_desktop.state import Phase
from kit_desktop.ui.api_panel import ApiPanel
from tests.qt.test_api_support import OFFSCREEN_NOISE, POPUP_NOISE, cell
from tests.qt.test_ui_support import FakeClock, build_window, view

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def panel(qtbot: QtBot) -> ApiPanel:
    page = ApiPanel()
    qtbot.addWidget(page)
    page.set_endpoints(ApiRequests.endpoints(), ApiRequests.presets())
    page.show_connected(True)
    page.show()
    qtbot.waitExposed(page)
    return page


def table_rows(panel: ApiPanel) -> list[tuple[str, str]]:
    table = panel.composer.query_table
    return [(cell(table, r, 0).text(), cell(table, r, 1).text()) for r in range(table.rowCount())]


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, POPUP_NOISE)
def test_typing_a_query_in_the_path_fills_the_table(qtbot: QtBot, panel: ApiPanel) -> None:
    field = panel.composer.path_field
    field.setFocus()
    QTest.keyClicks(field, "/v4/subscribers?status=all&per_page=5&email_address=a%40b.com")

    assert table_rows(panel) == [
        ("status", "all"),
        ("per_page", "5"),
        ("email_address", "a@b.com"),
        ("", ""),
    ]
    assert panel.composer.path == "/v4/subscribers"
    assert panel.composer.query == [
        ("status", "all"),
        ("per_page", "5"),
        ("email_address", "a@b.com"),
    ]


def test_editing_the_table_rewrites_the_path(qtbot: QtBot, panel: ApiPanel) -> None:
    panel.composer.load("GET", "/v4/subscribers", [("per_page", "5")])
    table = panel.composer.query_table
    cell(table, 0, 1).setText("50")
    cell(table, 1, 0).setText("sort_order")
    cell(table, 1, 1).setText("asc & desc")

    assert panel.composer.path_field.text() == (
        "/v4/subscribers?per_page=50&sort_order=asc+%26+desc"
    )
    assert table_rows(panel)[-1] == ("", "")  # always one empty row to type into
    cell(table, 0, 0).setText("")
    cell(table, 0, 1).setText("")  # emptied: the row goes
    assert panel.composer.path_field.text() == "/v4/subscribers?sort_order=asc+%26+desc"


def test_body_is_checked_as_you_type_with_line_and_column(qtbot: QtBot, panel: ApiPanel) -> None:
    composer = panel.composer
    composer.load("POST", "/v4/tags", [], "")
    composer.body_editor.setPlainText('{\n  "name": "Course"\n  "x": 1\n}')
    qtbot.waitUntil(lambda: "line 3, column 3" in composer.body_status.text(), timeout=2000)
    assert composer.body_status.text() == (
        "The body is not valid JSON: line 3, column 3: a comma is missing between two items."
    )

    composer.body_editor.setPlainText('{"name":"Course","tags":[1,2]}')
    qtbot.waitUntil(lambda: composer.body_status.text() == "Valid JSON", timeout=2000)
    format_button = next(b for b in composer.findChildren(QAbstractButton) if b.text() == "Format")
    format_button.click()
    assert composer.body_editor.toPlainText() == (
        '{\n  "name": "Course",\n  "tags": [\n    1,\n    2\n  ]\n}'
    )


def test_get_has_no_body(panel: ApiPanel) -> None:
    composer = panel.composer
    composer.load("POST", "/v4/tags", [], '{"name": "x"}')
    assert composer.body_text == '{"name": "x"}'
    composer.load("GET", "/v4/tags", [])
    assert composer.body_text == ""
    assert not composer.body_editor.isEnabled()


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, POPUP_NOISE)
def test_completion_lists_kits_endpoints_with_a_description(qtbot: QtBot, panel: ApiPanel) -> None:
    composer = panel.composer
    field = composer.path_field
    field.setFocus()
    QTest.keyClicks(field, "tags")
    completer = composer.completer
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    model = completer.completionModel()
    rows = [(model.index(r, 0).data(), model.index(r, 1).data()) for r in range(model.rowCount())]
    assert ("/v4/tags", "POST  ·  Create a tag") in rows
    assert ("/v4/tags", "GET  ·  List tags") in rows

    create = next(r for r in range(model.rowCount()) if model.index(r, 1).data().endswith("tag"))
    popup.setCurrentIndex(model.index(create, 0))
    QTest.keyClick(popup, Qt.Key.Key_Return)
    assert field.text() == "/v4/tags"
    assert composer.method == "POST"
    assert composer.body_editor.toPlainText() == '{"name": "Completed"}'
    assert composer.hint.text() == "Create a tag"


def test_the_hint_names_the_endpoint(panel: ApiPanel) -> None:
    composer = panel.composer
    composer.load("GET", "/v4/subscribers/123/tags", [])
    assert composer.hint.text() == "List a subscriber's tags"
    composer.load("GET", "/v4/subscribers/{id}", [])
    assert composer.hint.text().startswith("Show one subscriber (replace the part in braces")


def test_presets_are_the_ready_made_requests(panel: ApiPanel) -> None:
    box = panel.composer.preset_box
    names = [box.itemText(i) for i in range(1, box.count())]
    assert "List subscribers" in names and "Create a tag" in names
    assert all("{" not in e.path for e in ENDPOINTS if e.summary in names)


def test_ctrl_enter_sends_from_anywhere_on_the_page(qtbot: QtBot, panel: ApiPanel) -> None:
    panel.composer.load("POST", "/v4/tags", [("a", "1")], '{"name": "Key"}')
    panel.composer.body_editor.setFocus()
    with qtbot.waitSignal(panel.send_requested, timeout=1000) as sent:
        QTest.keyClick(panel.composer.body_editor, Qt.Key.Key_Return, CTRL)
    assert sent.args == ["POST", "/v4/tags", [("a", "1")], '{"name": "Key"}', []]


def test_send_is_off_until_connected_and_says_why(qtbot: QtBot, panel: ApiPanel) -> None:
    panel.show_connected(False, "Connect to Kit first, on the Connection tab.")
    composer = panel.composer
    composer.load("GET", "/v4/account", [])
    assert not composer.send_button.isEnabled()
    assert composer.hint.text() == "Connect to Kit first, on the Connection tab."
    with qtbot.assertNotEmitted(panel.send_requested, wait=0):
        QTest.keyClick(composer.path_field, Qt.Key.Key_Return, CTRL)
        QTest.keyClick(composer.path_field, Qt.Key.Key_Return)
    panel.show_connected(True)
    assert composer.send_button.isEnabled()
    assert composer.hint.text() == "Show the account"


def test_the_window_hosts_the_page_and_follows_the_connection(qtbot: QtBot, tmp_path: Path) -> None:
    window = build_window(qtbot, tmp_path, FakeClock())
    tabs = window.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Connection", "API requests"]
    send = window.api_panel.composer.send_button
    window.show_view(view(Phase.NOT_CONNECTED))
    assert not send.isEnabled()
    window.show_view(view(Phase.RECONNECT_NEEDED))
    assert "connect again" in send.toolTip()
    window.show_view(view(Phase.CONNECTED))
    assert send.isEnabled()
    window.api_panel.show_notice("Saved.")
    assert window.statusBar().currentMessage() == "Saved."


def test_every_control_is_named_and_described(panel: ApiPanel) -> None:
    controls = [
        w
        for w in panel.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QLineEdit | QProgressBar)
        and not w.objectName().startswith("qt_")
    ]
    assert len(controls) > 10
    for control in controls:
        assert control.accessibleName(), control
        assert control.accessibleDescription(), control


def test_history_entry_loads_the_request_again(qtbot: QtBot, panel: ApiPanel) -> None:
    from kit_desktop.api.answer import HistoryEntry
    from kit_desktop.api.pipeline import ApiRequest

    request = ApiRequest("POST", "/v4/tags", (("x", "1"),), '{"name": "Again"}', (("X-A", "b"),))
    panel.show_history([HistoryEntry(request, "201 Created", 201, 0.012, 1_760_000_000.0)])
    item = panel.history_list.item(0)
    assert item.text().startswith("POST /v4/tags\n201 Created · 12 ms · ")
    panel.history_list.itemClicked.emit(item)
    composer = panel.composer
    assert (composer.method, composer.path, composer.query) == ("POST", "/v4/tags", [("x", "1")])
    assert composer.body_text == '{"name": "Again"}'
    assert composer.headers == [("X-A", "b")]


def test_unused_completion_index_is_ignored(panel: ApiPanel) -> None:
    panel.composer.completer.activated[QModelIndex].emit(QModelIndex())  # type: ignore[index]
    assert panel.composer.method == "GET"


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, POPUP_NOISE)
def test_enter_in_the_suggestions_picks_one_then_enter_sends(qtbot: QtBot, panel: ApiPanel) -> None:
    field = panel.composer.path_field
    field.setFocus()
    QTest.keyClicks(field, "/v4/tags")
    popup = panel.composer.completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    model = panel.composer.completer.completionModel()
    create = next(r for r in range(model.rowCount()) if model.index(r, 1).data().startswith("POST"))
    popup.setCurrentIndex(model.index(create, 0))
    with qtbot.assertNotEmitted(panel.send_requested, wait=50):
        QTest.keyClick(popup, Qt.Key.Key_Return)  # picks the suggestion, sends nothing
    assert panel.composer.method == "POST"
    assert not popup.isVisible()
    with qtbot.waitSignal(panel.send_requested, timeout=1000) as sent:
        QTest.keyClick(field, Qt.Key.Key_Return)  # the suggestions closed: Enter sends
    assert sent.args[:2] == ["POST", "/v4/tags"]


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, POPUP_NOISE)
def test_enter_sends_while_suggestions_show_but_none_is_chosen(
    qtbot: QtBot, panel: ApiPanel
) -> None:
    field = panel.composer.path_field
    field.setFocus()
    QTest.keyClicks(field, "/v4/account")
    popup = panel.composer.completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert not popup.currentIndex().isValid()
    with qtbot.waitSignal(panel.send_requested, timeout=1000) as sent:
        QTest.keyClick(popup, Qt.Key.Key_Return)
    assert sent.args[:2] == ["GET", "/v4/account"]


def test_meter_keeps_its_limit(panel: ApiPanel) -> None:
    panel.show_meter(0, 120)
    panel.show_meter(7)
    assert panel.meter_text == "7 of 120 requests this minute"
