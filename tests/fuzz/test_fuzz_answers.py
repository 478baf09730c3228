"""Fuzzing the return address of an install (catalogue 72) and pasted answers (catalogue 73).

An install's ``redirect`` is refused, or is Kit's App Store as the browser resolves it: https
on an allowed host, the path ``/apps`` or under ``/apps/`` with no dot segment left in any
spelling, and resolving it again changes nothing. A pasted text is refused with a typed
error, or gives a code for this attempt's state and this issuer, never another's.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from hypothesis import strategies as st

from kit_desktop.auth.paste import code_from_paste
from kit_desktop.auth.return_address import (
    InstallRefusedError,
    check_install_redirect,
    resolve_url,
)
from kit_desktop.errors import AuthorizationError, ConsentDeniedError, PasteError
from tests.fuzz.support import Campaign, Settings, attempt, run_property, suite_settings

TARGET = "answers"
HOSTS = ("app.kit.com",)
STATE = "53220.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_"
ISSUER = "https://api.kit.com"
_DOT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)

STARTS = (
    "https://app.kit.com", "https://APP.KIT.COM", "https://app.kit.com:443", "http://app.kit.com",
    "https://app.kit.com.", "https://evil.example", "https://app.kit.com@evil.example",
    "https://app.kit.com:8443", "https:app.kit.com", "https://app%2ekit.com", "//app.kit.com",
    "javascript:", "https://user@app.kit.com", "",
)  # fmt: skip
SEGMENTS = (
    "apps", "apps", "apps", "1", "123456", "..", ".", "%2e", "%2E", "%2e%2e", ".%2e", "%2e.",
    "...", "a%2eb", "%2f", "%5c", "..;", "APPS", "apps.evil", "appsX", "", "x", "~", "%41",
    "\\", "#", "?", " ", "\u00e9", "%00",
)  # fmt: skip
QUERIES = ("", "?success=true", "?a=1&b=%2F", "?x=..", "#frag", "?'", "?%zz")


def _address(start: str, segments: list[str], query: str) -> str:
    return start + "/" + "/".join(segments) + query


#: Kit's App Store addresses bent every way, and arbitrary text.
redirects = st.one_of(
    st.builds(
        _address,
        st.sampled_from(STARTS),
        st.lists(st.one_of(st.sampled_from(SEGMENTS), st.text(max_size=5)), max_size=6),
        st.sampled_from(QUERIES),
    ),
    st.text(max_size=60),
)


def check_redirect(value: str) -> None:
    """Refused, or Kit's App Store as resolved, with nothing left to resolve."""
    result = attempt(lambda: check_install_redirect(value, HOSTS), InstallRefusedError)
    if isinstance(result, Exception):
        assert isinstance(result, InstallRefusedError) and result.reason
        return
    parts = urlsplit(result)
    assert parts.scheme == "https" and parts.hostname == "app.kit.com", result
    assert parts.port is None and not parts.username and not parts.fragment, result
    assert parts.path == "/apps" or parts.path.startswith("/apps/"), result
    assert not _DOT.search(parts.path), result
    assert "\\" not in result and "%2f" not in parts.path.lower(), result
    assert resolve_url(result).href == result, "resolving again changes nothing"
    assert check_install_redirect(result, HOSTS) == result


def fuzz_redirects(config: Settings) -> None:
    """Run the return-address property under ``config``."""
    run_property(TARGET, redirects, check_redirect, config)


QUERY_PARTS = (
    f"state={quote(STATE)}", "state=53220.other", "state=", f"iss={quote(ISSUER, safe='')}",
    "iss=https%3A%2F%2Fevil.example", "iss=", "code=abc", "code=", "code=a+b", "code=%ZZ",
    "error=access_denied", "error=server_error", "error_description=x", "code=abc",
)  # fmt: skip
PREFIXES = (
    "", "?", "http://127.0.0.1:53220/callback?", "https://publisher.example/relay.html?", " ",
)  # fmt: skip


#: What a creator might paste: answers, partial answers, codes and arbitrary text.
pastes = st.one_of(
    st.builds(
        lambda prefix, parts: prefix + "&".join(parts),
        st.sampled_from(PREFIXES),
        st.lists(st.sampled_from(QUERY_PARTS), max_size=5),
    ),
    st.text(max_size=80),
)


def check_paste(text: str) -> None:
    """A typed refusal, Kit's own refusal, or this attempt's code from this issuer."""
    result = attempt(
        lambda: code_from_paste(text, STATE, ISSUER),
        PasteError,
        ConsentDeniedError,
        AuthorizationError,
    )
    if isinstance(result, Exception):
        assert result.user_message  # type: ignore[attr-defined]
        return
    assert result.state == STATE, "only this attempt's answer"
    assert result.iss in (None, ISSUER), "never another issuer's"
    assert result.code


def fuzz_pastes(config: Settings) -> None:
    """Run the pasted-answer property under ``config``."""
    run_property(TARGET, pastes, check_paste, config)


CAMPAIGNS = (
    Campaign(
        TARGET, "install redirect: refused, or Kit's App Store as resolved", fuzz_redirects, 3
    ),
    Campaign(TARGET, "pasted answer: refused, or this attempt's code and issuer", fuzz_pastes, 2),
)


def test_install_redirects_are_refused_or_kits_app_store_as_resolved() -> None:
    fuzz_redirects(suite_settings(300))


def test_pasted_answers_are_refused_or_this_attempts() -> None:
    fuzz_pastes(suite_settings(300))
