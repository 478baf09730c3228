"""Logging: a private rotating file in the app data folder, and a filter that redacts secrets."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from kit_desktop.errors import NotPrivateError
from kit_desktop.paths import data_dir, private_data_dir
from kit_desktop.private_files import private_dir, private_opener, tighten_file

REDACTED = "[redacted]"
_SECRET_PARAMS = (
    "code|state|code_verifier|code_challenge|access_token|refresh_token|token|"
    "client_secret|password"
)
_PATTERNS = (
    re.compile(rf"(?i)(\b(?:{_SECRET_PARAMS})=)[^&\s\"']+"),
    re.compile(rf"(?i)(\"(?:{_SECRET_PARAMS})\"\s*:\s*\")[^\"]*"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]+=*"),
)


class _SecretRegistry:
    """Known secret values to scrub, whatever the context they appear in."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()

    def add(self, value: str) -> None:
        if len(value) >= 8:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


_registry = _SecretRegistry()


def register_secret(value: str) -> None:
    """Make the redaction filter hide ``value`` wherever it appears."""
    _registry.add(value)


def redact(text: str) -> str:
    """Return ``text`` with secret parameters, bearer tokens and known secrets hidden."""
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return _registry.scrub(text)


class RedactingFilter(logging.Filter):
    """A filter that redacts the fully formatted message (and exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place so no handler can see a secret."""
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        return True


def log_file() -> Path:
    """Return the app's log file path."""
    return data_dir() / "logs" / "kit-desktop.log"


def level_from_environment(environ: Mapping[str, str] | None = None) -> int:
    """Return DEBUG when ``KIT_DEBUG`` is 1, true or yes; INFO otherwise."""
    env = os.environ if environ is None else environ
    debug = env.get("KIT_DEBUG", "").strip().lower() in ("1", "true", "yes")
    return logging.DEBUG if debug else logging.INFO


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one and each new one) is 0600.

    Rotation renames the current file, so the rotated ones keep its 0600; files an older
    version left readable are tightened when the handler is made.
    """

    def __init__(self, path: Path, *, max_bytes: int = 1_000_000, backup_count: int = 3) -> None:
        for old in (path, *(Path(f"{path}.{n}") for n in range(1, backup_count + 1))):
            tighten_file(old)
        super().__init__(path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        stream = open(  # noqa: SIM115 - the handler owns and closes the stream
            self.baseFilename,
            self.mode,
            encoding=self.encoding,
            errors=self.errors,
            opener=private_opener,
        )
        return cast(io.TextIOWrapper, stream)

    def doRollover(self) -> None:  # noqa: N802 - logging's name
        """Rotate the files; on Windows, go on appending when another process holds the log.

        Windows cannot rename or remove a file another process has open (the window and a
        command write the same log), so rotating fails there with PermissionError. Left
        alone, it would fail again at every later message, each time printing a logging
        error on stderr. This process stops rotating instead; the file grows past its limit
        until a process alone with it rotates it.
        """
        try:
            super().doRollover()
        except PermissionError:
            if sys.platform == "win32":
                self.maxBytes = 0  # no more rotations here; emit() reopens the file
                return
            raise


def setup_logging(level: int = logging.INFO, *, to_file: bool = True) -> None:
    """Configure the ``kit_desktop`` logger once, with redaction on every handler.

    The file lives in a 0700 folder of the 0700 data folder. When that cannot be (a full
    disk, a folder owned by another account), the log goes to stderr and says why.
    """
    logger = logging.getLogger("kit_desktop")
    if getattr(logger, "_kit_configured", False):
        return
    logger.setLevel(level)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = ""
    handler: logging.Handler | None = None
    if to_file:
        path = log_file()
        try:
            private_data_dir()
            private_dir(path.parent, parents=False)
            handler = PrivateRotatingFileHandler(path)
        except NotPrivateError as exc:
            problem = f"{exc.user_message} ({exc.detail})"
        except OSError as exc:
            problem = f"the log file {path} could not be opened: {exc.strerror}"
        if handler is None:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        logger.addHandler(handler)
    logger._kit_configured = True  # type: ignore[attr-defined]
    if problem:
        logger.warning("logging to stderr instead of a file: %s", problem)
