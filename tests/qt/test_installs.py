"""App Store installs and pasted answers in the running app, against the sandbox's App Store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from kit_desktop.auth.install_entry import ASKING_CREATOR, InstallRefused
from kit_desktop.config import Settings
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.qt.session import KitSession
from kit_desktop.relay_page import forward_address
from kit_desktop.sandbox import Fault, SandboxServer
from kit_desktop.sandbox.relay_host import RELAY_PATH
from kit_desktop.state import Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.flow import consent_id

# Two loopback URIs: the first origin serves installs, attempts take the next free one.
SETTINGS = Settings(redirect_uris=("http://127.0.0.1:0/callback", "http://127.0.0.1:0/callback"))
QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)


class Visit(threading.Thread):
    """A creator's browser, with requests: follows redirects by hand, answers consent."""

    def __init__(self, url: str, decision: str = "allow", *, stop_at_callback: bool = False):
        super().__init__(daemon=True)
        self.url = url
        self.decision = decision
        self.stop_at_callback = stop_at_callback
        self.trail: list[tuple[int, str]] = []
        self.final_text = ""
        self.callback_url = ""
        self.error = ""
        self.start()

    def run(self) -> None:
        try:
            self._walk()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _walk(self) -> None:
        url = self.url
        with requests.Session() as http:
            http.trust_env = False
            for _ in range(12):
                answer = http.get(url, allow_redirects=False, timeout=20)
                self.trail.append((answer.status_code, url))
                if answer.status_code == 200 and 'name="consent_id"' in answer.text:
                    answer = http.post(
                        urljoin(url, "/oauth/authorize/decision"),
                        data={"consent_id": consent_id(answer.text), "decision": self.decision},
                        allow_redirects=False,
                        timeout=20,
                    )
                    self.trail.append((answer.status_code, "decision"))
                    if self.stop_at_callback:
                        self.callback_url = answer.headers["Location"]
                        return
                if answer.status_code == 200 and urlsplit(url).path == RELAY_PATH:
                    forward = forward_address(answer.text, url)  # what the page's script does
                    assert forward is not None, "the relay page would not forward"
                    url = forward
                    continue
                if answer.status_code not in (301, 302, 303, 307):
                    self.final_text = answer.text
                    return
                url = urljoin(url, answer.headers["Location"])

    def finish(self) -> None:
        self.join(30)
        assert not self.is_alive()
        assert not self.error, self.error


@pytest.fixture
def made(qtbot: QtBot) -> Iterator[list[GuiApp]]:
    apps: list[GuiApp] = []
    yield apps
    for gui in apps:
        gui.shutdown()
        gui.window.close()


def start(qtbot: QtBot, made: list[GuiApp], opened: list[str] | None = None) -> GuiApp:
    sink = opened if opened is not None else []

    def opener(url: str) -> bool:
        sink.append(url)
        return True

    gui = GuiApp(SETTINGS, practice=True, opener=opener, backend=MemoryKeyring())
    made.append(gui)
    gui.show()
    qtbot.waitUntil(
        lambda: gui.session is not None and gui.session.view.storage is not None, timeout=10_000
    )
    return gui


def install_and_connect(qtbot: QtBot, session: KitSession, sandbox: SandboxServer) -> None:
    """Install from the sandbox's App Store with Allow, and wait until connected."""
    visit = Visit(sandbox.install_url)
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=30_000)
    visit.finish()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)


def parts(gui: GuiApp) -> tuple[KitSession, SandboxServer]:
    assert gui.session is not None and gui.sandbox is not None
    return gui.session, gui.sandbox


def test_install_from_the_sandbox_app_store_ends_installed_and_connected(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    gui = start(qtbot, made)
    session, sandbox = parts(gui)
    assert gui.installs is not None
    assert sandbox.authorization_url == sandbox.relay_url, "practice walks Kit's https road"
    headlines: list[str] = []
    session.changed.connect(lambda view: headlines.append(view.headline))
    visit = Visit(sandbox.install_url)
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=30_000)
    visit.finish()
    assert "Kit asked to connect this app" in headlines
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert "Installed" in visit.final_text
    statuses = [status for status, _ in visit.trail]
    # App Store -> relay page (its script forwards) -> install entry -> Kit
    assert statuses[:3] == [302, 200, 302], visit.trail
    assert visit.trail[1][1].startswith(sandbox.relay_url + "?redirect=")
    assert visit.trail[2][1].startswith(gui.installs.url + "?redirect=")
    assert visit.trail[-1][1].startswith(sandbox.app_page_url)
    assert (303, visit.trail[-2][1]) == visit.trail[-2] and visit.trail[-2][1].endswith("/done")


def test_a_denied_install_says_so_and_links_back_to_kit(qtbot: QtBot, made: list[GuiApp]) -> None:
    gui = start(qtbot, made)
    session, sandbox = parts(gui)
    visit = Visit(sandbox.install_url, decision="deny")
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=30_000)
    visit.finish()
    assert f'href="{sandbox.app_page_url}?success=true"' in visit.final_text
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=10_000)


def test_a_foreign_redirect_never_starts_anything(qtbot: QtBot, made: list[GuiApp]) -> None:
    gui = start(qtbot, made)
    session, _ = parts(gui)
    assert gui.installs is not None
    answer = requests.get(
        gui.installs.url + "?redirect=https%3A%2F%2Fevil.example%2Fapps%2F1",
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert session.view.phase is Phase.NOT_CONNECTED


def test_an_install_while_connected_keeps_the_saved_connection_if_denied(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    opened: list[str] = []
    gui = start(qtbot, made, opened)
    session, sandbox = parts(gui)
    install_and_connect(qtbot, session, sandbox)
    notices: list[str] = []
    session.notice.connect(notices.append)
    again = Visit(sandbox.install_url)
    qtbot.waitUntil(lambda: not again.is_alive(), timeout=30_000)
    again.finish()
    assert "Answer in Kit Desktop" in again.final_text  # connected: the app asks first
    box = gui.window.install_box
    assert box is not None
    next(button for button in box.buttons() if button.text() == "Replace connection").click()
    qtbot.waitUntil(lambda: len(opened) == 1)  # the install goes on in a new tab
    denied = Visit(opened[0], decision="deny")
    qtbot.waitUntil(lambda: not denied.is_alive(), timeout=30_000)
    denied.finish()
    assert f'href="{sandbox.app_page_url}?success=true"' in denied.final_text
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert any("saved connection is still in use" in notice for notice in notices)


def test_pasting_the_redirected_address_finishes_connecting(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    opened: list[str] = []
    gui = start(qtbot, made, opened)
    session, _ = parts(gui)
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING, timeout=10_000)
    box = gui.window.card.paste_box
    assert box.isVisible()
    box.toggle_button.click()
    box.field.setText("not a code at all")
    box.continue_button.click()
    qtbot.waitUntil(lambda: "paste it again" in _error_text(box), timeout=5_000)
    visit = Visit(opened[0], stop_at_callback=True)
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=20_000)
    visit.finish()
    wrong = visit.callback_url.replace("state=", "state=0")
    box.field.setText(wrong)
    box.continue_button.click()
    qtbot.waitUntil(lambda: "earlier attempt" in _error_text(box), timeout=5_000)
    box.field.setText(visit.callback_url)
    box.continue_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert not box.isVisible()


def _error_text(box: QWidget) -> str:
    label = box.findChild(QLabel, "pasteError")
    return label.text() if isinstance(label, QLabel) and label.isVisible() else ""


def test_c70_an_install_from_a_caller_the_app_cannot_identify_asks_first(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    # Where the platform cannot tell which account asks (Windows, macOS), nothing starts on
    # the request alone, even with nothing to replace: the window asks, and Continue opens
    # the creator's own browser on the attempt.
    opened: list[str] = []
    gui = start(qtbot, made, opened)
    session, sandbox = parts(gui)
    raised: list[bool] = []
    session.attention_requested.connect(lambda: raised.append(True))
    answer = session.start_install(f"{sandbox.app_page_url}?success=true", trusted=False)
    assert answer is ASKING_CREATOR
    box = gui.window.install_box
    assert box is not None and raised == []
    assert [button.text() for button in box.buttons()] == ["Continue", "Cancel"]
    assert "If you just clicked Install in Kit, choose “Continue”" in box.text()
    assert session.view.phase is Phase.NOT_CONNECTED
    next(button for button in box.buttons() if button.text() == "Continue").click()
    qtbot.waitUntil(lambda: len(opened) == 1)
    assert opened[0].endswith("/start")
    visit = Visit(opened[0])
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=30_000)
    visit.finish()
    qtbot.waitUntil(lambda: session.view.phase is Phase.CONNECTED, timeout=10_000)
    assert visit.trail[-1][1].startswith(sandbox.app_page_url)  # back to Kit's app page


def test_an_install_while_disconnecting_says_why_nothing_started(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    gui = start(qtbot, made)
    session, sandbox = parts(gui)
    install_and_connect(qtbot, session, sandbox)
    session.disconnect_account()
    answer = session.start_install(f"{sandbox.app_page_url}?success=true")
    assert isinstance(answer, InstallRefused)
    assert "disconnecting" in answer.message and "Install again" in answer.message
    qtbot.waitUntil(lambda: session.view.phase is Phase.NOT_CONNECTED, timeout=10_000)


def test_an_install_agreed_to_during_a_renewal_keeps_its_own_attempt(
    qtbot: QtBot, made: list[GuiApp]
) -> None:
    opened: list[str] = []
    gui = start(qtbot, made, opened)
    session, sandbox = parts(gui)
    install_and_connect(qtbot, session, sandbox)
    old = session.view.tokens.access_token if session.view.tokens else ""
    sandbox.set_fault("/v4/oauth/token", Fault("delay", seconds=1.0, times=1))
    session.refresh_now()  # a renewal is in flight for a second
    assert session.start_install(f"{sandbox.app_page_url}?success=true") is ASKING_CREATOR
    session.answer_install(True)
    qtbot.waitUntil(lambda: len(opened) == 1)
    # the renewal's answer arrives meanwhile, and must not end the attempt
    qtbot.waitUntil(
        lambda: sandbox.oauth.refresh_requests == 1 and not session._workers.busy, timeout=10_000
    )
    assert session.view.phase is Phase.WAITING, session.view
    assert gui.window.card.paste_box.isVisible()
    visit = Visit(opened[0])
    qtbot.waitUntil(lambda: not visit.is_alive(), timeout=30_000)
    visit.finish()
    qtbot.waitUntil(
        lambda: (
            session.view.phase is Phase.CONNECTED
            and session.view.tokens is not None
            and session.view.tokens.access_token != old
        ),
        timeout=10_000,
    )
