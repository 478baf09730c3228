r"""A creator's walk down the relay road: the real window on Xvfb, real Chromium, screenshots.

Practice mode walks the road real Kit needs (Kit → the publisher's https relay page → the
app), so this walk shows exactly what a creator meets: Connect, Kit's consent page, the
relay page passing the answer on, the done page, the connected window; an App Store install
while connected (the browser says "Answer in Kit Desktop", the window asks); Deny; the relay
page's copy-the-code fallback pasted into the window; and a build for Kit without its relay
page. Pictures go to docs/screenshots/relay-*.png.

Run inside a Secret Service session (as ``tests/run-suite.sh`` does), e.g.::

    dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock \\
        --components=secrets >/dev/null; .venv/bin/python -m bench.relay_walk'
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.screenshots import OUT, ROOT, print_pictures
from kit_desktop.sandbox.faults import Fault

Step = Callable[[Any], object]
#: Chromium's window, at the top left of the X screen; the app's window goes beside it.
BROWSER_SIZE = (900, 700)


class Browser(threading.Thread):
    """A headed Chromium on the X display, driven step by step from the walk's thread."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self._steps: queue.Queue[tuple[Step, queue.Queue[object]] | None] = queue.Queue()
        self.page: Any = None
        self.start()

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        from tests.helpers.browser import CHROMIUM_FLAGS, chromium_path

        flags = [flag for flag in CHROMIUM_FLAGS if flag != "--headless=new"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(),
                headless=False,
                args=[
                    *flags,
                    "--window-position=0,0",
                    f"--window-size={BROWSER_SIZE[0]},{BROWSER_SIZE[1]}",
                ],
                chromium_sandbox=False,
            )
            context = browser.new_context(viewport={"width": 900, "height": 620})
            context.grant_permissions(["clipboard-read", "clipboard-write"])
            self.page = context.new_page()
            self.page.set_default_timeout(20_000)
            while True:
                item = self._steps.get()
                if item is None:
                    break
                step, answer = item
                try:
                    answer.put(step(self.page))
                except Exception as exc:  # handed back to the walk
                    answer.put(exc)
            browser.close()

    def do(self, step: Step, pump: Callable[[], None]) -> object:
        """Run ``step(page)`` on the browser's thread; pump Qt events while waiting."""
        answer: queue.Queue[object] = queue.Queue()
        self._steps.put((step, answer))
        while True:
            pump()
            try:
                result = answer.get(timeout=0.02)
            except queue.Empty:
                continue
            if isinstance(result, Exception):
                raise result
            return result

    def stop(self) -> None:
        self._steps.put(None)
        self.join(20)


def walk() -> list[Path]:
    """Walk every step; return the pictures written."""
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QWidget

    from kit_desktop.config import Settings
    from kit_desktop.gui.gui_app import GuiApp
    from kit_desktop.state import Phase

    app = QApplication.instance() or QApplication(sys.argv)
    written: list[Path] = []
    opened: list[str] = []

    def pump() -> None:
        app.processEvents()

    def wait(done: Callable[[], bool], what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            pump()
            time.sleep(0.01)

    def settle(seconds: float = 0.4) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pump()
            time.sleep(0.01)

    def shoot_widget(widget: QWidget, name: str) -> None:
        settle()
        path = OUT / f"relay-{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    def shoot_page(name: str) -> Step:
        def step(page: Any) -> None:
            path = OUT / f"relay-{name}.png"
            page.screenshot(path=str(path))
            written.append(path)

        return step

    OUT.mkdir(parents=True, exist_ok=True)
    browser = Browser()

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    gui = GuiApp(Settings(), practice=True, opener=opener)
    gui.window.resize(640, 720)
    gui.window.move(BROWSER_SIZE[0] + 20, 0)
    gui.show()
    wait(lambda: gui.session is not None and gui.session.view.storage is not None, "window")
    session, sandbox = gui.session, gui.sandbox
    assert session is not None
    assert sandbox is not None
    try:
        # 1-5: Connect, Kit's consent page, the relay page, the done page, connected.
        if session.view.phase.has_tokens:
            session.disconnect_account()
            wait(lambda: session.view.phase is Phase.NOT_CONNECTED, "a clean start")
        shoot_widget(gui.window, "1-window-not-connected")
        gui.window.card.primary_button.click()
        wait(lambda: bool(opened), "the browser opener")
        browser.do(lambda page: page.goto(opened[-1], wait_until="load"), pump)
        browser.do(shoot_page("2-kit-consent"), pump)

        held: list[Any] = []  # the relay page's hop to the app, held for a photograph

        def hold(route: Any) -> None:
            held.append(route)

        def hold_callback(page: Any) -> None:
            page.route("http://127.0.0.1:*/callback*", hold)
            page.click("#allow", no_wait_after=True)
            for _ in range(200):  # until the relay page's hop to the app is held
                if held:
                    break
                page.wait_for_timeout(50)

        def release(page: Any) -> None:
            for route in held:
                route.continue_()
            page.wait_for_selector("text=Connected as")
            page.unroute("http://127.0.0.1:*/callback*")

        browser.do(hold_callback, pump)
        settle(0.5)
        # Chromium waits on the held hop, so photograph its window on the X screen instead.
        screen = QGuiApplication.primaryScreen()
        path = OUT / "relay-3-relay-page.png"
        screen.grabWindow(0, 0, 0, BROWSER_SIZE[0], BROWSER_SIZE[1]).save(str(path))
        written.append(path)
        browser.do(release, pump)
        browser.do(shoot_page("4-done-page"), pump)
        wait(lambda: session.view.phase is Phase.CONNECTED, "connected")
        shoot_widget(gui.window, "5-window-connected")

        # 6-7: an App Store install while connected: the browser page and the window ask.
        browser.do(lambda page: page.goto(sandbox.install_url, wait_until="load"), pump)

        def answered(page: Any) -> None:
            try:
                page.wait_for_selector("text=Answer in Kit Desktop")
            except Exception:
                print("the browser is on", page.url, page.inner_text("body")[:400], file=sys.stderr)
                raise

        browser.do(answered, pump)
        browser.do(shoot_page("6-install-answer-in-app"), pump)
        wait(lambda: gui.window.install_box is not None, "the install question")
        box = gui.window.install_box
        assert box is not None
        shoot_widget(box, "7-install-question")
        box.reject()
        wait(lambda: gui.window.install_box is None, "Keep")
        settle(5.5)  # the status bar's "Kept your current connection" fades

        # 8-9: Deny, after a disconnect.
        session.disconnect_account()
        wait(lambda: session.view.phase is Phase.NOT_CONNECTED, "disconnected")
        opened.clear()
        gui.window.card.primary_button.click()
        wait(lambda: bool(opened), "the browser opener")
        browser.do(lambda page: page.goto(opened[-1], wait_until="load"), pump)
        browser.do(
            lambda page: (page.click("#deny"), page.wait_for_selector("text=Not connected")), pump
        )
        browser.do(shoot_page("8-deny-page"), pump)
        wait(lambda: "chose not to connect" in session.view.detail, "denied")
        shoot_widget(gui.window, "9-window-denied")

        # 10-11: the app cannot be reached: the relay page shows the code; paste it.
        opened.clear()
        gui.window.card.primary_button.click()
        wait(lambda: bool(opened), "the browser opener")
        browser.do(lambda page: page.goto(opened[-1], wait_until="load"), pump)

        def unreachable(page: Any) -> str:
            page.route(
                "http://127.0.0.1:*/callback*", lambda route: route.abort("connectionrefused")
            )
            page.click("#allow", no_wait_after=True)
            for _ in range(2):  # Playwright may first report the refused navigation itself
                try:
                    page.wait_for_url("chrome-error://**", timeout=20_000)  # can't be reached
                    break
                except Exception as exc:
                    if "ERR_CONNECTION_REFUSED" not in str(exc):
                        raise
            page.wait_for_load_state("load")
            page.wait_for_timeout(300)
            page.go_back(wait_until="load")  # the creator goes Back: the page shows the code
            page.wait_for_selector("#code", state="visible", timeout=20_000)
            return str(page.input_value("#code"))

        code = browser.do(unreachable, pump)
        browser.do(shoot_page("10-relay-fallback"), pump)
        box_widget = gui.window.card.paste_box
        box_widget.toggle_button.click()
        box_widget.field.setText(str(code))
        shoot_widget(gui.window, "11-window-paste")
        box_widget.continue_button.click()
        wait(lambda: session.view.phase is Phase.CONNECTED, "connected by paste")
        browser.do(lambda page: page.unroute("http://127.0.0.1:*/callback*"), pump)

        # 13-14: Disconnect asks in true words; offline, it says there is nothing to retry.
        gui.window.card.primary_button.click()
        from PySide6.QtWidgets import QMessageBox

        boxes = [b for b in gui.window.findChildren(QMessageBox) if b.isVisible()]
        shoot_widget(boxes[0], "13-disconnect-question")
        boxes[0].reject()
        settle()
        sandbox.set_fault("/v4/oauth/revoke", Fault("drop"))
        session.disconnect_account()
        wait(lambda: session.view.phase is Phase.NOT_CONNECTED, "disconnected offline")
        shoot_widget(gui.window, "14-window-disconnected-offline")
        sandbox.faults.clear()

        # 15-16: Allow clicked after Cancel: the app's page says so; the window is calm.
        opened.clear()
        gui.window.card.primary_button.click()
        wait(lambda: bool(opened), "the browser opener")
        browser.do(lambda page: page.goto(opened[-1], wait_until="load"), pump)
        gui.window.card.primary_button.click()  # Cancel
        wait(lambda: session.view.phase is Phase.NOT_CONNECTED, "cancelled")
        browser.do(
            lambda page: (page.click("#allow"), page.wait_for_selector("text=cancelled")), pump
        )
        browser.do(shoot_page("15-late-allow-page"), pump)
        shoot_widget(gui.window, "16-window-cancelled")

        # 17: the 5-minute wait ran out (shortened here): the words match the button.
        session.flow_timeout = 2.0
        opened.clear()
        gui.window.card.primary_button.click()
        wait(lambda: session.view.phase is Phase.FAILED, "timed out", 20)
        shoot_widget(gui.window, "17-window-timed-out")
        session.flow_timeout = 300.0

        # 18: Help > How to connect your real Kit account.
        gui.window.menuBar().actions()  # the menus are built with the window
        help_dialogs = _open_connect_help(gui.window)
        shoot_widget(help_dialogs, "18-help-real-account")
        help_dialogs.close()

        # 19: Kit out of reach: said before any browser opens.
        sandbox.stop()
        opened.clear()
        gui.window.card.primary_button.click()
        wait(lambda: session.view.phase is Phase.FAILED, "unreachable", 20)
        shoot_widget(gui.window, "19-window-kit-unreachable")
    finally:
        gui.shutdown()
        gui.window.close()
        browser.stop()

    # 12: a build for real Kit whose publisher did not set the relay page.
    unfinished = GuiApp(
        Settings(client_id="publisher-client-id"), practice=False, opener=lambda url: False
    )
    unfinished.window.resize(640, 560)
    unfinished.show()
    wait(
        lambda: unfinished.session is not None and unfinished.session.view.phase is Phase.FAILED,
        "the not-finished build",
    )
    shoot_widget(unfinished.window, "12-build-without-relay-page")
    unfinished.shutdown()
    unfinished.window.close()
    return written


def _open_connect_help(window: Any) -> Any:
    """Open Help's "How to connect your real Kit account…" and return its dialog."""
    from PySide6.QtWidgets import QDialog

    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text().startswith("How to connect"):
                action.trigger()
    dialogs = [d for d in window.findChildren(QDialog) if d.isVisible()]
    return dialogs[-1]


def main() -> None:
    """Walk and print the pictures written."""
    os.chdir(ROOT)
    print_pictures(walk)


if __name__ == "__main__":
    main()
