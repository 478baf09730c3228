"""The check-up's checks that talk to Kit: its clock, its endpoints, and the relay page.

Each returns a :class:`~kit_desktop.doctor_report.CheckResult`. Requests go out as the app
sends them (:mod:`kit_desktop.http`: the environment's proxy and certificates, TLS verified,
no redirects followed) and carry no token.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from kit_desktop import APP_NAME, relay_page
from kit_desktop.config import Settings
from kit_desktop.doctor_report import CheckResult
from kit_desktop.errors import KitError
from kit_desktop.http import Timeouts, read_capped, send
from kit_desktop.reach import reach_problem

#: Seconds of difference from Kit's clock that are still fine.
MAX_SKEW = 60.0
#: Beyond this, certificates look expired or not yet valid: secure connections fail.
TLS_SKEW = 86_400.0
#: Time-outs for the check-up's requests.
TIMEOUTS = Timeouts(connect=5.0, read=10.0)
#: The most of the relay page that is read.
RELAY_LIMIT = 512 * 1024
_TAGS = {
    relay_page.META_CALLBACK_PORTS: "ports it forwards Kit's answer to",
    relay_page.META_INSTALL_PORT: "App Store install port",
    relay_page.META_CALLBACK_PATH: "path it forwards to",
    relay_page.META_APP_HOSTS: "hosts an install may return to",
}


# --- 4. the clock -----------------------------------------------------------------------------


def check_clock(
    settings: Settings, session: requests.Session, *, clock: Callable[[], float] = time.time
) -> CheckResult:
    """Does this computer's clock agree with the ``Date`` Kit's API answers with?"""
    title = "This computer's clock"
    origin = _origin(settings.api_url)
    before = clock()
    try:
        response = send(session, "HEAD", origin + "/", timeouts=TIMEOUTS)
    except KitError as exc:
        message = f"Kit's time could not be asked at {origin} ({exc.detail or exc.user_message})."
        return CheckResult("clock", title, False, False, message, _REACH_FIX)
    after = clock()
    date = response.headers.get("Date", "")
    response.close()
    try:
        kit_time = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError, IndexError):
        message = f"{origin} did not say the time (no usable Date header), so it was not compared."
        return CheckResult("clock", title, True, False, message)
    skew = (before + after) / 2 - kit_time  # Date has whole seconds: within a second or so
    if abs(skew) <= MAX_SKEW:
        return CheckResult("clock", title, True, False, "It agrees with Kit's clock.")
    way = "ahead of" if skew > 0 else "behind"
    message = (
        f"It is {_amount(abs(skew))} {way} Kit's clock ({skew:+.0f} s). Times such as when "
        "access expires are then worked out wrongly"
    )
    if abs(skew) > TLS_SKEW:
        message += ", and secure connections fail (certificates look expired)."
    else:
        message += "."
    fix = (
        "Turn on setting the date and time automatically in your system's settings, "
        "then check again."
    )
    return CheckResult("clock", title, False, abs(skew) > TLS_SKEW, message, fix)


def _amount(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86_400:.0f} days"


# --- 7. Kit's endpoints and the relay page ------------------------------------------------------

_REACH_FIX = (
    "Check that this computer is online. If you use a VPN, proxy or firewall, make sure it "
    f"lets {APP_NAME} reach Kit, then check again."
)


def check_kit(settings: Settings, session: requests.Session) -> CheckResult:
    """Can Kit's sign-in page be reached (as Connect checks), and does its token endpoint answer?

    The sign-in page is opened by the browser, which may know a way this check does not,
    so only a certain failure blocks there; the token endpoint is asked by the app itself,
    so any failure there blocks.
    """
    title = "Kit's servers"
    sign_in = urlsplit(settings.authorize_url).netloc
    problem = reach_problem(settings.authorize_url)
    if problem is not None and problem.certain:
        message = f"Kit's sign-in page at {sign_in} cannot be reached ({problem.detail})."
        return CheckResult("kit", title, False, True, message, _REACH_FIX)
    token_host = urlsplit(settings.token_url).netloc
    try:
        answer = send(session, "GET", settings.token_url, timeouts=TIMEOUTS)
        answer.close()
    except KitError as exc:
        message = (
            f"Kit's token endpoint at {token_host} did not answer "
            f"({exc.detail or exc.user_message}), so connecting cannot finish."
        )
        return CheckResult("kit", title, False, True, message, _REACH_FIX)
    if problem is not None:
        message = (
            f"Kit's token endpoint at {token_host} answers, but no connection to the sign-in "
            f"page at {sign_in} could be made ({problem.detail}). Your browser may still "
            "get there."
        )
        return CheckResult("kit", title, False, False, message, _REACH_FIX)
    message = f"Kit's sign-in page ({sign_in}) and token endpoint ({token_host}) can be reached."
    return CheckResult("kit", title, True, False, message)


def check_relay(settings: Settings, session: requests.Session) -> CheckResult:
    """Is the relay page reachable, and is it the one this build expects (its settings tags)?"""
    title = "Relay page"
    if not settings.uses_relay:
        message = "Not used: Kit sends its answer straight to this computer."
        return CheckResult("relay", title, True, False, message)
    url = settings.relay_url
    if url is None:
        message = (
            "This build needs a relay page (Kit only accepts https addresses), but none is "
            "set, so connecting cannot work."
        )
        fix = f"Ask whoever published {APP_NAME} for a build with its relay page (relay_url)."
        return CheckResult("relay", title, False, True, message, fix)
    publisher_fix = (
        f"Whoever published {APP_NAME} must host the relay page made for this version "
        f"(make relay-site) at {url}."
    )
    problem = reach_problem(url)
    if problem is not None:
        message = f"The relay page at {url} cannot be reached ({problem.detail})."
        return CheckResult("relay", title, False, problem.certain, message, _REACH_FIX)
    try:
        response = send(session, "GET", url, timeouts=TIMEOUTS)
        status = response.status_code
        body = read_capped(response, RELAY_LIMIT).decode("utf-8", "replace")
        response.close()
    except KitError as exc:
        message = f"The relay page at {url} could not be read ({exc.detail or exc.user_message})."
        return CheckResult("relay", title, False, False, message, _REACH_FIX)
    if status != 200:
        message = f"The relay page at {url} answered {status} instead of the page."
        return CheckResult("relay", title, False, not 300 <= status < 400, message, publisher_fix)
    differences = _relay_differences(settings, body)
    if differences:
        message = (
            f"The page at {url} is not the relay page this build expects: "
            f"{'; '.join(differences)}. Kit's answer would not reach {APP_NAME}."
        )
        return CheckResult("relay", title, False, True, message, publisher_fix)
    return CheckResult("relay", title, True, False, f"{url} answers and matches this build.")


def _relay_differences(settings: Settings, page: str) -> list[str]:
    """How the served page's settings tags differ from what this build would bake."""
    expected: dict[str, str] = {}
    try:
        baked = relay_page.bake(relay_page.settings_for(settings))
        expected = {name: relay_page.meta(baked, name) for name in _TAGS}
    except ValueError:  # port 0 (tests, the sandbox): the ports cannot be compared
        expected = {
            relay_page.META_CALLBACK_PATH: relay_page.callback_path(settings.redirect_uris),
            relay_page.META_APP_HOSTS: " ".join(settings.app_hosts),
        }
    differences = []
    for name, wanted in expected.items():
        try:
            served = relay_page.meta(page, name)
        except ValueError:
            differences.append(f"it has no {_TAGS[name]} (no {name} tag)")
            continue
        if served.split() != wanted.split():
            differences.append(
                f"its {_TAGS[name]}: {served or 'none'}, this build: {wanted or 'none'}"
            )
    return differences


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
