r"""Fail a test when the app logs a WARNING (or worse) that the test did not say it expects.

Like qutebrowser's logfail plugin: a handler on the ``kit_desktop`` logger keeps every record
of level WARNING and above, from whatever thread logs it (a worker, the loopback receiver,
the sandbox's server thread), and each phase of a test (set-up, call, tear-down) fails when
it saw a record that no expectation of the test covers. ``caplog`` alone would not do: a
test that never looks at it would pass whatever the app complained about.

A test that provokes a warning on purpose says so, as narrowly as it can::

    @pytest.mark.expected_log(r"^no browser could be opened$", logger="kit_desktop.auth.browser")
    def test_no_browser(): ...

``pattern`` is a regular expression searched (``re.search``) in the record's message;
``logger`` (optional) names the logger, which also covers its children; ``level``
(optional, e.g. ``logging.ERROR``) is the one level the record must have. Marks stack, and a
module's ``pytestmark`` applies to each of its tests. For a warning that only some runs of
a test provoke, the ``allow_log`` fixture takes the same arguments at run time::

    def test_sometimes(allow_log):
        allow_log(r"could not open", logger="kit_desktop.auth.browser")

A record logged between two tests (by a thread the first one left running) is judged by the
expectations of the test before it; an unexpected one is listed at the end of the session,
which then fails.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass

import pytest

__all__ = ["LOGGER", "MARKER", "Expectation", "LogFailHandler", "allow_log"]

#: The logger whose records are watched (with every child of it).
LOGGER = "kit_desktop"
#: The marker that declares an expected record.
MARKER = "expected_log"
#: The lowest level that fails a test.
FAIL_LEVEL = logging.WARNING

_EXTRA = pytest.StashKey[list["Expectation"]]()


@dataclass(frozen=True)
class Expectation:
    """One expected record: its message matches ``pattern`` (and ``logger``, ``level``)."""

    pattern: re.Pattern[str]
    logger: str | None = None
    level: int | None = None

    @classmethod
    def make(
        cls, pattern: str = "", logger: str | None = None, level: int | None = None
    ) -> Expectation:
        """Build from the marker's (or ``allow_log``'s) arguments; no pattern matches all."""
        return cls(re.compile(pattern), logger, level)

    def covers(self, record: logging.LogRecord) -> bool:
        """Whether ``record`` is this expected one."""
        if self.level is not None and record.levelno != self.level:
            return False
        if self.logger is not None and not (
            record.name == self.logger or record.name.startswith(f"{self.logger}.")
        ):
            return False
        return self.pattern.search(_message(record)) is not None


class LogFailHandler(logging.Handler):
    """Keeps every WARNING-or-above record until the plugin takes them (thread-safe)."""

    def __init__(self) -> None:
        super().__init__(FAIL_LEVEL)
        self._records: list[logging.LogRecord] = []
        self._records_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record (never raise: the logging thread may be any thread)."""
        with self._records_lock:
            self._records.append(record)

    def take(self) -> list[logging.LogRecord]:
        """Return the records kept so far and forget them."""
        with self._records_lock:
            taken, self._records = self._records, []
        return taken


class _LogFail:
    """The plugin: watches each phase of each test, and what falls between tests."""

    def __init__(self) -> None:
        self.handler = LogFailHandler()
        self.strays: list[tuple[str, logging.LogRecord]] = []
        self._last: pytest.Item | None = None

    def install(self) -> None:
        logging.getLogger(LOGGER).addHandler(self.handler)

    def uninstall(self) -> None:
        logging.getLogger(LOGGER).removeHandler(self.handler)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        self._between_tests()
        self._last = item
        return (yield from self._phase(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._phase(item))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        return (yield from self._phase(item))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        self._between_tests()
        if not self.strays:
            return
        terminalreporter.section("unexpected kit_desktop log records between tests", red=True)
        for nodeid, record in self.strays:
            terminalreporter.line(f"after {nodeid}: {_describe(record)}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._between_tests()
        if self.strays and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _phase(self, item: pytest.Item) -> Generator[None, None, None]:
        # What arrived since the last phase of this test (its threads run on) counts here.
        try:
            yield
        finally:
            unexpected = _unexpected(item, self.handler.take())
        if unexpected:  # only reached when the phase itself passed
            lines = "\n".join(f"  {_describe(record)}" for record in unexpected)
            pytest.fail(
                f"kit_desktop logged {len(unexpected)} unexpected record(s) at WARNING or "
                f"above:\n{lines}\n(if the test means to provoke it, mark the test "
                f"@pytest.mark.{MARKER}(pattern, logger=...) or use the allow_log fixture)",
                pytrace=False,
            )

    def _between_tests(self) -> None:
        records = self.handler.take()
        if self._last is None:
            self.strays.extend(("(before the first test)", record) for record in records)
            return
        last = self._last
        self.strays.extend((last.nodeid, record) for record in _unexpected(last, records))


def _expectations(item: pytest.Item) -> list[Expectation]:
    marked = [Expectation.make(*mark.args, **mark.kwargs) for mark in item.iter_markers(MARKER)]
    return [*marked, *item.stash.get(_EXTRA, [])]


def _unexpected(item: pytest.Item, records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    if not records:
        return []
    expected = _expectations(item)
    return [r for r in records if not any(e.covers(r) for e in expected)]


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: still show it
        return f"{record.msg!r} % {record.args!r}"


def _describe(record: logging.LogRecord) -> str:
    text = f"{record.levelname} {record.name} [thread {record.threadName}]: {_message(record)}"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        text += f" ({type(error).__name__}: {error})"
    return text


@pytest.fixture
def allow_log(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Expect a record from now on in this test: ``allow_log(pattern, logger=, level=)``."""
    extra = request.node.stash.setdefault(_EXTRA, [])

    def allow(pattern: str = "", logger: str | None = None, level: int | None = None) -> None:
        extra.append(Expectation.make(pattern, logger, level))

    return allow


_plugin = _LogFail()


def pytest_configure(config: pytest.Config) -> None:
    """Watch the ``kit_desktop`` logger for the whole session (the marker is in pyproject)."""
    config.pluginmanager.register(_plugin, "kit_logfail")
    _plugin.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop watching."""
    _plugin.uninstall()
