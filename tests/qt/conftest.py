"""Qt test set-up: collect garbage between tests, while no worker or receiver thread runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent


@pytest.fixture(autouse=True)
def _collect_between_tests() -> Iterator[None]:
    """Delete finished Qt objects and run the cycle collector at a quiet moment.

    Windows, sessions and threads made by one test are torn down by the next collection;
    doing it here (after teardown) instead of at a random moment inside the next test keeps
    one test's leftovers from being destroyed while another test's threads run.
    """
    yield
    app = QCoreApplication.instance()
    if app is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
    gc.collect()
