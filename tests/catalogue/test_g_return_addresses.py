"""Catalogue G72: return addresses are judged as the browser will resolve them.

An App Store install hands the app a ``redirect`` (Kit's app page) to send the browser back
to. The browser resolves dot segments (``..``, ``%2e%2e``, ``.%2e``, a trailing ``..``)
before it navigates, so the host and path rules are applied to the resolved URL, and the
resolved URL is what the app redirects to. Both documented forms of Kit's app page are
accepted: ``https://app.kit.com/apps/{app_id}`` and the bare ``https://app.kit.com/apps``.

The table is checked against real headless Chromium (``new URL(input).href``): whatever the
app accepts resolves to exactly what Chromium resolves it to, and whatever Chromium puts
outside Kit's app pages is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import sync_playwright

from kit_desktop.auth.install_entry import (
    InstallEntry,
    InstallRefusedError,
    check_install_redirect,
)
from kit_desktop.auth.return_address import resolve_url
from kit_desktop.config import KIT_APP_HOSTS
from tests.helpers.browser import CHROMIUM_FLAGS, chromium_path
from tests.helpers.realparts import require

#: The practice sandbox's App Store origin, allowed as an extra origin throughout.
SANDBOX = "http://127.0.0.1:8123"

#: Inputs accepted, and the resolved URL the app returns (and redirects to) for each.
ACCEPTED: dict[str, str] = {
    # The two documented forms.
    "https://app.kit.com/apps/1": "https://app.kit.com/apps/1",
    "https://app.kit.com/apps/1?success=true": "https://app.kit.com/apps/1?success=true",
    "https://app.kit.com/apps": "https://app.kit.com/apps",
    "https://app.kit.com/apps/": "https://app.kit.com/apps/",
    "https://app.kit.com/apps?success=true": "https://app.kit.com/apps?success=true",
    # Scheme and host lower-cased, the default port dropped.
    "https://APP.KIT.COM/apps/1": "https://app.kit.com/apps/1",
    "HTTPS://App.Kit.Com/apps/1": "https://app.kit.com/apps/1",
    "https://app.kit.com:443/apps/1": "https://app.kit.com/apps/1",
    "https://app.kit.com:0443/apps/1": "https://app.kit.com/apps/1",
    "https://app.kit.com:/apps/1": "https://app.kit.com/apps/1",
    # Dot segments that stay under /apps resolve, and the resolved form is returned.
    "https://app.kit.com/apps/.": "https://app.kit.com/apps/",
    "https://app.kit.com/apps/%2e": "https://app.kit.com/apps/",
    "https://app.kit.com/apps/%2E/1": "https://app.kit.com/apps/1",
    "https://app.kit.com/apps/1/..": "https://app.kit.com/apps/",
    "https://app.kit.com/apps/1/%2e%2E": "https://app.kit.com/apps/",
    "https://app.kit.com/apps/1/..?success=true": "https://app.kit.com/apps/?success=true",
    "https://app.kit.com/apps/x/../1": "https://app.kit.com/apps/1",
    "https://app.kit.com/./apps/1": "https://app.kit.com/apps/1",
    "https://app.kit.com/x/../apps/1": "https://app.kit.com/apps/1",
    # Not dot segments: %2e inside a name, three dots, other escapes; all kept as they are.
    "https://app.kit.com/apps/a%2eb": "https://app.kit.com/apps/a%2eb",
    "https://app.kit.com/apps/...": "https://app.kit.com/apps/...",
    "https://app.kit.com/apps/%2e%2e%2e": "https://app.kit.com/apps/%2e%2e%2e",
    "https://app.kit.com/apps/%41": "https://app.kit.com/apps/%41",
    "https://app.kit.com/apps//1": "https://app.kit.com/apps//1",
    # The query is never resolved: dots and slashes there are just data.
    "https://app.kit.com/apps/1?success=true&x=%2e%2e/..": (
        "https://app.kit.com/apps/1?success=true&x=%2e%2e/.."
    ),
    "https://app.kit.com/apps/1?": "https://app.kit.com/apps/1?",
    # The sandbox's App Store (an exact extra origin).
    f"{SANDBOX}/apps/42?success=true": f"{SANDBOX}/apps/42?success=true",
    f"{SANDBOX}/apps": f"{SANDBOX}/apps",
}

#: Inputs refused.
REFUSED: tuple[str, ...] = (
    # Dot segments that leave /apps once resolved (catalogue case 72).
    "https://app.kit.com/apps/%2e%2e/x",
    "https://app.kit.com/apps/.%2e/x",
    "https://app.kit.com/apps/%2e./x",
    "https://app.kit.com/apps/%2E%2E",
    "https://app.kit.com/apps/%2e%2E/settings",
    "https://app.kit.com/apps/..",
    "https://app.kit.com/apps/..?success=true",
    "https://app.kit.com/apps/../settings",
    "https://app.kit.com/apps/x/../../y",
    "https://app.kit.com/apps/1/../../..",
    "https://app.kit.com/apps/../appsX",
    # Path parameters on a dot segment (servers such as Tomcat read `..;` as `..`).
    "https://app.kit.com/apps/..;/x",
    "https://app.kit.com/apps/%2e%2e;/x",
    # Encoded slashes and backslashes (a server that decodes them before routing climbs out).
    "https://app.kit.com/apps/..%2fsettings",
    "https://app.kit.com/apps/..%2F",
    "https://app.kit.com/apps/x%2F..%2F..%2Fy",
    "https://app.kit.com/apps/..%5csettings",
    # Not /apps or under it.
    "https://app.kit.com/appsX",
    "https://app.kit.com/apps.evil",
    "https://app.kit.com/apps;x",
    "https://app.kit.com/app",
    "https://app.kit.com/APPS/1",
    "https://app.kit.com/apps%2f1",
    "https://app.kit.com//apps/1",
    "https://app.kit.com/other",
    "https://app.kit.com",
    "https://app.kit.com?/apps/1",
    # Another host, or the right host written in a way the browser rewrites.
    "https://app.kit.com./apps/1",
    "https://app.kit.com../apps/1",
    "https://app%2ekit%2ecom/apps/1",
    "https://\uff41\uff50\uff50.kit.com/apps/1",
    "https://\u0430pp.kit.com/apps/1",
    "https://xn--80ak6aa92e.com/apps/1",
    "https://app.kit.com.evil.example/apps/1",
    "https://evil.example/apps/1",
    "https://[::1]/apps/1",
    "https://app.kit.com/apps/\u00e9",
    # Scheme and authority.
    "http://app.kit.com/apps/1",
    "https:app.kit.com/apps/1",
    "https:/app.kit.com/apps/1",
    "https:///app.kit.com/apps/1",
    "javascript:alert(1)//app.kit.com/apps/",
    "//app.kit.com/apps/1",
    "/apps/1",
    "",
    "https://user@app.kit.com/apps/1",
    "https://user:pw@app.kit.com/apps/1",
    "https://:@app.kit.com/apps/1",
    "https://app.kit.com@evil.example/apps/1",
    "https://evil.example\\@app.kit.com/apps/1",
    "https://app.kit.com\\apps\\1",
    "https://app.kit.com:8443/apps/1",
    "https://app.kit.com:44a/apps/1",
    "https://app.kit.com:65536/apps/1",
    "http://127.1:8123/apps/42",
    "http://127.0.0.1:8124/apps/42",
    # Characters the browser would rewrite, malformed escapes, fragments, whitespace.
    'https://app.kit.com/apps/"x"',
    "https://app.kit.com/apps/<x>",
    "https://app.kit.com/apps/1|x",
    "https://app.kit.com/apps/1?a='x'",
    "https://app.kit.com/apps/%zz",
    "https://app.kit.com/apps/%",
    "https://app.kit.com/apps/1#x",
    "https://app.kit.com/apps/1#",
    "https://app.kit.com/apps/1\tx",
    " https://app.kit.com/apps/1",
    "https://app.kit.com/apps/1\r\nSet-Cookie: x=1",
    "https://app.kit.com/apps/" + "a" * 3000,
)

TABLE: tuple[str, ...] = (*ACCEPTED, *REFUSED)


def judge(value: str) -> str | None:
    """The app's verdict: the resolved URL it would return to, or None when refused."""
    try:
        return check_install_redirect(value, KIT_APP_HOSTS, extra_origins=(SANDBOX,))
    except InstallRefusedError:
        return None


# -- the table -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "resolved"), ACCEPTED.items())
def test_c72_return_addresses_are_accepted_as_resolved(value: str, resolved: str) -> None:
    assert judge(value) == resolved


@pytest.mark.parametrize("value", REFUSED)
def test_c72_return_addresses_leaving_kits_app_pages_are_refused(value: str) -> None:
    assert judge(value) is None


def test_c72_the_catalogue_example_is_refused() -> None:
    with pytest.raises(InstallRefusedError):
        check_install_redirect("https://app.kit.com/apps/%2e%2e/x", KIT_APP_HOSTS)


def test_c72_the_table_has_no_duplicates() -> None:
    assert len(set(TABLE)) == len(TABLE)


# -- parity with a real Chromium -----------------------------------------------------------

_PARSE_ALL = """(inputs) => inputs.map((input) => {
  try {
    const url = new URL(input);
    return {href: url.href, protocol: url.protocol, hostname: url.hostname, port: url.port,
            origin: url.origin, pathname: url.pathname, username: url.username,
            password: url.password, hash: url.hash, has_hash: input.includes("#")};
  } catch (error) {
    return null;
  }
})"""


@pytest.fixture(scope="module")
def chromium_urls() -> dict[str, dict[str, Any] | None]:
    """Every table input as real Chromium parses it (``None`` where ``new URL`` throws)."""
    path = chromium_path()
    require(path is not None, "Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            chromium_sandbox=False,
        )
        try:
            page = browser.new_page()
            page.goto("about:blank")
            parsed = page.evaluate(_PARSE_ALL, list(TABLE))
        finally:
            browser.close()
    return dict(zip(TABLE, parsed, strict=True))


def kit_app_page_in_chromium(url: dict[str, Any] | None) -> bool:
    """Whether Chromium would land on Kit's app page (or the sandbox's App Store)."""
    if url is None or url["username"] or url["password"] or url["has_hash"]:
        return False
    path = str(url["pathname"])
    if path != "/apps" and not path.startswith("/apps/"):
        return False
    if url["origin"] == SANDBOX:
        return True
    return url["protocol"] == "https:" and url["hostname"] in KIT_APP_HOSTS and url["port"] == ""


@pytest.mark.browser
@pytest.mark.parametrize("value", TABLE)
def test_c72_accepted_addresses_resolve_as_chromium_does(
    chromium_urls: dict[str, dict[str, Any] | None], value: str
) -> None:
    seen = chromium_urls[value]
    ours = judge(value)
    if ours is not None:
        assert seen is not None, "accepted an address Chromium cannot parse"
        assert ours == seen["href"]
    if not kit_app_page_in_chromium(seen):
        assert ours is None, f"accepted {value!r}, which Chromium resolves to {seen}"


@pytest.mark.browser
@pytest.mark.parametrize("value", TABLE)
def test_c72_the_resolver_gives_chromiums_href(
    chromium_urls: dict[str, dict[str, Any] | None], value: str
) -> None:
    try:
        ours = resolve_url(value).href
    except InstallRefusedError:
        return  # refusing to resolve is always safe; the judge then refuses too
    seen = chromium_urls[value]
    assert seen is not None, "resolved an address Chromium cannot parse"
    assert ours == seen["href"]


@pytest.mark.browser
def test_c72_the_table_covers_what_chromium_and_a_naive_reading_disagree_on(
    chromium_urls: dict[str, dict[str, Any] | None],
) -> None:
    # Keep the table honest: it must contain inputs whose literal path starts with /apps/
    # but which Chromium resolves outside it (the attack), and accepted ones it rewrites.
    escapes = [
        value
        for value in REFUSED
        if value.startswith("https://app.kit.com/apps/")
        and (seen := chromium_urls[value]) is not None
        and seen["hostname"] == "app.kit.com"
        and not str(seen["pathname"]).startswith("/apps")
    ]
    assert "https://app.kit.com/apps/%2e%2e/x" in escapes
    assert "https://app.kit.com/apps/.%2e/x" in escapes
    assert "https://app.kit.com/apps/.." in escapes
    rewritten = [
        value for value in ACCEPTED if (seen := chromium_urls[value]) and seen["href"] != value
    ]
    assert len(rewritten) >= 10


# -- the bare documented form ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://app.kit.com/apps",
        "https://app.kit.com/apps/",
        "https://app.kit.com/apps?success=true",
    ],
)
def test_bare_apps_redirect_is_accepted(value: str) -> None:
    assert check_install_redirect(value, KIT_APP_HOSTS) == value


def test_bare_apps_redirect_from_the_sandbox_is_accepted() -> None:
    page = f"{SANDBOX}/apps"
    assert check_install_redirect(page, KIT_APP_HOSTS, extra_origins=[SANDBOX]) == page
    with pytest.raises(InstallRefusedError):
        check_install_redirect(page, KIT_APP_HOSTS)


@pytest.mark.parametrize(
    "value",
    [
        "https://app.kit.com/appsX",
        "https://app.kit.com/apps.evil",
        "https://app.kit.com/app",
        "https://app.kit.com/apps;x",
        "https://app.kit.com/apps%2f",
        "https://app.kit.com/APPS",
        "https://app.kit.com/apps/..",
        "http://app.kit.com/apps",
        "https://evil.example/apps",
    ],
)
def test_bare_apps_redirect_lookalikes_are_refused(value: str) -> None:
    with pytest.raises(InstallRefusedError):
        check_install_redirect(value, KIT_APP_HOSTS)


# -- through the install entry --------------------------------------------------------------

AUTHORIZE = "https://api.kit.com/v4/oauth/authorize?client_id=abc&state=xyz"
#: What a browser sends on a top-level navigation the creator made.
NAVIGATION = {
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-User": "?1",
    "Sec-Fetch-Site": "cross-site",
}


@pytest.fixture
def installs() -> Iterator[tuple[InstallEntry, list[str]]]:
    """A running install entry on a free port, and the redirects it handed to the app."""
    calls: list[str] = []

    def on_install(redirect: str, trusted: bool) -> str:
        calls.append(redirect)
        return AUTHORIZE

    entry = InstallEntry("http://127.0.0.1:0/callback", on_install, app_hosts=KIT_APP_HOSTS)
    thread = threading.Thread(target=entry.serve, daemon=True)
    thread.start()
    yield entry, calls
    entry.stop()
    thread.join(5)
    entry.close()


def install(entry: InstallEntry, redirect: str) -> requests.Response:
    return requests.get(
        f"{entry.url}?redirect={quote(redirect, safe='')}",
        headers=NAVIGATION,
        allow_redirects=False,
        timeout=15,
    )


def test_c72_the_install_entry_hands_on_the_resolved_address(
    installs: tuple[InstallEntry, list[str]],
) -> None:
    entry, calls = installs
    answer = install(entry, "https://APP.KIT.COM:443/apps/x/%2e%2e/1?success=true")
    assert answer.status_code == 302
    assert answer.headers["Location"] == AUTHORIZE
    assert calls == ["https://app.kit.com/apps/1?success=true"]


def test_c72_the_install_entry_refuses_an_encoded_climb_out(
    installs: tuple[InstallEntry, list[str]],
) -> None:
    entry, calls = installs
    answer = install(entry, "https://app.kit.com/apps/%2e%2e/settings")
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert calls == []


def test_bare_apps_redirect_starts_an_install(installs: tuple[InstallEntry, list[str]]) -> None:
    entry, calls = installs
    answer = install(entry, "https://app.kit.com/apps")
    assert answer.status_code == 302
    assert calls == ["https://app.kit.com/apps"]
