"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.sandbox import SandboxServer

if TYPE_CHECKING:
    from kit_desktop.gui.gui_app import GuiApp


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A real sandbox on an ephemeral port, auto-approving consent."""
    with SandboxServer(auto_approve=True, token_lifetime=7200) as server:
        yield server


@pytest.fixture
def gui_apps(qtbot: QtBot) -> Iterator[list[GuiApp]]:
    """Apps a test shows with ``tests.helpers.gui_apps.show_app``; shut down afterwards."""
    made: list[GuiApp] = []
    yield made
    for gui in made:
        gui.shutdown()
        gui.window.close()
