"""The card's words, read without a window: every phase has a headline, buttons exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kit_desktop import words
from kit_desktop.errors import (
    KitTimeoutError,
    NetworkError,
    RelayPageMissingError,
    RevokeRefusedError,
    ServerError,
)
from kit_desktop.state import AccountView, Phase

UI = Path(words.__file__).parent / "ui"


def sentences() -> list[str]:
    return [
        value for name, value in vars(words).items() if name.isupper() and isinstance(value, str)
    ]


def test_every_phase_has_a_headline() -> None:
    assert set(words.HEADLINES) == set(Phase)
    assert all(headline.strip() for headline in words.HEADLINES.values())


def test_every_button_a_sentence_names_is_a_label_in_the_window() -> None:
    """A sentence that says "click “Copy link”" must match a button the window shows."""
    named = {name for text in sentences() for name in re.findall(r"“([^”]+)”", text)}
    question_buttons = {"Continue", "Cancel", "Replace connection", "Keep current connection"}
    labels = " ".join(path.read_text(encoding="utf-8") for path in UI.glob("*.py"))
    missing = sorted(
        name for name in named - question_buttons if f'self.tr("{name}")' not in labels
    )
    assert "Connect to Kit" in named and "Copy link" in named
    assert missing == []


def test_the_question_names_its_own_buttons() -> None:
    for question in (
        words.install_question(attempt_running=False, holds_tokens=False, account=None),
        words.install_question(attempt_running=True, holds_tokens=False, account=None),
        words.install_question(
            attempt_running=False, holds_tokens=True, account=AccountView("Ada", "ada@example.com")
        ),
    ):
        assert f"“{question.agree}”" in question.text
        assert f"“{question.refuse}”" in question.text


@pytest.mark.parametrize(
    ("attempt_running", "holds_tokens", "account", "expected"),
    [
        (True, True, AccountView("Ada", "ada@example.com"), "replaces the connection you started"),
        (False, True, AccountView("Ada", "ada@example.com"), "your connection to ada@example.com"),
        (False, True, AccountView("Ada", ""), "your connection to Ada"),
        (False, True, None, "replaces your current connection"),
        (False, False, None, "If you just clicked Install in Kit"),
    ],
)
def test_the_install_question_says_what_would_be_replaced(
    attempt_running: bool, holds_tokens: bool, account: AccountView | None, expected: str
) -> None:
    question = words.install_question(
        attempt_running=attempt_running, holds_tokens=holds_tokens, account=account
    )
    assert expected in question.text


def test_connected_headline_names_whoever_kit_gave() -> None:
    assert words.connected_headline(None) == "Connected to Kit"
    assert words.connected_headline(AccountView("Ada", "a@x.io")) == "Connected as Ada (a@x.io)"
    assert words.connected_headline(AccountView("", "a@x.io")) == "Connected as a@x.io"


def test_a_build_that_cannot_reach_kit_says_so_in_the_headline() -> None:
    assert words.failed_headline(RelayPageMissingError()) == words.NOT_READY_FOR_KIT
    assert words.failed_headline(ServerError()) == "Could not connect"


def test_a_disconnect_says_whether_kit_was_told() -> None:
    assert words.revoke_outcome(None) == words.REVOKED
    unreached = words.revoke_outcome(NetworkError("Kit did not answer."))
    assert unreached.startswith("Removed from this computer. Kit could not be reached")
    assert "try again" not in unreached.lower(), "there is nothing to try again"
    assert "Kit may still list Kit Desktop as allowed" in unreached, "no false all-clear"
    assert "remove Kit Desktop's access in your Kit account." in unreached
    assert "expires, but" in unreached, "no time when none is known"


def test_an_offline_disconnect_names_when_the_access_runs_out() -> None:
    now = 1_800_000_000.0
    today = words.at_time(now + 3600, now)
    assert today.startswith("at ") and ":" in today
    assert words.at_time(now + 3 * 86400, now).startswith("on ")
    assert words.at_time(None, now) == ""
    said = words.revoke_outcome(NetworkError(), now + 3600)
    assert f"when it expires ({words.at_time(now + 3600)})," in said


def test_a_disconnect_says_unreachable_only_when_kit_was() -> None:
    assert "could not be reached" in words.revoke_problem(KitTimeoutError())
    refused = words.revoke_outcome(RevokeRefusedError(503, "Simulated failure."))
    assert "could not be reached" not in refused
    assert refused.startswith("Removed from this computer. Kit answered but did not cancel")
    assert "Kit said (HTTP 503): “Simulated failure.”" in refused
    assert "may keep working until it expires" in refused
    assert "Nothing on this computer can use or renew it" in refused
    assert refused.endswith("remove Kit Desktop's access in your Kit account.")
    assert "expires (tomorrow)." in words.revoke_problem(RevokeRefusedError(400), "tomorrow")


def test_braces_in_a_name_are_shown_as_written() -> None:
    assert words.done_page("{who} {0}") == "Connected as {who} {0}."


def test_a_404_does_not_blame_a_correct_path_and_names_the_request_that_helps() -> None:
    from kit_desktop.api.endpoints import PRESETS

    sentence = words.api_problem(404, "Not Found")
    assert "Check the path" not in sentence and sentence.endswith("Kit says: Not Found")
    named = re.findall(r"“([^”]+)”", sentence)
    assert named and all(name.capitalize() in PRESETS for name in named)


def test_every_refusal_status_has_words_and_kits_own_follow() -> None:
    for status in (400, 401, 403, 404, 409, 422, 429, 500, 503):
        sentence = words.api_problem(status, "Kit's reason")
        assert sentence.endswith("Kit says: Kit's reason") and len(sentence) > 30
    assert words.api_problem(200, "") == ""


def test_the_timeout_blames_no_one_and_names_the_button_the_card_shows_then() -> None:
    from kit_desktop.errors import FlowTimeoutError

    assert FlowTimeoutError(300).user_message == (
        "Nothing came back from your browser within 5 minutes, so nothing was connected. "
        "Click “Try again”, then click Allow in your browser."
    )
    card = (UI / "connection_card.py").read_text(encoding="utf-8")
    assert 'if phase is Phase.FAILED:\n            return self.tr("Try again")' in card
