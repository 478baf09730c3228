"""The API page end to end: a real sandbox over HTTP, the controller and the page, wired."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QPlainTextEdit, QTableWidget
from pytestqt.qtbot import QtBot

from kit_desktop.api.answer import ApiResult
from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.errors import (
    ApiError,
    RateLimitedError,
    ReconnectNeededError,
    UnsafeRequestError,
)
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from tests.qt.test_api_support import (
    OFFSCREEN_NOISE,
    WAIT_MS,
    FakeMonotonic,
    Rig,
    cell,
    make_rig,
)

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@pytest.fixture
def rig(qtbot: QtBot, sandbox: SandboxServer) -> Iterator[Rig]:
    made = make_rig(qtbot, sandbox)
    yield made
    made.close()


def result_of(outcome: object) -> ApiResult:
    assert isinstance(outcome, ApiResult), outcome
    return outcome


def shown_message(rig: Rig) -> str:
    message = rig.panel.response_view.message
    return message.text if message.isVisibleTo(rig.panel) else ""


# --- every method --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("GET", "/v4/account", "", "200 OK", ""),
        ("POST", "/v4/tags", '{"name": "Method check"}', "201 Created", ""),
        ("PUT", "/v4/tags/1", '{"name": "Renamed"}', "404 Not Found", "Kit says: Not Found"),
        ("PATCH", "/v4/tags/1", '{"name": "Renamed"}', "404 Not Found", "Kit says: Not Found"),
        ("DELETE", "/v4/tags/1", "", "404 Not Found", "Kit says: Not Found"),
    ],
)
def test_each_method_reaches_kit_and_the_answer_is_shown(
    rig: Rig, method: str, path: str, body: str, status: str, message: str
) -> None:
    result = result_of(rig.send(method, path, body=body))

    assert result.request.method == method
    assert rig.panel.response_view.status_text == status
    assert message in shown_message(rig)
    assert rig.panel.response_view.body_view.toPlainText() == result.body.text
    first = rig.panel.history_list.item(0).text()
    assert first.startswith(f"{method} {path}\n{status}")
    assert rig.panel.meter_text.startswith("1 of 600")


def test_account_shows_headers_time_and_size(rig: Rig) -> None:
    result = result_of(rig.send("GET", "/v4/account"))

    table = rig.panel.response_view.headers_table
    names = [cell(table, row, 0).text().lower() for row in range(table.rowCount())]
    assert "content-type" in names
    meta = rig.panel.response_view.findChild(QLabel, "meta")
    assert isinstance(meta, QLabel)
    assert " ms" in meta.text() and ("bytes" in meta.text() or "kB" in meta.text())
    assert json.loads(rig.panel.response_view.body_view.toPlainText()) == result.response.json()


# --- pagination --------------------------------------------------------------------------


def test_next_and_previous_walk_every_subscriber(rig: Rig, sandbox: SandboxServer) -> None:
    everyone = sorted((s["id"] for s in sandbox.api.data.subscribers), reverse=True)
    view = rig.panel.response_view
    pages: list[list[int]] = []

    result = result_of(rig.send("GET", "/v4/subscribers", [("status", "all"), ("per_page", "300")]))
    pages.append([s["id"] for s in result.response.json()["subscribers"]])
    assert not view.previous_button.isEnabled()
    while view.next_button.isEnabled():
        result = result_of(rig.click_and_wait(view.next_button))
        pages.append([s["id"] for s in result.response.json()["subscribers"]])
        assert dict(result.request.query)["per_page"] == "300"  # the other pairs are kept
        assert "after" in rig.panel.composer.path_field.text()  # the creator sees the cursor
    assert [i for page in pages for i in page] == everyone
    assert len(pages) == 5

    back: list[list[int]] = []
    while view.previous_button.isEnabled():
        result = result_of(rig.click_and_wait(view.previous_button))
        back.append([s["id"] for s in result.response.json()["subscribers"]])
        assert "after" not in dict(result.request.query)
    assert back == pages[-2::-1]


# --- a creator's tag ------------------------------------------------------------------------


def test_preset_creates_a_tag_then_finds_it_then_explains_a_blank_name(rig: Rig) -> None:
    composer = rig.panel.composer
    presets = composer.preset_box
    index = presets.findText("Create a tag")
    assert index > 0
    presets.setCurrentIndex(index)
    presets.activated.emit(index)
    assert (composer.method, composer.path) == ("POST", "/v4/tags")
    composer.body_editor.setPlainText('{"name": "Finished the course"}')

    created = result_of(rig.click_and_wait(composer.send_button))
    assert created.response.status == 201
    assert rig.panel.response_view.status_text == "201 Created"
    assert created.response.json()["tag"]["name"] == "Finished the course"

    again = result_of(rig.click_and_wait(composer.send_button))
    assert again.response.status == 200
    assert again.response.json()["tag"]["id"] == created.response.json()["tag"]["id"]

    composer.body_editor.setPlainText('{"name": ""}')
    refused = result_of(rig.click_and_wait(composer.send_button))
    assert refused.response.status == 422
    assert rig.panel.response_view.status_text == "422 Unprocessable Entity"
    assert shown_message(rig) == "Kit could not use what was sent. Kit says: Name can't be blank"


def test_list_subscribers_preset_then_page(rig: Rig) -> None:
    composer = rig.panel.composer
    presets = composer.preset_box
    index = presets.findText("List subscribers")
    presets.setCurrentIndex(index)
    presets.activated.emit(index)
    first = result_of(rig.click_and_wait(composer.send_button))
    assert first.response.status == 200
    second = result_of(rig.click_and_wait(rig.panel.response_view.next_button))
    assert second.response.json()["subscribers"][0] != first.response.json()["subscribers"][0]


# --- tokens ----------------------------------------------------------------------------------


def test_expired_token_is_renewed_and_the_request_retried(rig: Rig, sandbox: SandboxServer) -> None:
    before = rig.access_token
    sandbox.oauth.expire_access_token(before)

    result = result_of(rig.send("GET", "/v4/account"))

    assert result.response.status == 200
    assert result.response.retried
    assert rig.access_token != before
    assert rig.tokens.refresh_count == 1
    note = rig.panel.response_view.findChild(QLabel, "note")
    assert isinstance(note, QLabel) and note.isVisibleTo(rig.panel)
    assert note.text() == "Your access was renewed and the request sent again."


def test_expired_token_on_post_is_renewed_but_not_sent_twice(
    rig: Rig, sandbox: SandboxServer
) -> None:
    sandbox.oauth.expire_access_token(rig.access_token)
    outcome = rig.send("POST", "/v4/tags", body='{"name": "Only once"}')
    assert isinstance(outcome, ApiError) and outcome.status == 401
    assert "send it again" in shown_message(rig)
    again = result_of(rig.click_and_wait(rig.panel.composer.send_button))
    assert again.response.status == 201


def test_revoked_access_asks_the_session_to_reconnect(
    qtbot: QtBot, rig: Rig, sandbox: SandboxServer
) -> None:
    revoked = requests.post(
        sandbox.base_url + "/v4/oauth/revoke",
        data={"token": rig.refresh_token, "client_id": SANDBOX_CLIENT_ID},
        timeout=5,
    )
    assert revoked.status_code == 200

    with qtbot.waitSignal(rig.api.reconnect_needed, timeout=WAIT_MS) as caught:
        outcome = rig.send("GET", "/v4/account")

    assert isinstance(outcome, ReconnectNeededError)
    assert caught.args == [outcome]
    assert shown_message(rig) == outcome.user_message


# --- the rate limit ------------------------------------------------------------------------


def test_429_turns_send_off_with_a_countdown_and_nothing_is_retried(qtbot: QtBot) -> None:
    clock = FakeMonotonic()
    with SandboxServer(auto_approve=True, rate_limit=3) as server:
        rig = make_rig(qtbot, server, clock=clock)
        try:
            for _ in range(3):
                assert result_of(rig.send("GET", "/v4/account")).response.status == 200
            with qtbot.waitSignal(rig.api.rate_limited, timeout=WAIT_MS) as limited:
                outcome = rig.send("GET", "/v4/account")
            assert isinstance(outcome, RateLimitedError)
            wait = limited.args[0]
            assert 1 <= wait <= 60

            composer = rig.panel.composer
            assert not composer.send_button.isEnabled()
            assert "Kit asked Kit Desktop to slow down" in shown_message(rig)  # 4 of 600 here
            seconds = int(-(-wait // 1))
            assert composer.hint.text() == (
                f"Kit asked to wait before the next request; try again in {seconds} s."
            )
            assert rig.client.meter.used() == 4  # no automatic retry

            # Even a direct call is refused (not sent) until the wait is over.
            with qtbot.waitSignal(rig.api.failed, timeout=WAIT_MS):
                rig.api.send("GET", "/v4/account")
            assert rig.client.meter.used() == 4

            clock.now += 1
            qtbot.waitUntil(lambda: f"again in {seconds - 1} s" in composer.hint.text())
            clock.now += wait
            qtbot.waitUntil(composer.send_button.isEnabled, timeout=2000)
            assert "limit" not in composer.hint.text()
        finally:
            rig.close()


# --- refused before sending --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/x",
        "https://evil.example/x",
        "https://api.kit.com@evil.example/",
        "http://api.kit.com/v4/x",
        "../../oauth/token",
        "/v4/../oauth/token",
        "/v4/%2e%2e/oauth/token",
        "https://api.kit.com.evil.example/",
        "/v4\\..\\oauth",
        "/v4//evil.example",
        "/oauth/token",
        "/v4/x%40evil.example",
    ],
)
def test_e55_refused_paths_are_explained_and_nothing_is_sent(rig: Rig, path: str) -> None:
    outcome = rig.send("GET", path)

    assert isinstance(outcome, UnsafeRequestError)
    assert shown_message(rig) == f"Not sent. {outcome.user_message}"
    assert rig.client.meter.used() == 0
    assert rig.panel.history_list.item(0).text().startswith(f"GET {path.strip()}".split("?")[0])
    assert "\nNot sent · " in rig.panel.history_list.item(0).text()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("Authorization", "Bearer mine", "The Authorization header is set by the app"),
        ("authorization", "x", "The Authorization header is set by the app"),
        ("X-Test", "a\r\nX-Evil: 1", "has a line break"),
        ("Bad Name", "x", "is not valid"),
    ],
)
def test_e57_header_overrides_and_injection_are_refused(
    rig: Rig, name: str, value: str, expected: str
) -> None:
    rig.compose("GET", "/v4/account", headers=[(name, value)])
    outcome = rig.click_and_wait(rig.panel.composer.send_button)

    assert isinstance(outcome, UnsafeRequestError)
    assert expected in shown_message(rig)
    assert rig.client.meter.used() == 0


def test_e56_a_redirect_is_shown_not_followed(rig: Rig, sandbox: SandboxServer) -> None:
    sandbox.set_fault("/v4/account", Fault("redirect", times=1))
    result = result_of(rig.send("GET", "/v4/account"))

    assert result.response.status in (302, 307)
    table = rig.panel.response_view.headers_table
    headers = {
        cell(table, r, 0).text().lower(): cell(table, r, 1).text() for r in range(table.rowCount())
    }
    assert headers["location"] == "https://evil.example/"
    assert rig.client.meter.used() == 1


def test_invalid_json_body_is_not_sent(rig: Rig) -> None:
    outcome = rig.send("POST", "/v4/tags", body='{"name": "x",\n  }')
    assert isinstance(outcome, ApiError)
    assert "line 2, column 3" in shown_message(rig)
    assert rig.client.meter.used() == 0


# --- cancel, save, curl ----------------------------------------------------------------------


def test_cancel_makes_the_page_idle_at_once_and_ignores_the_late_answer(
    qtbot: QtBot, rig: Rig, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("/v4/account", Fault("delay", seconds=0.5, times=1))
    composer = rig.panel.composer
    rig.compose("GET", "/v4/account")
    with qtbot.waitSignal(rig.api.started, timeout=WAIT_MS):
        QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert composer.cancel_button.isVisible() and not composer.send_button.isVisible()

    with qtbot.assertNotEmitted(rig.api.finished, wait=0):
        QTest.mouseClick(composer.cancel_button, Qt.MouseButton.LeftButton)
        assert composer.send_button.isVisible() and composer.send_button.isEnabled()
        assert not rig.api.running
        qtbot.waitUntil(lambda: not rig.api.busy, timeout=WAIT_MS)
    assert rig.panel.response_view.status_text == ""
    assert rig.panel.history_list.item(0).text().startswith("GET /v4/account\nCancelled")


def test_save_to_file_writes_the_answer_as_received(qtbot: QtBot, rig: Rig, tmp_path: Path) -> None:
    result = result_of(rig.send("GET", "/v4/account"))
    rig.save_path = str(tmp_path / "account.json")
    notices: list[str] = []
    rig.panel.notice.connect(notices.append)

    QTest.mouseClick(rig.panel.response_view.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: bool(notices), timeout=WAIT_MS)
    assert rig.saved_to == ["v4-account.json"]
    assert notices == [f"Saved to {rig.save_path}."]
    assert (tmp_path / "account.json").read_bytes() == result.response.body


def test_save_cancelled_writes_nothing(qtbot: QtBot, rig: Rig, tmp_path: Path) -> None:
    result_of(rig.send("GET", "/v4/account"))
    rig.save_path = ""
    with qtbot.assertNotEmitted(rig.panel.save_requested, wait=50):
        QTest.mouseClick(rig.panel.response_view.save_button, Qt.MouseButton.LeftButton)
    assert list(tmp_path.iterdir()) == []


def test_e60_no_token_in_curl_history_or_anything_on_the_page(qtbot: QtBot, rig: Rig) -> None:
    result_of(rig.send("GET", "/v4/subscribers", [("per_page", "2")]))
    result_of(rig.send("POST", "/v4/tags", body='{"name": "Curl"}'))
    QGuiApplication.clipboard().clear()

    with qtbot.waitSignal(rig.api.curl_ready, timeout=WAIT_MS) as ready:
        QTest.mouseClick(rig.panel.composer.curl_button, Qt.MouseButton.LeftButton)

    command = QGuiApplication.clipboard().text()
    assert command == ready.args[0]
    assert command.startswith("curl -X POST ")
    assert "/v4/tags" in command and '"name": "Curl"' in command
    assert "Authorization: Bearer $KIT_ACCESS_TOKEN" in command
    secrets = {rig.access_token, rig.refresh_token}
    shown = [command, *_every_text(rig)]
    assert not [text for text in shown for secret in secrets if secret in text]


def _every_text(rig: Rig) -> list[str]:
    panel = rig.panel
    texts: list[str] = []
    texts += [w.text() for w in panel.findChildren(QLabel)]
    texts += [w.text() for w in panel.findChildren(QLineEdit)]
    texts += [w.toPlainText() for w in panel.findChildren(QPlainTextEdit)]
    for table in panel.findChildren(QTableWidget):
        texts += [
            cell(table, r, c).text()
            for r in range(table.rowCount())
            for c in range(table.columnCount())
            if cell(table, r, c) is not None
        ]
    for history in panel.findChildren(QListWidget):
        texts += [
            history.item(r).text() + history.item(r).toolTip() for r in range(history.count())
        ]
    return texts
