"""The logfail plugin (tests/helpers/logfail.py): unexpected app warnings fail the test."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from tests.helpers.logfail import Expectation, LogFailHandler

ROOT = Path(__file__).resolve().parents[2]
INI = """\
[pytest]
markers =
    expected_log(pattern='', logger=None, level=None): expected kit_desktop record
"""


def record(name: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def test_an_expectation_matches_its_pattern_logger_and_level() -> None:
    expected = Expectation.make(r"^no browser", logger="kit_desktop.auth")
    assert expected.covers(record("kit_desktop.auth.browser", logging.WARNING, "no browser here"))
    assert expected.covers(record("kit_desktop.auth", logging.ERROR, "no browser here"))
    assert not expected.covers(record("kit_desktop.authx", logging.WARNING, "no browser here"))
    assert not expected.covers(record("kit_desktop.auth", logging.WARNING, "a browser, no"))
    only_errors = Expectation.make("", level=logging.ERROR)
    assert only_errors.covers(record("kit_desktop.qt", logging.ERROR, "anything"))
    assert not only_errors.covers(record("kit_desktop.qt", logging.WARNING, "anything"))


def test_the_handler_keeps_warnings_from_any_thread() -> None:
    handler = LogFailHandler()
    logger = logging.getLogger("tests.logfail")  # not the app's: the plugin ignores it
    logger.addHandler(handler)
    try:
        logger.info("not kept")
        worker = threading.Thread(target=logger.warning, args=("from %s", "a worker"))
        worker.start()
        worker.join()
        logger.error("from the test")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in handler.take()] == ["from a worker", "from the test"]
    assert handler.take() == []


@pytest.fixture
def pytester_with_plugin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini(INI)


@pytest.mark.usefixtures("pytester_with_plugin")
def test_each_phase_fails_on_an_unexpected_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import logging
        import threading

        import pytest

        log = logging.getLogger("kit_desktop.auth.browser")

        def test_quiet():
            log.info("only information")
            logging.getLogger("elsewhere").warning("not the app's logger")

        def test_warns():
            log.warning("no browser could be opened")

        def test_warns_from_a_thread():
            worker = threading.Thread(target=log.error, args=("failed in %s", "a worker"))
            worker.start()
            worker.join()

        @pytest.mark.expected_log(r"^no browser", logger="kit_desktop.auth.browser")
        def test_expected():
            log.warning("no browser could be opened")

        @pytest.mark.expected_log(r"^no browser", logger="kit_desktop.auth.loopback")
        def test_expected_from_another_logger():
            log.warning("no browser could be opened")

        def test_allowed_at_run_time(allow_log):
            allow_log("could not", level=logging.WARNING)
            log.warning("could not open")

        @pytest.fixture
        def noisy_teardown():
            yield
            log.warning("noise while tearing down")

        def test_teardown(noisy_teardown):
            pass

        def test_failing_anyway():
            log.warning("noise")
            assert False, "the test's own failure"
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.helpers.logfail", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*kit_desktop logged 1 unexpected record(s)*",
            "*WARNING kit_desktop.auth.browser [[]thread MainThread[]]: no browser could be opened",
            "*ERROR kit_desktop.auth.browser [[]thread Thread-*]: failed in a worker",
            "*the test's own failure*",
        ]
    )


@pytest.mark.usefixtures("pytester_with_plugin")
def test_a_warning_outside_any_test_fails_the_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import logging

        logging.getLogger("kit_desktop.sandbox").warning("logged at import")

        def test_passes():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "tests.helpers.logfail", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*unexpected kit_desktop log records between tests*", "*logged at import"]
    )
