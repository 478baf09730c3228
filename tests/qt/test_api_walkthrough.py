"""Issue 16's walkthrough of the API page, in the window at its default size, against the sandbox.

Each test reads what the creator sees: the field's grey text, where the focus is after Send,
how wide the history and the suggestions are, what the status line and the body check say.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.errors import ApiError
from kit_desktop.json_words import plain_json_words
from kit_desktop.sandbox import SandboxServer
from kit_desktop.ui.api_words import json_words
from kit_desktop.ui.main_window import MainWindow
from tests.qt.test_api_support import OFFSCREEN_NOISE, POPUP_NOISE, WAIT_MS, Rig, make_rig
from tests.qt.test_ui_support import FakeClock, build_window

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, POPUP_NOISE)

SCREENSHOT = Path("/tmp/api_tab.png")


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    """The main window at the size it opens with (no saved geometry), on its API tab."""
    made = build_window(qtbot, tmp_path, FakeClock())
    made.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is made, timeout=WAIT_MS)
    made.tabs.setCurrentIndex(made.tabs.indexOf(made.api_panel))
    qtbot.waitUntil(made.api_panel.isVisible, timeout=WAIT_MS)
    return made


@pytest.fixture
def rig(qtbot: QtBot, sandbox: SandboxServer, window: MainWindow) -> Iterator[Rig]:
    """The window's own API page, connected to the sandbox."""
    made = make_rig(qtbot, sandbox, panel=window.api_panel)
    yield made
    made.close()


def result_of(outcome: object) -> ApiResult:
    assert isinstance(outcome, ApiResult), outcome
    return outcome


def shown_message(rig: Rig) -> str:
    message = rig.panel.response_view.message
    return message.text if message.isVisibleTo(rig.panel) else ""


def test_the_window_opens_at_its_default_size(window: MainWindow) -> None:
    em = window.fontMetrics().height()
    assert window.width() == em * 40  # 560 px with the 14 px font the walkthrough had


# --- item 4: the empty path ---------------------------------------------------------------


def test_the_empty_path_shows_an_instruction_not_a_path(window: MainWindow) -> None:
    field = window.api_panel.composer.path_field
    assert field.text() == ""
    assert field.placeholderText() == "Type a path, for example /v4/account"


def test_send_with_no_path_says_what_to_type_and_sends_nothing(rig: Rig) -> None:
    composer = rig.panel.composer
    rig.compose("GET", "")
    outcome = rig.click_and_wait(composer.send_button)

    assert isinstance(outcome, ApiError)
    assert shown_message(rig) == "Type the path of the request first, for example /v4/account."
    assert rig.client.meter.used() == 0
    assert rig.panel.history_list.count() == 0  # nothing to load again
    assert QApplication.focusWidget() is composer.path_field  # where to type it


# --- item 10: the layout at the default size ----------------------------------------------


def test_history_width_and_one_line_status_hold_after_each_answer(
    qtbot: QtBot, rig: Rig, window: MainWindow
) -> None:
    history, view = rig.panel.history_list, rig.panel.response_view
    meta = view.meta_label
    em = window.fontMetrics().height()
    size = window.size()
    widths = [history.width()]

    result_of(rig.send("GET", "/v4/subscribers", [("status", "all"), ("per_page", "1000")]))
    widths.append(history.width())
    # A long answer: its time and size stay on one line beside the status, whole.
    assert meta.full_text.endswith("kB")
    assert meta.text() == meta.full_text
    assert meta.height() < em * 2
    assert view.next_button.isVisible()
    window.grab().save(str(SCREENSHOT))

    result_of(rig.send("GET", "/v4/account"))
    widths.append(history.width())
    rig.send("GET", "/v4/tags/999999")
    widths.append(history.width())
    rig.send("GET", "https://evil.example/x")  # refused here, with a long explanation
    widths.append(history.width())
    rig.compose("GET", "/v4/account", headers=[("X-" + "Long" * 30, "a\r\nb")])
    rig.click_and_wait(rig.panel.composer.send_button)  # a refusal with one very long word
    widths.append(history.width())

    assert len(set(widths)) == 1, widths
    assert window.size() == size  # nothing pushed the window wider or taller
    first_line = history.item(history.count() - 1).text().split("\n")[0]
    assert history.fontMetrics().horizontalAdvance(first_line) <= history.viewport().width()


def test_the_status_line_stays_one_line_in_a_narrower_window(
    qtbot: QtBot, rig: Rig, window: MainWindow
) -> None:
    result_of(rig.send("GET", "/v4/subscribers", [("status", "all"), ("per_page", "1000")]))
    meta = rig.panel.response_view.meta_label
    window.resize(window.minimumSizeHint().width(), window.height())
    qtbot.waitUntil(lambda: meta.text() != meta.full_text, timeout=WAIT_MS)
    assert meta.text().endswith("…") and meta.toolTip() == meta.full_text
    assert meta.height() < window.fontMetrics().height() * 2


def test_suggestions_show_whole_paths_not_cut_to_the_field(qtbot: QtBot, rig: Rig) -> None:
    composer = rig.panel.composer
    field = composer.path_field
    field.setFocus()
    QTest.keyClicks(field, "/v4/sub")
    popup = composer.completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT_MS)
    model = composer.completer.completionModel()
    assert model.rowCount() > 3

    metrics = popup.fontMetrics()
    assert popup.width() > field.width()
    assert popup.screen().availableGeometry().contains(popup.geometry())
    viewport = popup.viewport().width()
    for row in range(model.rowCount()):
        path: QModelIndex = model.index(row, 0)
        cell = popup.visualRect(path)
        assert cell.width() >= metrics.horizontalAdvance(path.data()), path.data()
        assert cell.right() < viewport  # the whole path is inside the list, not off its edge


def test_after_send_the_focus_stays_where_enter_sends_again(
    qtbot: QtBot, rig: Rig, window: MainWindow
) -> None:
    composer = rig.panel.composer
    first = result_of(rig.send("GET", "/v4/account"))  # a mouse click on Send
    assert first.response.status == 200

    assert QApplication.focusWidget() is composer.path_field  # not "Copy as curl"
    with qtbot.waitSignal(rig.api.finished, timeout=WAIT_MS) as again:
        QTest.keyClick(composer.path_field, Qt.Key.Key_Return)
    assert result_of(again.args[0]).request.path == "/v4/account"
    qtbot.waitUntil(lambda: not rig.api.running, timeout=WAIT_MS)
    assert QApplication.focusWidget() is composer.path_field

    composer.send_button.setFocus()  # tabbed to Send: Enter presses it
    with qtbot.waitSignal(rig.api.finished, timeout=WAIT_MS):
        QTest.keyClick(composer.send_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not rig.api.running, timeout=WAIT_MS)
    assert QApplication.focusWidget() is composer.path_field
    assert rig.client.meter.used() == 3


def test_cancel_hands_the_focus_back_to_the_path(
    qtbot: QtBot, rig: Rig, sandbox: SandboxServer
) -> None:
    from kit_desktop.sandbox.faults import Fault

    sandbox.set_fault("/v4/account", Fault("delay", seconds=0.5, times=1))
    composer = rig.panel.composer
    rig.compose("GET", "/v4/account")
    with qtbot.waitSignal(rig.api.started, timeout=WAIT_MS):
        QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(composer.cancel_button, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is composer.path_field
    qtbot.waitUntil(lambda: not rig.api.busy, timeout=WAIT_MS)


# --- polish: paging ------------------------------------------------------------------------


def test_start_from_follows_the_request_as_it_is_paged(rig: Rig) -> None:
    composer = rig.panel.composer
    presets = composer.preset_box
    index = presets.findText("List subscribers")
    presets.setCurrentIndex(index)
    presets.activated.emit(index)
    assert presets.currentText() == "List subscribers"

    result_of(rig.click_and_wait(composer.send_button))
    view = rig.panel.response_view
    assert view.pages_label.full_text == "Pages of GET /v4/subscribers"
    result_of(rig.click_and_wait(view.next_button))

    assert "after=" in composer.path_field.text()
    assert presets.currentText() == "Choose a ready-made request…"  # no longer the preset
    composer.path_field.setText("/v4/subscribers")
    assert presets.currentText() == "List subscribers"  # the preset again, named again


def test_next_page_of_an_old_answer_keeps_the_request_being_edited(qtbot: QtBot, rig: Rig) -> None:
    first = result_of(rig.send("GET", "/v4/subscribers", [("per_page", "2")]))
    view = rig.panel.response_view
    notices: list[str] = []
    rig.panel.notice.connect(notices.append)
    rig.compose("POST", "/v4/tags", body='{"name": "Half typed"}')  # a new request, unsent

    second = result_of(rig.click_and_wait(view.next_button))

    after = dict(first.next_query or ())["after"]
    assert (second.request.method, second.request.path) == ("GET", "/v4/subscribers")
    assert dict(second.request.query) == {"per_page": "2", "after": after}
    ids = [s["id"] for s in second.response.json()["subscribers"]]
    assert ids and ids != [s["id"] for s in first.response.json()["subscribers"]]
    composer = rig.panel.composer
    assert (composer.method, composer.path_field.text()) == ("POST", "/v4/tags")
    assert composer.body_text == '{"name": "Half typed"}'
    assert notices == [
        "Asked Kit for another page of GET /v4/subscribers. The request you are editing is kept."
    ]
    assert view.pages_label.full_text == "Pages of GET /v4/subscribers"


# --- polish: JSON in plain words -----------------------------------------------------------

BROKEN = [
    ('{\n  email: "a@b.com"\n}', 2, 3, 'names need double quotes, like "email".'),
    ('{"name": "x",\n}', 2, 1, "remove the comma before the closing }."),
    ('{"tags": [1, 2,]}', 1, 16, "remove the comma before the closing ]."),
    ("{\"name\": 'x'}", 1, 10, 'text needs double quotes, like "Completed", not single quotes.'),
    (
        '{"name" "x"}',
        1,
        9,
        'put a colon between a name and its value, like "email": "ada@example.com".',
    ),
    ('{"a": 1\n "b": 2}', 2, 2, "a comma is missing between two items."),
    (
        '{"name": "x"',
        1,
        13,
        "it stops too soon: something is missing at the end, like a closing } or ].",
    ),
    ('{"name": "x}', 1, 10, 'a closing double quote (") is missing.'),
    (
        '{"name": "a\tb"}',
        1,
        12,
        r"text in quotes cannot hold a line break or a tab; write \n or \t instead.",
    ),
    (
        '{"name": "a\\qb"}',
        1,
        12,
        r"a backslash starts something JSON does not know; write \\ for a backslash.",
    ),
    (
        '{"a": 1} {"b": 2}',
        1,
        10,
        "there is more after the end: the body must be one value, like one {…}.",
    ),
    (
        '{"active": True}',
        1,
        12,
        "a value is missing or not valid here: text needs double quotes, like",
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), BROKEN)
def test_the_body_check_says_where_and_what_to_do(
    qtbot: QtBot, window: MainWindow, text: str, line: int, column: int, words: str
) -> None:
    composer = window.api_panel.composer
    composer.load("POST", "/v4/tags", [], "")
    composer.body_editor.setPlainText(text)
    where = f"The body is not valid JSON: line {line}, column {column}: "
    qtbot.waitUntil(lambda: composer.body_status.text().startswith(where), timeout=WAIT_MS)
    assert composer.body_status.text().startswith(where + words)
    assert "Expecting" not in composer.body_status.text()


def test_sending_broken_json_gives_the_same_plain_words(rig: Rig) -> None:
    outcome = rig.send("POST", "/v4/tags", body='{\n  email: "a@b.com"\n}')
    assert isinstance(outcome, ApiError)
    assert shown_message(rig) == (
        'The body is not valid JSON: line 2, column 3: names need double quotes, like "email". '
        "Nothing was sent."
    )
    assert rig.client.meter.used() == 0


@pytest.mark.parametrize("text", [t for t, *_ in BROKEN] + ["[" * 100_000, "{", '"\\u12"'])
def test_the_window_and_the_core_use_the_same_words(text: str) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        message, position = exc.msg, exc.pos
    except RecursionError:
        message, position = "Nested too deeply", 0
    else:
        pytest.fail("valid JSON")
    assert json_words(message, text, position) == plain_json_words(message, text, position)


def test_unknown_parser_words_fall_back_to_plain_advice() -> None:
    words = "check the quotes, commas and brackets there."
    assert json_words("Something new", "{}", 0) == plain_json_words("Something new", "{}", 0)
    assert json_words("Something new", "{}", 0) == words
