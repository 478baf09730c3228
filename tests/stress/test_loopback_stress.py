"""The loopback receiver under attack while a connect waits: junk, slow-loris, wrong states.

Issue requirement: while a connect waits, 500 concurrent junk connections, 50 slow-loris
connections and a burst of wrong-state callbacks, then the real callback: the flow completes,
memory stays within a fixed bound, and every junk connection is closed (catalogue A9, A10 and
B25 at scale). Only outcomes are asserted, with generous timeouts; how fast is bench/stress.py's.
"""

from __future__ import annotations

import secrets
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.auth.loopback import AuthorizationResponse, LoopbackReceiver
from kit_desktop.auth.loopback_http import MAX_CONNECTIONS, REQUEST_TIMEOUT
from kit_desktop.qt.loopback_thread import LoopbackThread
from tests.helpers.ports import port_is_free
from tests.helpers.realparts import require
from tests.stress.real_flow import App, RealCallback, ServerTally, connection_threads, tally
from tests.stress.storm import (
    JUNK,
    JUNK_KINDS,
    SERVER_CLOSED,
    SLOW,
    WRONG,
    Client,
    Storm,
    mixed,
    slow_loris_first,
)

STATE = secrets.token_urlsafe(32)
CODE = "kit-code-" + secrets.token_urlsafe(24)
EPHEMERAL = "http://127.0.0.1:0/callback"
REAL = f"/callback?code={CODE}&state={STATE}"
#: Python-side allocations the whole storm may add (receiver and attacking clients together).
MEMORY_BOUND = 64 * 1024 * 1024
#: Functional timeout for the real callback's answer once it is sent (retries included).
ANSWER_WITHIN = 15.0
#: What each kind may be answered with when it gets a connection thread (``None``: no answer).
ALLOWED: dict[str, set[int | None]] = {
    "connect-close": {None},
    "random-bytes": {None, 400},
    "half-line": {None},
    "big-headers": {None, 431},
    "many-headers": {None, 431},
    "wrong-path": {None, 404},
    "head": {None, 405},
    "post": {None, 405},
    "slow-loris": {None},
    # 400 while the flow waits; 410 ("already used") if it lands after the real callback.
    "wrong-state": {None, 400, 410},
}


@pytest.fixture(autouse=True)
def _enough_file_descriptors() -> Iterator[None]:
    """Room for every attacking socket and the receiver's end of each, then some."""
    if sys.platform == "win32":  # no per-process descriptor limit on sockets
        yield
        return
    import resource

    need = 2 * (JUNK + SLOW + WRONG) + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = hard == resource.RLIM_INFINITY
    require(unlimited or hard >= need, f"a file-descriptor limit of {need} (ulimit -Hn: {hard})")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture
def threads_before() -> set[threading.Thread]:
    """The receiver connection threads alive before the test (normally none)."""
    return connection_threads()


def assert_every_connection_closed_by_the_server(storm: Storm) -> None:
    """Each attacking connection ended by the server (EOF or reset), never left open."""
    assert storm.outcomes()["open"] == 0, storm.outcomes()
    assert storm.outcomes()["refused"] == 0, storm.outcomes()
    for kind in (*JUNK_KINDS, "slow-loris", "wrong-state"):
        clients = storm.of(kind)
        assert clients, kind
        allowed = SERVER_CLOSED | ({"client-closed"} if kind == "connect-close" else set())
        assert set(storm.outcomes(kind)) <= allowed, (kind, storm.outcomes(kind))
        statuses: set[int | None] = set(storm.statuses(kind))
        assert statuses <= ALLOWED[kind], (kind, storm.statuses(kind))


def assert_no_connection_thread_left(before: set[threading.Thread]) -> None:
    left = connection_threads() - before
    for thread in left:
        thread.join(10)  # generous: each has a deadline, and close() asked them to stop
    assert not [thread for thread in left if thread.is_alive()]


def assert_tally_is_sane(counts: ServerTally) -> None:
    assert counts.counts["failed unexpectedly"] == 0, counts.counts
    assert counts.counts["answered 302"] == 1, counts.counts


# --- the requirement as written: one browser attempt while the storm goes on ----------------


def test_real_callback_during_the_storm_completes_the_flow(
    threads_before: set[threading.Thread],
) -> None:
    with tally() as counts, LoopbackReceiver([EPHEMERAL], STATE) as receiver:
        app = App(receiver)
        port = receiver.port
        storm = Storm(
            port,
            slow_loris_first(port),
            give_up_after=REQUEST_TIMEOUT + 10,
        )
        storm.start()
        try:
            assert storm.launched.wait(30)
            browser = RealCallback(port, REAL)  # a browser tries once
            browser.send()
            browser.join(ANSWER_WITHIN)
            assert browser.attempts == [302], (browser.attempts, counts.counts)
            assert app.result().code == CODE
        finally:
            receiver.close()
            storm.join()
    assert_every_connection_closed_by_the_server(storm)
    assert_no_connection_thread_left(threads_before)
    assert port_is_free(port)


# --- what the storm must never do: leak, grow, or stop the flow for good -------------------


@pytest.mark.parametrize(
    ("waves", "request_timeout"),
    [(slow_loris_first, REQUEST_TIMEOUT), (mixed, REQUEST_TIMEOUT), (mixed, 1.0)],
    ids=["slow-loris-first", "mixed", "mixed-short-timeout"],
)
def test_after_the_storm_the_flow_completes_and_nothing_is_left(
    waves: Callable[[int], list[list[Client]]],
    request_timeout: float,
    threads_before: set[threading.Thread],
) -> None:
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with tally() as counts:
            receiver = LoopbackReceiver([EPHEMERAL], STATE, request_timeout=request_timeout)
            port = receiver.port
            app = App(receiver)
            storm = Storm(port, waves(port), give_up_after=request_timeout + 10)
            storm.start()
            try:
                assert storm.launched.wait(30)
                # A browser tries once; this one reloads until answered (see the xfail above).
                browser = RealCallback(port, REAL, retry_every=0.25, give_up=ANSWER_WITHIN)
                browser.send()
                browser.join(2 * ANSWER_WITHIN)
                assert browser.status == 302, browser.attempts
                assert app.result().code == CODE
                assert browser.done_status == 200
            finally:
                receiver.close()
                storm.join()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"{peak / 2**20:.1f} MiB"
    assert_every_connection_closed_by_the_server(storm)
    assert_tally_is_sane(counts)
    assert counts.accepted >= MAX_CONNECTIONS, counts.counts  # every slot was taken and read
    assert_no_connection_thread_left(threads_before)
    assert port_is_free(port)


def test_loopback_thread_reports_the_flow_after_the_storm(
    qtbot: QtBot, threads_before: set[threading.Thread]
) -> None:
    receiver = LoopbackReceiver([EPHEMERAL], STATE, request_timeout=1.0)
    port = receiver.port
    thread = LoopbackThread(receiver)
    storm = Storm(port, mixed(port), give_up_after=1.0 + 10)
    browser = RealCallback(port, REAL, retry_every=0.25, give_up=ANSWER_WITHIN)
    try:
        with (
            qtbot.waitSignal(
                thread.received,
                timeout=int(2 * ANSWER_WITHIN * 1000),
                check_params_cb=lambda r: isinstance(r, AuthorizationResponse) and r.code == CODE,
            ),
            qtbot.assertNotEmitted(thread.failed),
        ):
            thread.start()
            storm.start()
            assert storm.launched.wait(30)
            browser.send()
        with qtbot.waitSignal(thread.finished, timeout=int(ANSWER_WITHIN * 1000)):
            thread.finish(True, "You're connected to Kit.")
        browser.join(ANSWER_WITHIN)
        assert browser.status == 302, browser.attempts
        assert browser.done_status == 200
    finally:
        assert thread.stop(), "the loopback thread did not stop"
        storm.join()
    assert_every_connection_closed_by_the_server(storm)
    assert_no_connection_thread_left(threads_before)
    assert port_is_free(port)
