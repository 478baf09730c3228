"""The check-up behind ``kit-desktop doctor`` and Help > "Check this computer…" (no Qt).

:func:`run_checks` runs every check at once (each on its own thread, so an offline computer
waits for one time-out, not seven) and returns their results in a fixed order:

1. the registered redirect ports are free or held by Kit Desktop;
2. a receiver on the loopback address answers;
3. secure storage round-trips a test entry of its own;
4. this computer's clock agrees with Kit's ``Date``;
5. proxy and certificate overrides in effect;
6. a browser can be opened (none is);
7. Kit's sign-in page and token endpoint can be reached;
8. the relay page can be reached and is the one this build expects.

Nothing here reads a token, and nothing it says holds one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from urllib.parse import urlsplit

from kit_desktop import APP_NAME, __version__
from kit_desktop.config import Settings
from kit_desktop.doctor_checks import (
    check_browser,
    check_loopback,
    check_network_settings,
    check_ports,
    check_storage,
)
from kit_desktop.doctor_kit import check_clock, check_kit, check_relay
from kit_desktop.doctor_report import CheckResult
from kit_desktop.http import new_session

__all__ = ["heading", "run_checks"]

_log = logging.getLogger(__name__)


def run_checks(
    settings: Settings,
    *,
    backend: object | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[CheckResult, ...]:
    """Run every check; return their results in order.

    Args:
        settings: The Kit app to check for (practice mode: settings aimed at its sandbox).
        backend: The keyring back-end the app uses (default: this computer's).
        environ: The environment to read proxy, certificate and browser settings from.
    """
    checks: list[tuple[str, str, Callable[[], CheckResult]]] = [
        ("ports", "Ports for Kit's answer", partial(check_ports, settings)),
        ("loopback", "Receiving Kit's answer on this computer", partial(check_loopback, settings)),
        ("storage", "Secure storage", partial(check_storage, backend)),
        ("clock", "This computer's clock", partial(check_clock, settings, new_session())),
        (
            "network",
            "Proxy and certificate settings",
            partial(check_network_settings, settings, environ),
        ),
        ("browser", "Web browser", partial(check_browser, environ)),
        ("kit", "Kit's servers", partial(check_kit, settings, new_session())),
        ("relay", "Relay page", partial(check_relay, settings, new_session())),
    ]
    with ThreadPoolExecutor(len(checks), thread_name_prefix="kit-doctor") as pool:
        futures = [pool.submit(_guarded, name, title, check) for name, title, check in checks]
        return tuple(future.result() for future in futures)


def _guarded(name: str, title: str, check: Callable[[], CheckResult]) -> CheckResult:
    """Run one check; a check that breaks says so instead of ending the check-up."""
    try:
        result = check()
    except Exception as exc:  # one broken check must not hide the others
        _log.exception("the %s check failed", name)
        return CheckResult(
            name,
            title,
            False,
            False,
            f"This check could not run ({type(exc).__name__}).",
            "Send the log file to whoever helps you.",
        )
    _log.info("check-up: %s: %s: %s", name, result.level.value, result.message)
    return result


def heading(settings: Settings, *, practice: bool) -> str:
    """The report's first line: the app, its version and which Kit is checked."""
    host = urlsplit(settings.authorize_url).netloc
    kit = f"the practice Kit ({host})" if practice else f"Kit at {host}"
    return f"{APP_NAME} {__version__}: checking this computer for {kit}"
