"""Kit's lists as tables and "Export all to CSV": a real sandbox over HTTP, the page, wired."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.lists import ExportOutcome
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from kit_desktop.state import Phase
from tests.helpers.gui_apps import show_app
from tests.helpers.user_browser import UserBrowser
from tests.qt.test_api_support import OFFSCREEN_NOISE, WAIT_MS, Rig, make_rig

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)

EXPORT_MS = 60_000


@pytest.fixture
def big() -> Iterator[SandboxServer]:
    """A sandbox whose account has 2,500 subscribers (three pages of 1,000)."""
    with SandboxServer(auto_approve=True, token_lifetime=7200, subscriber_count=2500) as server:
        yield server


@pytest.fixture
def rig(qtbot: QtBot, big: SandboxServer) -> Iterator[Rig]:
    made = make_rig(qtbot, big)
    made.api._export._backoff = (0.05, 0.05, 0.05)  # the drops' waits, shortened
    yield made
    made.close()


def export(rig: Rig, path: Path) -> ExportOutcome:
    """Press Export all to CSV, answer the file question with ``path``, wait for the end."""
    rig.panel.choose_export_path = lambda _parent, _suggested: str(path)
    view = rig.panel.response_view
    view.tabs.setCurrentWidget(view.table_page)
    with rig.qtbot.waitSignal(rig.api.export_finished, timeout=EXPORT_MS) as done:
        QTest.mouseClick(rig.panel.response_view.export_button, Qt.MouseButton.LeftButton)
    outcome = done.args[0] if done.args else None
    assert isinstance(outcome, ExportOutcome)
    return outcome


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


# --- tables -----------------------------------------------------------------------------------


def test_subscribers_show_as_a_table_with_a_creators_columns(rig: Rig) -> None:
    rig.send("GET", "/v4/subscribers", [("per_page", "50"), ("status", "all")])
    view = rig.panel.response_view
    table = view.table_view
    titles = [table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(5)]

    assert titles == ["Email", "First name", "State", "Created", "ID"]
    assert table.model().rowCount() == 50
    assert view.tabs.isTabVisible(view.tabs.indexOf(rig.panel.response_view.table_page))
    first = rig.server.api.store.subscriber_view("all", descending=True)[0]
    assert table.text_at(0, 0) == first["email_address"]
    assert table.text_at(0, 4) == str(first["id"])
    custom = {
        table.model().headerData(c, Qt.Orientation.Horizontal)
        for c in range(5, table.model().columnCount())
    }
    assert custom == {"Last name", "Company", "Category", "City"}, "keys read as headings"
    view.tabs.setCurrentWidget(rig.panel.response_view.table_page)
    assert view.export_button.isVisible()


def test_tags_table_sorts_on_a_heading_click(rig: Rig) -> None:
    rig.send("GET", "/v4/tags")
    table = rig.panel.response_view.table_view
    rig.panel.response_view.tabs.setCurrentWidget(rig.panel.response_view.table_page)
    names = sorted((t["name"] for t in rig.server.api.store.tags()), key=str.casefold)
    header = table.horizontalHeader()
    assert [table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == [
        "Name",
        "Created",
        "ID",
    ]

    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=_section_centre(table, 0))
    ascending = [table.text_at(r, 0) for r in range(table.model().rowCount())]
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=_section_centre(table, 0))
    descending = [table.text_at(r, 0) for r in range(table.model().rowCount())]

    assert ascending == names
    assert descending == names[::-1]


def _section_centre(table: QTableView, column: int) -> QPoint:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    return QPoint(x, header.height() // 2)


def test_an_answer_that_is_no_list_has_no_table(rig: Rig) -> None:
    rig.send("GET", "/v4/account")
    view = rig.panel.response_view
    assert not view.tabs.isTabVisible(view.tabs.indexOf(view.table_page))


# --- export -----------------------------------------------------------------------------------


def test_export_writes_every_subscriber_across_pages(rig: Rig, tmp_path: Path) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all"), ("per_page", "10")])
    target = tmp_path / "subscribers.csv"

    outcome = export(rig, target)

    assert outcome.complete, outcome.message
    rows = read_csv(target)
    assert len(rows) == outcome.written == 2500
    assert len({row["id"] for row in rows}) == 2500
    assert list(rows[0])[:5] == ["email_address", "first_name", "state", "created_at", "id"]
    assert {"last_name", "company", "category", "city"} <= set(rows[0])
    assert not (tmp_path / "subscribers.csv.part").exists()
    assert "2,500 subscribers" in rig.panel.response_view.export_bar.text


def test_formula_cells_are_escaped(rig: Rig, tmp_path: Path) -> None:
    store = rig.server.api.store
    for email, name in (("eq@example.com", "=HYPERLINK(1)"), ("at@example.com", "@SUM(A1)")):
        store.upsert_subscriber(email, {"first_name": name}, "active")
    store.upsert_subscriber("plus@example.com", {"fields": {"company": "+1 555"}}, "active")
    store.upsert_subscriber("minus@example.com", {"first_name": "-2+3"}, "active")
    rig.send("GET", "/v4/subscribers", [("per_page", "5")])
    target = tmp_path / "active.csv"

    assert export(rig, target).complete
    by_email = {row["email_address"]: row for row in read_csv(target)}

    assert by_email["eq@example.com"]["first_name"] == "'=HYPERLINK(1)"
    assert by_email["at@example.com"]["first_name"] == "'@SUM(A1)"
    assert by_email["plus@example.com"]["company"] == "'+1 555"
    assert by_email["minus@example.com"]["first_name"] == "'-2+3"


def test_cancel_stops_and_leaves_a_part_file(rig: Rig, tmp_path: Path) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all")])
    rig.server.faults.set("/v4/subscribers", Fault("delay", seconds=0.3))
    target = tmp_path / "subscribers.csv"
    rig.panel.choose_export_path = lambda _parent, _suggested: str(target)
    bar = rig.panel.response_view.export_bar
    rig.panel.response_view.tabs.setCurrentWidget(rig.panel.response_view.table_page)
    with rig.qtbot.waitSignal(rig.api.export_progressed, timeout=WAIT_MS):
        QTest.mouseClick(rig.panel.response_view.export_button, Qt.MouseButton.LeftButton)
    with rig.qtbot.waitSignal(rig.api.export_finished, timeout=WAIT_MS) as done:
        QTest.mouseClick(bar.cancel_button, Qt.MouseButton.LeftButton)

    outcome = done.args[0]
    assert isinstance(outcome, ExportOutcome)
    assert outcome.end == "cancelled"
    assert not target.exists()
    part = tmp_path / "subscribers.csv.part"
    assert part.exists()
    assert len(read_csv(part)) == outcome.written < 2500
    assert bar.text.startswith("Cancelled.")
    assert "the file is incomplete" in bar.text and str(part) in bar.text


def test_a_429_midway_is_waited_out(rig: Rig, tmp_path: Path) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all")])
    rig.server.faults.set("/v4/subscribers", Fault("status", status=429, times=1, after=1))
    waits: list[str] = []
    rig.api.export_progressed.connect(lambda p: waits.append(p.why) if p.waiting else None)
    target = tmp_path / "subscribers.csv"

    outcome = export(rig, target)

    assert outcome.complete, outcome.message
    assert len(read_csv(target)) == 2500
    assert waits == ["Kit asked to slow down"]
    assert "/v4/subscribers" not in rig.server.faults._faults  # the fault was met


def test_a_dropped_connection_is_retried(rig: Rig, tmp_path: Path) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all")])
    rig.server.faults.set("/v4/subscribers", Fault("drop", times=1, after=1))
    target = tmp_path / "subscribers.csv"

    outcome = export(rig, target)

    assert outcome.complete, outcome.message
    rows = read_csv(target)
    assert len(rows) == 2500 and len({r["id"] for r in rows}) == 2500
    assert "/v4/subscribers" not in rig.server.faults._faults


def test_persistent_drops_stop_with_the_file_marked_incomplete(rig: Rig, tmp_path: Path) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all")])
    rig.server.faults.set("/v4/subscribers", Fault("drop", after=1))
    target = tmp_path / "subscribers.csv"

    outcome = export(rig, target)

    assert outcome.end == "stopped"
    assert not target.exists()
    part = tmp_path / "subscribers.csv.part"
    assert outcome.path == str(part)
    assert len(read_csv(part)) == outcome.written == 1000
    text = rig.panel.response_view.export_bar.text
    assert text.startswith("Stopped: the connection to Kit failed 4 times")
    assert "1,000 subscribers were written" in text and "incomplete" in text


def test_the_window_exports_what_its_table_shows(
    qtbot: QtBot, gui_apps: list[GuiApp], tmp_path: Path
) -> None:
    """In the real window (practice mode): connect, list subscribers, export them all."""
    gui = show_app(qtbot, gui_apps, opener=UserBrowser("allow").open)
    session = gui.session
    assert session is not None and gui.sandbox is not None
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=EXPORT_MS)
    gui.window.tabs.setCurrentIndex(1)
    panel = gui.window.api_panel
    qtbot.waitUntil(lambda: gui.api is not None, timeout=WAIT_MS)
    api = gui.api
    assert api is not None
    panel.composer.path_field.setText("/v4/subscribers")
    qtbot.waitUntil(panel.composer.send_button.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(api.finished, timeout=WAIT_MS):
        panel.composer.send_button.click()
    view = panel.response_view
    qtbot.waitUntil(lambda: view.tabs.indexOf(view.table_page) >= 0, timeout=WAIT_MS)
    view.tabs.setCurrentWidget(view.table_page)
    table = view.table_page.findChild(QTableView)
    assert table is not None and table.model().rowCount() > 0
    target = tmp_path / "subscribers.csv"
    panel.choose_export_path = lambda _parent, _suggested: str(target)

    with qtbot.waitSignal(api.export_finished, timeout=EXPORT_MS) as done:
        QTest.mouseClick(view.export_button, Qt.MouseButton.LeftButton)

    outcome = done.args[0] if done.args else None
    assert isinstance(outcome, ExportOutcome) and outcome.complete, outcome
    rows = read_csv(target)
    assert len(rows) == outcome.written > 1000, "more than one page of Kit's 1,000"
    assert "subscribers" in view.export_bar.text


def test_another_request_during_an_export_keeps_its_progress_in_view(
    rig: Rig, tmp_path: Path
) -> None:
    rig.send("GET", "/v4/subscribers", [("status", "all")])
    rig.server.faults.set("/v4/subscribers", Fault("delay", seconds=0.3))
    rig.panel.choose_export_path = lambda _parent, _suggested: str(tmp_path / "s.csv")
    view = rig.panel.response_view
    view.tabs.setCurrentWidget(view.table_page)
    with rig.qtbot.waitSignal(rig.api.export_progressed, timeout=WAIT_MS):
        QTest.mouseClick(view.export_button, Qt.MouseButton.LeftButton)

    rig.send("GET", "/v4/account")  # the creator goes on working meanwhile

    bar = rig.panel.response_view.export_bar
    assert bar.running and bar.isVisibleTo(rig.panel), "the export's progress stays in view"
    with rig.qtbot.waitSignal(rig.api.export_finished, timeout=EXPORT_MS) as done:
        pass
    outcome = done.args[0]
    assert isinstance(outcome, ExportOutcome) and outcome.complete
    assert bar.isVisibleTo(rig.panel) and "2,500" in bar.text
