"""``--smoke-test`` from source: every step passes, and a broken part names its step."""

from __future__ import annotations

import io
import json

import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from kit_desktop.auth.token_store import SERVICE_NAME, profile_key
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.gui.smoke import SMOKE_CLIENT_ID, run_smoke_test
from tests.helpers.fake_keyrings import MemoryKeyring

SETTINGS = Settings(redirect_uris=("http://127.0.0.1:0/callback",))
QT_NOISE = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)
STEPS = (
    "show the window",
    "find secure storage",
    "connect in the browser stand-in",
    "read the tokens back from the keyring",
    "send GET /v4/account",
    "disconnect",
)


def smoke(backend: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_smoke_test(SETTINGS, backend=backend, out=out, err=err)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_every_step_passes_and_nothing_is_left_in_the_keyring(qtbot: QtBot) -> None:
    keyring = MemoryKeyring()
    code, out, err = smoke(keyring)
    assert code == 0, err
    reported = [line.split("  ", 1)[1].rsplit(" (", 1)[0] for line in out.splitlines()[:-1]]
    assert reported == list(STEPS)
    assert out.splitlines()[-1] == "smoke test passed"
    assert "set" in keyring.calls and "delete" in keyring.calls
    assert keyring.entries == {}, "the smoke test's connection is gone"


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_a_creators_practice_connection_is_never_touched(qtbot: QtBot) -> None:
    keyring = MemoryKeyring()
    theirs = (SERVICE_NAME, profile_key("http://127.0.0.1:1/", SANDBOX_CLIENT_ID))
    keyring.entries[theirs] = json.dumps({"access_token": "theirs"})
    code, _, err = smoke(keyring)
    assert code == 0, err
    assert keyring.entries == {theirs: json.dumps({"access_token": "theirs"})}
    assert SMOKE_CLIENT_ID != SANDBOX_CLIENT_ID


@pytest.mark.qt_log_ignore(*QT_NOISE)
@pytest.mark.expected_log(r"^Tokens are kept for this session only: ", logger="kit_desktop.auth")
def test_without_secure_storage_the_failing_step_is_named(qtbot: QtBot) -> None:
    code, out, err = smoke(fail.Keyring())  # type: ignore[no-untyped-call]
    assert code == 1
    assert out.startswith("ok  show the window")
    assert err.startswith("smoke test failed at step “find secure storage”:")
    assert "secure storage is not available" in err
