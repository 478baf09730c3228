"""Benchmark: the longest GUI-thread stall while the app waits on Kit or shows a 5 MB answer.

A 1 ms timer on the GUI thread records the gaps between its ticks (a stall is a long gap).

(a) The whole app in practice mode connects while the sandbox holds the token exchange for
    3 s; a stand-in creator clicks Allow in the "browser". Measured from Connect to Connected.
(b) The API page sends a request whose answer is 5 MB of compact JSON (a stdlib stand-in
    server), receives it, formats it off the GUI thread, shows it, then shows all of it.

Target: no stall over 50 ms. Results go to docs/benchmarks.md.

Run: .venv/bin/python -m bench.ui_stall [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never the user's real window settings: a throwaway config home for this run.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="kit-desktop-bench-")

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
EXCHANGE_DELAY = 3.0


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop until ``predicate`` holds (the GUI thread stays free meanwhile)."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    poll.start()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark step did not finish in time")
        loop.exec()
    poll.stop()


def _settle(seconds: float) -> None:
    """Let the event loop run for ``seconds`` (first paints, start-up work)."""
    until = time.monotonic() + seconds
    _wait(lambda: time.monotonic() >= until)


def connect_stall() -> tuple[float, float]:
    """(a) Return the longest stall and the seconds a slow connect took (whole app)."""
    from kit_desktop.config import Settings
    from kit_desktop.gui.gui_app import GuiApp
    from kit_desktop.sandbox.faults import Fault
    from kit_desktop.state import Phase
    from tests.helpers.fake_keyrings import MemoryKeyring
    from tests.helpers.user_browser import UserBrowser
    from tests.qt.test_api_support import Heartbeat

    browser = UserBrowser("allow")
    settings = Settings(redirect_uris=("http://127.0.0.1:0/callback",))
    gui = GuiApp(settings, practice=True, opener=browser.open, backend=MemoryKeyring())
    gui.show()
    try:
        _wait(lambda: gui.session is not None and gui.session.view.phase is Phase.NOT_CONNECTED)
        session, sandbox = gui.session, gui.sandbox
        assert session is not None
        assert sandbox is not None
        sandbox.set_fault("/v4/oauth/token", Fault("delay", seconds=EXCHANGE_DELAY, times=1))
        _settle(0.5)
        heartbeat = Heartbeat()
        heartbeat.start()
        started = time.perf_counter()
        session.connect_to_kit()
        _wait(lambda: session.view.phase is Phase.CONNECTED)
        took = time.perf_counter() - started
        heartbeat.stop()
        browser.join()
        return heartbeat.longest_ms, took
    finally:
        gui.shutdown()
        gui.window.close()


def big_answer_stall(body: bytes) -> tuple[float, float, float]:
    """(b) Return the longest stalls (to the shortened view; with "Show all") and seconds taken.

    The seconds run from Send until the whole answer is in the view.
    """
    import dataclasses

    from kit_desktop.api.client import KitApiClient
    from kit_desktop.auth.oauth import OAuthClient
    from kit_desktop.auth.token_store import MemoryTokenStore
    from kit_desktop.auth.tokens import TokenManager
    from kit_desktop.auth.tokenset import TokenSet
    from kit_desktop.config import Settings
    from kit_desktop.gui.gui_app import wire_api
    from kit_desktop.qt.api_requests import ApiRequests
    from kit_desktop.sandbox import SandboxServer
    from kit_desktop.ui.main_window import MainWindow
    from tests.helpers import flow
    from tests.qt.test_api_support import Heartbeat, StandIn

    routes = {"/v4/subscribers": (200, "application/json; charset=utf-8", body)}
    with SandboxServer(auto_approve=True) as sandbox, StandIn(routes) as standin:
        settings = dataclasses.replace(
            Settings().with_sandbox(sandbox.base_url), api_url=standin.base_url
        )
        tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
        tokens.adopt(
            TokenSet.from_response(flow.connect(sandbox.base_url), received_at=time.time())
        )
        api = ApiRequests(KitApiClient(settings, tokens))
        with tempfile.TemporaryDirectory() as home:
            from PySide6.QtCore import QSettings

            window = MainWindow(QSettings(str(Path(home) / "w.ini"), QSettings.Format.IniFormat))
            window.resize(1100, 760)
            window.show()
            panel = window.api_panel
            wire_api(panel, api)
            panel.show_connected(True)
            window.tabs.setCurrentWidget(panel)
            _settle(0.5)  # the first paint of a new window is not what is measured
            view = panel.response_view
            results: list[object] = []
            api.finished.connect(results.append)
            heartbeat = Heartbeat()
            heartbeat.start()
            started = time.perf_counter()
            panel.composer.load("GET", "/v4/subscribers", [("per_page", "1000")])
            panel.composer.send_button.click()
            _wait(lambda: bool(results) and not view.body_view.filling)
            shortened = heartbeat.longest_ms
            view.show_all_button.click()
            _wait(lambda: not view.body_view.filling)
            took = time.perf_counter() - started
            heartbeat.stop()
            api.shutdown()
            window.close()
            return shortened, heartbeat.longest_ms, took


def idle_stall(seconds: float = 2.0) -> float:
    """Baseline: the longest heartbeat gap while the window sits idle."""
    from kit_desktop.ui.main_window import MainWindow
    from tests.qt.test_api_support import Heartbeat

    window = MainWindow()
    window.show()
    _settle(0.3)
    heartbeat = Heartbeat()
    heartbeat.start()
    _settle(seconds)
    heartbeat.stop()
    window.close()
    window.deleteLater()
    return heartbeat.longest_ms


def _ms(values: list[float]) -> str:
    return f"max {max(values):.1f} ms, median {statistics.median(values):.1f} ms (n={len(values)})"


def main() -> None:
    """Measure and write the figures to docs/benchmarks.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

    from PySide6.QtWidgets import QApplication

    from bench.report import write_section
    from tests.qt.test_api_support import big_json

    app = QApplication.instance() or QApplication(sys.argv)
    assert app is not None
    body = big_json()
    idle = [idle_stall() for _ in range(3)]
    connects = [connect_stall() for _ in range(max(1, runs // 2))]
    answers = [big_answer_stall(body) for _ in range(runs)]
    connect_line = _ms([c[0] for c in connects])
    connect_took = statistics.median(c[1] for c in connects)
    short_line = _ms([a[0] for a in answers])
    all_line = _ms([a[1] for a in answers])
    all_took = statistics.median(a[2] for a in answers)
    worst = max([c[0] for c in connects] + [a[1] for a in answers])
    print(
        f"connect with a {EXCHANGE_DELAY:g} s exchange: {connect_line}, took {connect_took:.1f} s\n"
        f"5 MB answer, shortened view: {short_line}\n"
        f"5 MB answer, then Show all: {all_line}, whole answer in view after {all_took:.1f} s\n"
        f"worst: {worst:.1f} ms (target under {TARGET_MS:g} ms)"
    )
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    section = (
        "## GUI thread stalls (bench/ui_stall.py)\n\n"
        f"Measured {time.strftime('%Y-%m-%d')} on this machine (Qt platform `{platform}`): "
        "the longest gap between ticks of a 1 ms timer on the GUI thread.\n\n"
        "| what | longest stall |\n|---|---|\n"
        f"| baseline: the idle window, 2 s | {_ms(idle)} |\n"
        f"| connect (whole app, practice mode) while the token exchange waits "
        f"{EXCHANGE_DELAY:g} s | {connect_line}; connect took {connect_took:.1f} s |\n"
        f"| API page: a {len(body) / 1e6:.1f} MB JSON answer received, formatted off the "
        f"GUI thread and shown (shortened) | {short_line} |\n"
        f'| the same, then "Show all" ({all_took:.1f} s until the whole answer is in view) '
        f"| {all_line} |\n\n"
        f"Target: under {TARGET_MS:g} ms. Worst seen: {worst:.1f} ms.\n"
    )
    write_section(ROOT / "docs" / "benchmarks.md", "## GUI thread stalls", section)


if __name__ == "__main__":
    main()
