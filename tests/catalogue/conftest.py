"""Catalogue set-up: Qt objects collected between tests (see tests/qt), shared rigs.

Sections A to D: ``kit`` (sections A and B call it ``server``) is the sandbox playing Kit;
``sessions`` (tests/qt/test_session.py) and ``rig`` (tests/catalogue/cd_session.py) make
sessions on it. Sections E and F: ``standins``, ``rigs`` and ``guis`` make
stand-in servers, API pages and whole windows (ef_standins.py and ef_support.py). Each
closes everything it made at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kit_desktop.config import SANDBOX_CLIENT_ID
from kit_desktop.sandbox import SandboxServer
from tests.catalogue.cd_helpers import REDIRECT_URI
from tests.catalogue.cd_session import Rig
from tests.catalogue.ef_standins import StandIns
from tests.catalogue.ef_support import Guis, Rigs
from tests.qt.conftest import _collect_between_tests
from tests.qt.test_session import Sessions

__all__ = [
    "_collect_between_tests",
    "guis",
    "kit",
    "rig",
    "rigs",
    "server",
    "sessions",
    "standins",
]


@pytest.fixture
def kit() -> Iterator[SandboxServer]:
    """The sandbox as Kit: consent is clicked by the browser stand-in."""
    with SandboxServer(
        client_id=SANDBOX_CLIENT_ID, loopback_any_port=True, redirect_uris=[REDIRECT_URI]
    ) as server:
        yield server


@pytest.fixture
def server(kit: SandboxServer) -> SandboxServer:
    """The same sandbox, accepting this app's loopback redirect on any port."""
    return kit


@pytest.fixture
def sessions(qtbot: QtBot, tmp_path: Path) -> Iterator[Sessions]:
    made = Sessions(qtbot, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def rig(qtbot: QtBot, tmp_path: Path) -> Iterator[Rig]:
    made = Rig(qtbot, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def standins() -> Iterator[StandIns]:
    made = StandIns()
    yield made
    made.close_all()


@pytest.fixture
def rigs(qtbot: QtBot) -> Iterator[Rigs]:
    made = Rigs(qtbot)
    yield made
    made.close_all()


@pytest.fixture
def guis(qtbot: QtBot) -> Iterator[Guis]:
    made = Guis(qtbot)
    yield made
    made.close_all()
