"""Paint first: the window shows before requests, keyring and the sandbox are loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kit_desktop.qt.startup_probe import DEFERRED_MODULES, memory_kib, probe_settle_ms
from kit_desktop.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
QT_NOISE = ("This plugin does not support propagateSizeHints()",)


def launch(*args: str, settle_ms: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIT_STARTUP_PROBE": str(settle_ms), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("args", [(), ("--sandbox",)])
def test_the_window_paints_before_the_heavy_modules_load(args: tuple[str, ...]) -> None:
    done = launch(*args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "kit-probe painted deferred=ok"
    assert lines[1].startswith("kit-probe idle hwm_kib=")
    assert "Traceback" not in done.stderr


def test_the_probe_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIT_STARTUP_PROBE", raising=False)
    assert probe_settle_ms() is None
    monkeypatch.setenv("KIT_STARTUP_PROBE", "soon")
    assert probe_settle_ms() is None
    monkeypatch.setenv("KIT_STARTUP_PROBE", "99999999")
    assert probe_settle_ms() == 60_000
    peak, now = memory_kib()
    assert peak >= now > 0
    assert "requests" in DEFERRED_MODULES


@pytest.mark.qt_log_ignore(*QT_NOISE)
def test_a_deferred_window_says_it_is_starting_then_builds_once(qtbot: QtBot) -> None:
    window = MainWindow(deferred=True)
    qtbot.addWidget(window)
    assert not window.is_built
    texts = [label.text() for label in window.findChildren(QLabel)]
    assert texts == ["Starting Kit Desktop…"]
    with pytest.raises(RuntimeError, match="not been built"):
        _ = window.card
    window.build()
    card = window.card
    window.build()
    assert window.card is card, "building twice changes nothing"
