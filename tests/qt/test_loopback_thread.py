"""LoopbackThread with pytest-qt: results only as signals; it always stops and frees the port."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import QObject, QThread, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.auth.loopback import AuthorizationResponse, LoopbackReceiver
from kit_desktop.errors import (
    ConsentDeniedError,
    FlowCancelledError,
    FlowTimeoutError,
)
from kit_desktop.qt.loopback_thread import LoopbackThread
from tests.helpers.loopback import CODE, EPHEMERAL, STATE, get
from tests.helpers.ports import port_is_free


def port_of(thread: LoopbackThread) -> int:
    port = urlsplit(thread.redirect_uri).port
    assert port
    return port


def is_cancelled(error: object) -> bool:
    return isinstance(error, FlowCancelledError)


@pytest.fixture
def make_thread() -> Iterator[Callable[..., LoopbackThread]]:
    """Build threads on fresh receivers; stop any still running at teardown."""
    threads: list[LoopbackThread] = []

    def make(timeout: float = 300.0) -> LoopbackThread:
        thread = LoopbackThread(LoopbackReceiver([EPHEMERAL], STATE, timeout=timeout))
        threads.append(thread)
        return thread

    yield make
    for thread in threads:
        assert thread.stop(), "the loopback thread did not stop"


def test_success_emits_received_then_finishes(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    port = port_of(thread)
    with (
        qtbot.waitSignal(
            thread.received,
            timeout=5000,
            check_params_cb=lambda r: isinstance(r, AuthorizationResponse) and r.code == CODE,
        ),
        qtbot.assertNotEmitted(thread.failed),
    ):
        thread.start()
        status, _ = get(port, f"/callback?code={CODE}&state={STATE}")
        assert status == 302
    thread.finish(True, "You're connected to Kit. You can close this tab.")
    with qtbot.waitSignal(thread.finished, timeout=5000):
        status, body = get(port, "/done")
    assert status == 200
    assert "You&#x27;re connected to Kit." in body
    assert thread.isFinished()
    assert port_is_free(port)


def test_cancel_stops_within_a_second_and_frees_the_port(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    port = port_of(thread)
    with qtbot.waitSignal(thread.started, timeout=5000):
        thread.start()
    with (
        qtbot.waitSignal(thread.failed, timeout=1000, check_params_cb=is_cancelled),
        qtbot.assertNotEmitted(thread.received),
    ):
        thread.cancel()
    assert thread.wait(1000)
    assert thread.isFinished()
    assert port_is_free(port)


def test_timeout_emits_failed(qtbot: QtBot, make_thread: Callable[..., LoopbackThread]) -> None:
    thread = make_thread(timeout=0.3)
    with (
        qtbot.waitSignal(
            thread.failed,
            timeout=5000,
            check_params_cb=lambda error: isinstance(error, FlowTimeoutError),
        ),
        qtbot.assertNotEmitted(thread.received),
    ):
        thread.start()
    assert thread.wait(1000)
    assert thread.isFinished()


def test_denial_emits_failed_with_the_plain_message(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    port = port_of(thread)
    with (
        qtbot.waitSignal(thread.failed, timeout=5000) as failed,
        qtbot.assertNotEmitted(thread.received),
    ):
        thread.start()
        status, body = get(port, f"/callback?error=access_denied&state={STATE}")
    assert status == 200
    assert "You chose not to connect" in body
    assert failed.args is not None
    assert isinstance(failed.args[0], ConsentDeniedError)
    assert thread.wait(1000)
    assert port_is_free(port)


def test_interruption_stops_the_thread(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    with qtbot.waitSignal(thread.started, timeout=5000):
        thread.start()
    with qtbot.waitSignal(thread.failed, timeout=1000, check_params_cb=is_cancelled):
        thread.requestInterruption()
    assert thread.wait(1000)


class _Window(QWidget):
    """Stands in for the main window: stops the thread when it closes."""

    def __init__(self, thread: LoopbackThread) -> None:
        super().__init__()
        self.thread_ = thread

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.thread_.stop()
        super().closeEvent(event)


def test_closing_the_window_while_waiting(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    port = port_of(thread)
    window = _Window(thread)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(thread.started, timeout=5000):
        thread.start()
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)  # a stray browser socket
    try:
        with qtbot.waitSignal(thread.finished, timeout=2000):
            window.close()
        assert thread.isFinished()
        assert port_is_free(port)
    finally:
        idle.close()


def test_stopping_a_thread_that_never_started_frees_the_port(
    make_thread: Callable[..., LoopbackThread],
) -> None:
    thread = make_thread()
    port = port_of(thread)
    assert thread.stop()
    assert port_is_free(port)


class _Collector(QObject):
    """A GUI-thread receiver with a bound slot, as the session will be."""

    def __init__(self) -> None:
        super().__init__()
        self.on_gui_thread: list[bool] = []

    @Slot(object)
    def on_failed(self, _error: object) -> None:
        self.on_gui_thread.append(QThread.currentThread() is self.thread())


def test_signals_arrive_on_the_gui_thread(
    qtbot: QtBot, make_thread: Callable[..., LoopbackThread]
) -> None:
    thread = make_thread()
    collector = _Collector()
    thread.failed.connect(collector.on_failed)
    with qtbot.waitSignal(thread.finished, timeout=5000):
        thread.start()
        thread.cancel()
    qtbot.waitUntil(lambda: bool(collector.on_gui_thread), timeout=2000)
    assert collector.on_gui_thread == [True]
