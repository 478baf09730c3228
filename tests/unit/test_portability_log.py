"""The log on Windows: a rotation another process blocks must not fail every later message.

Windows cannot rename a file another process holds open (the window and a command share
the log); ``os.rename`` then raises PermissionError (WinError 32). The platform is simulated
here: ``sys.platform`` says ``win32`` and the rename fails as Windows' does.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit_desktop.log import PrivateRotatingFileHandler

LINE = "x" * 60


def _in_use(source: str, dest: str) -> None:
    raise PermissionError(13, "The process cannot access the file because it is being used")


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger outside ``kit_desktop`` (the test's own records are not app warnings)."""
    log = logging.getLogger("portability-log-test")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def _handler(
    path: Path, logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> tuple[PrivateRotatingFileHandler, list[logging.LogRecord]]:
    handler = PrivateRotatingFileHandler(path, max_bytes=200, backup_count=2)
    failures: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "rotate", _in_use)
    monkeypatch.setattr(handler, "handleError", failures.append)
    logger.addHandler(handler)
    return handler, failures


def test_windows_goes_on_appending_when_the_log_cannot_be_rotated(
    tmp_path: Path, logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    path = tmp_path / "kit-desktop.log"
    handler, failures = _handler(path, logger, monkeypatch)
    for number in range(10):
        logger.info("%d %s", number, LINE)
    handler.flush()
    assert failures == []  # no "--- Logging error ---" for each message
    assert handler.maxBytes == 0  # this process stops trying
    written = path.read_text(encoding="utf-8").splitlines()
    assert written == [f"{number} {LINE}" for number in range(10)]


@pytest.mark.skipif(
    sys.platform == "win32", reason="pretends to be Linux, whose os module Windows lacks"
)
def test_other_platforms_still_report_a_rotation_that_fails(
    tmp_path: Path, logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    handler, failures = _handler(tmp_path / "kit-desktop.log", logger, monkeypatch)
    for number in range(10):
        logger.info("%d %s", number, LINE)
    assert failures  # unchanged: logging's own error report
    assert handler.maxBytes == 200
