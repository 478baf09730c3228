"""Only one instance runs: a second launch activates the first (real local sockets)."""

from __future__ import annotations

import secrets

from pytestqt.qtbot import QtBot

from kit_desktop.qt.single_instance import SingleInstance, instance_key


def test_second_instance_activates_the_first(qtbot: QtBot) -> None:
    key = "kit-desktop-test-" + secrets.token_hex(6)
    first = SingleInstance(key)
    assert first.claim()
    second = SingleInstance(key)
    with qtbot.waitSignal(first.activated, timeout=5000):
        assert not second.claim()
    first.release()
    third = SingleInstance(key)
    assert third.claim(), "after the first quits, a new launch becomes the instance"
    third.release()


def test_key_is_per_data_folder() -> None:
    key = instance_key()
    assert key.startswith("kit-desktop-")
    assert len(key) == len("kit-desktop-") + 8
