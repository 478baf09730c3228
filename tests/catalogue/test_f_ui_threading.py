"""Catalogue section F, cases 63-66: closing mid-login, stopping threads, GUI-thread-only widgets.

The whole practice app (GuiApp, real widgets offscreen, the in-process sandbox), a browser
stand-in, and the real loopback receiver on its QThread. Cases 67-69 are in
``test_f_ui_responsive.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

import kit_desktop.ui
from kit_desktop.auth.loopback import AuthorizationResponse, LoopbackReceiver
from kit_desktop.errors import ConsentDeniedError, FlowCancelledError
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.session import KitSession
from kit_desktop.state import AttemptView, Phase
from tests.catalogue.ef_support import (
    EPHEMERAL_REDIRECT,
    QT_NOISE,
    WAIT_MS,
    Guis,
    ThreadRecorder,
    connect_gui,
    gui_send,
    port_of,
)
from tests.helpers.ports import port_is_free
from tests.helpers.user_browser import UserBrowser

pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)

ROOT = Path(__file__).resolve().parents[2]
STATE = secrets.token_urlsafe(32)


@pytest.fixture
def loopback_threads() -> Iterator[list[LoopbackThread]]:
    """Receiver threads made by the test; every one must stop at teardown."""
    made: list[LoopbackThread] = []
    yield made
    for thread in made:
        assert thread.stop(), "a loopback thread did not stop"


def get(port: int, target: str) -> tuple[int, str]:
    """One blocking GET from the test's (GUI) thread."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def attempts_of(session: KitSession) -> list[AttemptView]:
    """Collect the attempts the session announces (one per transaction)."""
    seen: list[AttemptView] = []
    session.attempt_changed.connect(seen.append)
    return seen


# --- 63: closing during login ---------------------------------------------------------------------


def test_c63_closing_during_login(qtbot: QtBot, guis: Guis) -> None:
    gui = guis.start(UserBrowser("ignore").open)
    session = gui.session
    assert session is not None
    attempts = attempts_of(session)
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
    (thread,) = session.findChildren(LoopbackThread)
    assert thread.isRunning()
    port = port_of(attempts[-1].redirect_uri)
    assert not port_is_free(port)

    gui.window.close()

    assert thread.isFinished()  # stopped and joined inside close(), not later
    assert gui.session is None and gui.api is None and gui.sandbox is None
    assert port_is_free(port)


CLOSE_MID_LOGIN = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from keyring.backends import fail
from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.state import Phase

app = QApplication(sys.argv)
opened = []
gui = GuiApp(
    Settings(redirect_uris=("http://127.0.0.1:0/callback",), route="direct"),
    practice=True,
    opener=lambda url: opened.append(url) is None,
    backend=fail.Keyring(),
)
report = {}

def step():
    session = gui.session
    if session is not None and "asked" not in report and session.view.phase is Phase.NOT_CONNECTED:
        report["asked"] = True
        gui.window.connect_requested.emit()
    elif session is not None and session.view.phase is Phase.WAITING and opened:
        (thread,) = session.findChildren(LoopbackThread)
        report["port"] = int(thread.redirect_uri.rsplit(":", 1)[1].split("/")[0])
        gui.window.close()
        report["finished"] = thread.isFinished()
        return
    QTimer.singleShot(5, step)

gui.show()
QTimer.singleShot(0, step)
QTimer.singleShot(20000, lambda: app.exit(3))
code = app.exec()
print(json.dumps(report), flush=True)
sys.exit(code)
"""


def test_c63_closing_during_login_exits_0_in_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_MID_LOGIN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["finished"] is True
    assert port_is_free(report["port"])
    for fatal in ("Destroyed while thread", "Traceback", "Segmentation", "Aborted"):
        assert fatal not in done.stderr


# --- 64: shutdown from the right thread ---------------------------------------------------------


def start_thread(made: list[LoopbackThread], *recorders: ThreadRecorder) -> LoopbackThread:
    """A receiver on an ephemeral port, in its thread, with recorders on both results."""
    thread = LoopbackThread(LoopbackReceiver([EPHEMERAL_REDIRECT], STATE))
    made.append(thread)
    for recorder in recorders:
        thread.received.connect(recorder.record, Qt.ConnectionType.DirectConnection)
        thread.failed.connect(recorder.record, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


def test_c64_cancel_from_the_gui_thread_ends_the_serving_loop(
    qtbot: QtBot, loopback_threads: list[LoopbackThread]
) -> None:
    emitted = ThreadRecorder()
    thread = start_thread(loopback_threads, emitted)
    port = port_of(thread.redirect_uri)
    # The serving loop runs in the worker: it answers while this (GUI) thread blocks on it.
    assert get(port, "/favicon.ico")[0] == 404

    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        thread.cancel()

    assert [type(v) for v in emitted.values] == [FlowCancelledError]
    assert emitted.on_gui_thread == [False]
    assert port_is_free(port)


def test_c64_a_stop_decided_inside_a_request_handler_does_not_deadlock(
    qtbot: QtBot, loopback_threads: list[LoopbackThread]
) -> None:
    emitted = ThreadRecorder()
    thread = start_thread(loopback_threads, emitted)
    port = port_of(thread.redirect_uri)

    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        status, page = get(port, f"/callback?error=access_denied&state={STATE}")

    assert status == 200 and "<html" in page.lower()
    assert [type(v) for v in emitted.values] == [ConsentDeniedError]
    assert port_is_free(port)


class CancelOnReceive(ThreadRecorder):
    """Cancels the receiver from the worker thread itself, as soon as Kit's answer arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.target: LoopbackThread | None = None

    def record(self, value: object = None) -> None:
        super().record(value)
        assert self.target is not None
        self.target.cancel()


def test_c64_a_cancel_from_the_worker_thread_itself_does_not_deadlock(
    qtbot: QtBot, loopback_threads: list[LoopbackThread]
) -> None:
    canceller = CancelOnReceive()
    thread = LoopbackThread(LoopbackReceiver([EPHEMERAL_REDIRECT], STATE))
    loopback_threads.append(thread)
    canceller.target = thread
    thread.received.connect(canceller.record, Qt.ConnectionType.DirectConnection)
    thread.start()
    port = port_of(thread.redirect_uri)

    with qtbot.waitSignal(thread.finished, timeout=WAIT_MS):
        status, _ = get(port, f"/callback?code=one-time-code&state={STATE}")

    assert status == 302
    assert canceller.on_gui_thread == [False]
    assert isinstance(canceller.values[0], AuthorizationResponse)
    assert port_is_free(port)


def test_c64_the_done_page_ends_serving_without_waiting_out_the_grace(
    qtbot: QtBot, loopback_threads: list[LoopbackThread]
) -> None:
    thread = start_thread(loopback_threads)
    port = port_of(thread.redirect_uri)
    with qtbot.waitSignal(thread.received, timeout=WAIT_MS):
        assert get(port, f"/callback?code=one-time-code&state={STATE}")[0] == 302

    thread.finish(True, "Connected.")  # from the GUI thread, while the worker serves /done
    with qtbot.waitSignal(thread.finished, timeout=5_000):  # the grace is 10 s
        status, page = get(port, "/done")

    assert status == 200 and "Connected." in page
    assert port_is_free(port)


# --- 65: widgets only on the GUI thread ----------------------------------------------------------

UI_DIR = os.path.dirname(kit_desktop.ui.__file__)


class OffThreadWidgetUse:
    """A profiler for every non-GUI thread: notes any call into ``kit_desktop.ui`` or a QWidget."""

    def __init__(self) -> None:
        self.offences: list[str] = []

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(UI_DIR):
            self.offences.append(f"{threading.current_thread().name}: {frame.f_code.co_name}")
        elif event == "c_call" and isinstance(getattr(arg, "__self__", None), QWidget):
            name = getattr(arg, "__name__", "?")
            self.offences.append(f"{threading.current_thread().name}: QWidget.{name}")


def test_c65_widgets_are_only_touched_on_the_gui_thread(qtbot: QtBot, guis: Guis) -> None:
    watch = OffThreadWidgetUse()
    threading.setprofile(watch)  # every thread started from now on: workers, servers, browser
    try:
        gate = threading.Event()
        gui = guis.start(UserBrowser("allow", before_callback=gate).open)
        session, api = gui.session, gui.api
        assert session is not None and api is not None
        control = threading.Thread(target=gui.window.isVisible, name="control")
        control.start()
        control.join()
        assert watch.offences == ["control: QWidget.isVisible"]  # the watch does see it
        watch.offences.clear()
        feeds = ThreadRecorder()
        signals = (
            session.changed,
            session.attempt_changed,
            session.attention_requested,
            session.notice,
            api.started,
            api.finished,
            api.failed,
            api.history_changed,
            api.meter_changed,
            api.curl_ready,
            api.notice,
        )
        for signal in signals:
            signal.connect(feeds.record, Qt.ConnectionType.DirectConnection)
        gui.window.connect_requested.emit()
        qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
        (loopback,) = session.findChildren(LoopbackThread)
        from_loopback = ThreadRecorder()
        loopback.received.connect(from_loopback.record, Qt.ConnectionType.DirectConnection)
        gate.set()
        connect_gui(qtbot, gui)
        gui_send(qtbot, gui, "GET", "/v4/subscribers", [("per_page", "2")])
        gui.window.refresh_requested.emit()
        qtbot.waitUntil(lambda: not session.view.refreshing, timeout=WAIT_MS)
        gui_send(qtbot, gui, "GET", "https://evil.example/v4/x")  # refused before sending
        gui_send(qtbot, gui, "POST", "/v4/tags", body='{"name": "Thread check"}')
        with qtbot.waitSignal(api.curl_ready, timeout=WAIT_MS):
            QTest.mouseClick(gui.window.api_panel.composer.curl_button, Qt.MouseButton.LeftButton)
        gui.window.disconnect_requested.emit()
        qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not session.busy and not api.busy, timeout=WAIT_MS)
    finally:
        threading.setprofile(None)

    assert from_loopback.on_gui_thread == [False]  # the answer really came from another thread
    assert len(feeds.on_gui_thread) > 15
    assert all(feeds.on_gui_thread), "a signal that feeds widgets was emitted off the GUI thread"
    assert watch.offences == []
    app = QCoreApplication.instance()
    assert app is not None
    assert all(w.thread() is app.thread() for w in gui.window.findChildren(QWidget))


# --- 66: double-click Connect -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["button", "button-while-waiting", "ctrl-k"])
def test_c66_double_click_connect_never_makes_two_listeners(
    qtbot: QtBot, guis: Guis, how: str
) -> None:
    browser = UserBrowser("ignore")
    gui = guis.start(browser.open)
    session = gui.session
    assert session is not None
    attempts = attempts_of(session)
    listeners: list[int] = []

    for press in range(2):
        if how.startswith("button"):
            if press == 1 and how == "button-while-waiting":  # the second click comes later
                qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
            QTest.mouseClick(gui.window.card.primary_button, Qt.MouseButton.LeftButton)
        else:
            QTest.keyClick(gui.window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        listeners.append(len(session.findChildren(LoopbackThread)))

    if how == "ctrl-k":
        # Ctrl+K only ever connects: the second press is ignored, and Esc cancels.
        qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
        assert len(session.findChildren(LoopbackThread)) == 1
        QTest.keyClick(gui.window, Qt.Key.Key_Escape)
    # The second click lands on "Cancel" (while Kit is checked, or the browser opens): the
    # first flow is cancelled cleanly.
    qtbot.waitUntil(
        lambda: session.view.phase is Phase.NOT_CONNECTED and not session.busy, timeout=WAIT_MS
    )
    if how == "button":  # the second click lands while Kit is checked (or just after)
        assert max(listeners) <= 1 and len(attempts) <= 1
        assert browser.opened <= len(attempts)
    else:  # one attempt was made and waited for, with exactly one listener
        assert len(attempts) == 1 and max(listeners) <= 1 and browser.opened == 1
    assert session.view.detail == "Connecting was cancelled."
    assert gui.window.card.primary_button.text() == "Connect to Kit"
    assert browser.opened <= 1
    gui.window.close()  # till then the port answers a late Allow (tests/qt/test_late_answer.py)
    for attempt in attempts:
        assert port_is_free(port_of(attempt.redirect_uri))


def test_c66_connect_while_a_flow_is_pending_is_ignored(qtbot: QtBot, guis: Guis) -> None:
    browser = UserBrowser("ignore")
    gui = guis.start(browser.open)
    session = gui.session
    assert session is not None
    attempts = attempts_of(session)
    gui.window.connect_requested.emit()
    gui.window.connect_requested.emit()  # while opening the browser
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
    gui.window.connect_requested.emit()  # while waiting for Allow

    assert len(attempts) == 1
    assert len(session.findChildren(LoopbackThread)) == 1
    qtbot.waitUntil(lambda: browser.opened == 1, timeout=WAIT_MS)
    first = attempts[0]

    # Cancel, then connect again: a new transaction; the first one's listener is gone.
    gui.window.cancel_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=WAIT_MS)
    gui.window.connect_requested.emit()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=WAIT_MS)
    second = attempts[-1]
    assert len(attempts) == 2
    assert (second.state, second.verifier) != (first.state, first.verifier)
    assert len(session.findChildren(LoopbackThread)) == 1
    # The first transaction's state is no longer accepted, wherever the new listener is.
    first_port = port_of(first.redirect_uri)
    try:
        status, _ = get(first_port, f"/callback?code=stale&state={first.state}")
    except ConnectionRefusedError:
        status = 0
    assert status != 302
    assert session.view.phase is Phase.WAITING
