"""The session's steps as pure functions: each sets the phase, its words and what it owns."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

from kit_desktop import transitions as step
from kit_desktop import words
from kit_desktop.errors import (
    ConsentDeniedError,
    ReconnectNeededError,
    RelayPageMissingError,
    ServerError,
)
from kit_desktop.state import AccountView, Phase, SessionView, StorageView, TokenView

STORAGE = StorageView("the system keyring", True, None)
TOKENS = TokenView("access", "Bearer", "public", 1000.0, 4600.0, None)
ADA = AccountView("Ada", "ada@example.com")


def connected() -> SessionView:
    return step.connected(SessionView(), tokens=TOKENS, storage=STORAGE, account=ADA)


def test_a_connect_walks_opening_waiting_finishing_connected() -> None:
    view = step.opening(SessionView())
    assert (view.phase, view.headline) == (Phase.OPENING, "Opening Kit in your browser…")
    view = step.waiting(view, opened=True, until=300.0)
    assert view.phase is Phase.WAITING and view.waiting_until == 300.0
    assert view.detail == words.BROWSER_OPEN
    view = step.finishing(view)
    assert view.phase is Phase.FINISHING and view.waiting_until is None and view.detail == ""
    view = step.connected(view, tokens=TOKENS, storage=STORAGE, account=ADA)
    assert view.phase is Phase.CONNECTED
    assert view.headline == "Connected as Ada (ada@example.com)"
    assert view.tokens == TOKENS and view.storage == STORAGE and view.holds_tokens


def test_no_browser_says_to_copy_the_link() -> None:
    view = step.waiting(step.opening(SessionView()), opened=False, until=1.0)
    assert "Copy link" in view.detail


def test_a_restored_connection_keeps_the_known_account_when_kit_names_nobody() -> None:
    view = step.connected(connected(), tokens=TOKENS, storage=STORAGE, account=None)
    assert view.account == ADA and view.headline == "Connected as Ada (ada@example.com)"


def test_a_renewal_failure_stays_connected_and_says_why() -> None:
    view = step.renew_failed(step.renewing(connected()), ServerError())
    assert view.phase is Phase.CONNECTED and not view.refreshing
    assert view.refresh_error == ServerError.default_message
    assert view.last_error_code == "ServerError"
    assert view.tokens == TOKENS


def test_reconnect_needed_drops_the_tokens_but_still_holds_a_connection() -> None:
    view = step.reconnect_needed(connected(), ReconnectNeededError())
    assert view.phase is Phase.RECONNECT_NEEDED and view.tokens is None
    assert view.holds_tokens  # a broken connection is still one to replace or forget
    assert view.detail == ReconnectNeededError.default_message


def test_a_denial_is_not_a_failure() -> None:
    view = step.not_connected(
        step.waiting(SessionView(), opened=True, until=9.0),
        ConsentDeniedError().user_message,
        code="ConsentDeniedError",
    )
    assert view.phase is Phase.NOT_CONNECTED and view.waiting_until is None
    assert view.last_error_code == "ConsentDeniedError"


def test_a_build_without_its_relay_page_fails_with_its_own_headline() -> None:
    view = step.failed(SessionView(), RelayPageMissingError())
    assert view.phase is Phase.FAILED and view.headline == words.NOT_READY_FOR_KIT


def test_disconnecting_then_disconnected_forgets_who_was_connected() -> None:
    view = step.disconnecting(connected())
    assert view.detail == words.DISCONNECTING and view.phase is Phase.CONNECTED
    view = step.disconnected(view, None)
    assert view.phase is Phase.NOT_CONNECTED
    assert view.account is None and view.tokens is None and not view.holds_tokens
    assert view.detail == words.REVOKED


def test_nothing_saved_says_how_to_connect() -> None:
    view = step.nothing_saved(step.checking(SessionView()), STORAGE)
    assert view.headline == "Not connected" and view.detail == words.CONNECT_HINT


TRANSITIONS: list[Callable[..., SessionView]] = [
    function
    for name, function in inspect.getmembers(step, inspect.isfunction)
    if function.__module__ == step.__name__ and not name.endswith("_view")
]


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda function: function.__name__)
def test_every_step_is_documented_and_typed(transition: Callable[..., SessionView]) -> None:
    assert transition.__doc__
    assert inspect.signature(transition).return_annotation == "SessionView"


def test_every_phase_is_reached_by_some_step() -> None:
    view = connected()
    reached = {
        step.opening(view).phase,
        step.waiting(view, opened=True, until=1).phase,
        step.finishing(view).phase,
        view.phase,
        step.renewing(view).phase,
        step.reconnect_needed(view, ReconnectNeededError()).phase,
        step.failed(view, ServerError()).phase,
        step.not_connected(view).phase,
    }
    assert reached == set(Phase)
