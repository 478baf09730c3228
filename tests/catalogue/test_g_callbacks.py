"""Catalogue G, case 73: every way Kit's answer arrives gets every check.

Kit's answer reaches the app three ways: at the loopback receiver directly, through the
https relay page (its script forwards it to the loopback), and pasted by the creator. Each
must check this attempt's ``state`` and the issuer (``iss``, RFC 9207); none may be weaker
than the loopback. The app runs in practice mode on the relay road; the relay page runs in
real Chromium. An answer with another attempt's state (or none) is ignored; one with this
attempt's state but another issuer ends the attempt at once, every way, with the same words.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
import requests
from playwright.sync_api import Page
from pytestqt.qtbot import QtBot

from kit_desktop.auth.paste import code_from_paste
from kit_desktop.errors import ForeignIssuerError, PartialPasteError
from kit_desktop.gui.gui_app import GuiApp
from kit_desktop.state import AttemptView, Phase
from tests.helpers.browser import chromium_path
from tests.helpers.browser_steps import InBrowser
from tests.helpers.gui_apps import QT_NOISE, show_app
from tests.helpers.realparts import require

FOREIGN = "https://evil.example"
pytestmark = pytest.mark.qt_log_ignore(*QT_NOISE)

# What each bad answer carries, as query parameters (the state is filled in per test).
BAD_ANSWERS = {
    "foreign issuer": {"code": "stolen-code-0123456789", "iss": FOREIGN},
    "wrong state": {"code": "stolen-code-0123456789", "state": "{port}.not-this-attempts-state"},
    "no state": {"code": "stolen-code-0123456789", "state": ""},
}


@pytest.fixture
def waiting(qtbot: QtBot, gui_apps: list[GuiApp]) -> tuple[GuiApp, AttemptView]:
    """The app in practice mode, waiting for Kit's answer to one attempt."""
    gui = show_app(qtbot, gui_apps, opener=lambda url: True)
    session = gui.session
    assert session is not None
    attempts: list[AttemptView] = []
    session.attempt_changed.connect(attempts.append)
    gui.window.card.primary_button.click()
    qtbot.waitUntil(lambda: session.view.phase is Phase.WAITING)
    return gui, attempts[-1]


def bad_query(kind: str, attempt: AttemptView) -> str:
    port = attempt.state.split(".")[0]
    params = {"state": attempt.state, **BAD_ANSWERS[kind]}
    params["state"] = params["state"].replace("{port}", port)
    return urlencode({name: value for name, value in params.items() if value})


def assert_still_waiting(gui: GuiApp) -> None:
    assert gui.session is not None and gui.sandbox is not None
    assert gui.session.view.phase is Phase.WAITING
    assert gui.sandbox.oauth.token_requests == 0, "nothing was exchanged"


def assert_handled(qtbot: QtBot, gui: GuiApp, kind: str) -> None:
    """Another issuer's answer to this attempt ends it with its reason; the rest are ignored."""
    if kind != "foreign issuer":
        qtbot.wait(100)
        assert_still_waiting(gui)
        return
    session = gui.session
    assert session is not None and gui.sandbox is not None
    qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED)
    assert session.view.detail == ForeignIssuerError.default_message
    assert gui.sandbox.oauth.token_requests == 0, "nothing was exchanged"


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_c73_at_the_loopback(qtbot: QtBot, waiting: tuple[GuiApp, AttemptView], kind: str) -> None:
    gui, attempt = waiting
    port = attempt.state.split(".")[0]
    answer = requests.get(
        f"http://127.0.0.1:{port}/callback?{bad_query(kind, attempt)}", timeout=10
    )
    assert answer.status_code == 400
    assert_handled(qtbot, gui, kind)


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_c73_through_the_relay_page_in_chromium(
    qtbot: QtBot, waiting: tuple[GuiApp, AttemptView], kind: str
) -> None:
    require(chromium_path() is not None, "Chromium (apt-get install chromium)")
    gui, attempt = waiting
    assert gui.sandbox is not None
    address = f"{gui.sandbox.relay_url}?{bad_query(kind, attempt)}"

    def steps(page: Page) -> str:
        page.goto(address, wait_until="load")
        page.wait_for_timeout(500)
        return page.inner_text("body")

    browser = InBrowser(steps)
    qtbot.waitUntil(lambda: not browser.is_alive(), timeout=30_000)
    words = browser.outcome()
    expected = {
        "foreign issuer": "This answer did not come from Kit",  # the app's page
        "wrong state": "This link is not for this connection",  # the app's page
        "no state": "Kit Desktop was not opened",  # the relay page's refusal
    }
    assert expected[kind] in words
    assert_handled(qtbot, gui, kind)


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
def test_c73_pasted_by_the_creator(
    qtbot: QtBot, waiting: tuple[GuiApp, AttemptView], kind: str
) -> None:
    gui, attempt = waiting
    errors: list[str] = []
    assert gui.session is not None
    gui.session.paste_rejected.connect(errors.append)
    box = gui.window.card.paste_box
    box.toggle_button.click()
    box.field.setText(f"{gui.sandbox.relay_url if gui.sandbox else ''}?{bad_query(kind, attempt)}")
    box.continue_button.click()
    if kind == "foreign issuer":  # the same as at the loopback: the attempt ends
        assert_handled(qtbot, gui, kind)
        assert errors == []
        return
    qtbot.waitUntil(lambda: bool(errors))
    assert "earlier attempt" in errors[-1]
    assert_still_waiting(gui)


def test_c73_a_pasted_bare_code_is_refused_it_carries_no_state_or_issuer() -> None:
    with pytest.raises(PartialPasteError) as caught:
        code_from_paste("stolen-code-0123456789", "53220.state-of-this-attempt", FOREIGN)
    assert "only part of Kit's answer" in caught.value.user_message


def test_c73_the_relays_copied_answer_keeps_the_issuer_for_the_check() -> None:
    state = "53220.state-of-this-attempt"
    copied = f"code=abc&state={quote(state)}&iss={quote(FOREIGN, safe='')}"
    with pytest.raises(ForeignIssuerError):
        code_from_paste(copied, state, "https://api.kit.com")
    assert code_from_paste(copied, state, FOREIGN).code == "abc"
