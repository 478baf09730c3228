"""The HTTPS relay page in a real headless Chromium: what it forwards, and what it refuses.

``resources/relay/relay.html`` is served from a local site (:class:`RelaySite`) and forwards
to a fake app (:class:`FakeApp`) on another loopback port, by top-level navigation only.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.helpers.browser import CHROMIUM_FLAGS, chromium_path
from tests.helpers.realparts import require
from tests.helpers.relay_server import (
    RELAY_PAGE,
    RELAY_PATH,
    FakeApp,
    RelaySite,
    csp_hash,
    inline_blocks,
    meta_content,
)

browser = pytest.mark.browser

REFUSED = "This link did not come from Kit, so Kit Desktop was not opened."
IDLE = "This page is only used by Kit Desktop while it connects to Kit."
FALLBACK = (
    "Kit Desktop did not answer. Open Kit Desktop, click \u201cPaste the code\u201d, "
    "and paste this code (all of it: it holds Kit's answer and which connection it is for)."
)
NOT_FORWARDED = (
    "This answer is not for a Kit Desktop address this page knows, so it was not passed on. "
    "If you were connecting Kit Desktop, open it, click \u201cPaste the code\u201d, and paste "
    "this code."
)
FALLBACK_ERROR = (
    "Kit Desktop did not answer, and Kit did not send a code to paste. "
    "Open Kit Desktop and start connecting again."
)
BROKEN = "Kit Desktop could not be opened because this page's settings are wrong."
NO_INSTALLS = "This copy of Kit Desktop does not take installs from Kit's App Store."
INSTALL_NO_ANSWER = "Kit's install needs Kit Desktop to be open on this computer."
APP_TEXT = "Connected"
#: How long a refused page is watched for a late navigation.
QUIET_MS = 300
XSS = "<img src=x onerror=\"window.__pwned=1;alert('pwned')\">"


# -- fixtures ------------------------------------------------------------------------------


@dataclass
class Tab:
    """A fresh browser context's page, and everything it requested and reported."""

    page: Page
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def text(self, selector: str) -> str:
        """The visible text of one element."""
        return self.page.inner_text(selector)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the module (each test gets its own context)."""
    path = chromium_path()
    require(path is not None, "Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            chromium_sandbox=False,
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Tab]:
    """A page in a fresh context (own sessionStorage), recording requests and console."""
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(5000)
    page.set_default_navigation_timeout(5000)
    opened = Tab(page)

    def on_request(request: Request) -> None:
        opened.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        opened.console.append(f"{message.type}: {message.text}")

    def on_error(error: Exception) -> None:
        opened.errors.append(str(error))

    def on_dialog(dialog: Dialog) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("dialog", on_dialog)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def app() -> Iterator[FakeApp]:
    """The fake app, listening and answering 200."""
    with FakeApp() as server:
        yield server


@pytest.fixture
def site(app: FakeApp) -> Iterator[RelaySite]:
    """The relay site, its install port pointed at the fake app."""
    with RelaySite(install_port=app.port) as server:
        yield server


def new_state(port: int) -> str:
    """A state as the app makes it: ``<port>.<43 base64url characters>``."""
    return f"{port}.{secrets.token_urlsafe(32)}"


def new_code() -> str:
    """An authorization code."""
    return secrets.token_hex(20)


def pasted(tab: Tab) -> dict[str, list[str]]:
    """The fallback's text to paste, read as the query it is (Kit's whole answer)."""
    return parse_qs(tab.page.input_value("#code"), strict_parsing=True)


# -- checks --------------------------------------------------------------------------------


def open_relay(tab: Tab, url: str) -> None:
    """Start loading the relay page; return once it is committed (it may navigate on)."""
    tab.page.goto(url, wait_until="commit")


def follow_to_app(tab: Tab, app: FakeApp) -> dict[str, list[str]]:
    """Wait until the browser shows the app's page; return the one query the app received."""
    tab.page.wait_for_url(f"{app.base_url}/**", wait_until="load")
    assert tab.page.inner_text("h1") == APP_TEXT
    (target,) = app.wait_for_requests(1)
    assert tab.page.url == f"{app.base_url}{target}"
    return parse_qs(urlsplit(target).query, keep_blank_values=True, strict_parsing=True)


def assert_clean(tab: Tab) -> None:
    """No console message (CSP violations land there), script error or dialog."""
    assert tab.console == []
    assert tab.errors == []
    assert tab.dialogs == []


def assert_stays(tab: Tab, app: FakeApp, message: str) -> None:
    """The page shows ``message``, and neither navigates nor requests anything else."""
    tab.page.wait_for_function(
        # The page may still be loading: no #message yet is "not yet", not an error.
        "text => document.getElementById('message')?.textContent === text",
        arg=message,
    )
    tab.page.wait_for_timeout(QUIET_MS)
    assert tab.text("#message") == message
    assert urlsplit(tab.page.url).path == RELAY_PATH
    assert len(tab.requests) == 1, tab.requests
    assert urlsplit(tab.requests[0]).path == RELAY_PATH
    assert app.requests == []
    assert tab.page.evaluate("typeof window.__pwned") == "undefined"
    assert_clean(tab)


def assert_refused(tab: Tab, app: FakeApp) -> None:
    """The refusal is shown, and nothing is forwarded."""
    assert_stays(tab, app, REFUSED)
    assert tab.text("h1") == "Kit Desktop was not opened"
    assert tab.page.is_hidden("#fallback")


def fail_to_reach_app(tab: Tab, url: str) -> None:
    """Open a callback whose app is not listening; wait for Chromium's error page."""
    open_relay(tab, url)
    try:
        tab.page.wait_for_url("chrome-error://**")
    except PlaywrightError as exc:
        # Playwright reports the failed navigation it was waiting on; the error page follows.
        if "net::ERR_CONNECTION_REFUSED" not in exc.message:
            raise
        tab.page.wait_for_url("chrome-error://**")


def back_to_relay(tab: Tab, url: str) -> None:
    """Press Back from the error page, to the relay page."""
    tab.page.go_back(wait_until="load")
    assert tab.page.url == url
    tab.page.wait_for_selector("#message:not(:empty)")


# -- the page file -------------------------------------------------------------------------


def test_the_csp_names_the_hashes_of_the_one_inline_script_and_style() -> None:
    page = RELAY_PAGE.read_text(encoding="utf-8")
    scripts = inline_blocks(page, "script")
    styles = inline_blocks(page, "style")
    assert len(scripts) == 1
    assert len(styles) == 1
    assert page.count("<script") == 1
    assert page.count("<style") == 1

    policy = meta_content(page, "http-equiv", "Content-Security-Policy")
    directives = {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }
    assert directives == {
        "default-src": ["'none'"],
        "script-src": [csp_hash(scripts[0])],
        "style-src": [csp_hash(styles[0])],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
    # The policy applies only to what follows it.
    assert page.index("Content-Security-Policy") < page.index("<style")


def test_the_page_ships_its_defaults_and_loads_nothing_from_elsewhere() -> None:
    page = RELAY_PAGE.read_text(encoding="utf-8")

    assert meta_content(page, "name", "kit-desktop-install-port") == "53219"
    assert meta_content(page, "name", "kit-desktop-callback-ports") == "53219 53220 53221"
    assert meta_content(page, "name", "kit-desktop-callback-path") == "/callback"
    assert meta_content(page, "name", "kit-desktop-app-hosts") == "app.kit.com"
    assert meta_content(page, "name", "referrer") == "no-referrer"
    assert re.search(r"<html lang=\"en\">", page)
    assert not re.search(r"\b(src|href|srcset|action|formaction|poster)\s*=", page, re.I)
    assert not re.search(r"<(link|iframe|img|object|embed|audio|video|base|form)\b", page, re.I)
    assert not re.search(r"url\(|@import|image-set", inline_blocks(page, "style")[0], re.I)
    # Only top-level navigation reaches the app: no fetch, XHR, beacon or workers.
    assert not re.search(r"fetch\(|XMLHttpRequest|sendBeacon|WebSocket|Worker\(", page)
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", page)
    assert re.findall(r"https?://[^\s\"']*", page) == ["http://127.0.0.1:"] * 2
    script = inline_blocks(page, "script")[0]
    assert script.isascii(), "keep the script ASCII so its hash cannot depend on encoding"
    assert "\r" not in page, "keep LF line endings: the CSP hashes cover the exact text"


# -- forwarding ----------------------------------------------------------------------------


@browser
@pytest.mark.parametrize(
    "code",
    [
        pytest.param(None, id="hex"),
        pytest.param("Ab9._~+/=-Z", id="every-allowed-character"),
        pytest.param("c" * 2048, id="longest"),
    ],
)
def test_a_code_is_forwarded_to_the_app(
    tab: Tab, site: RelaySite, app: FakeApp, code: str | None
) -> None:
    code = code or new_code()
    state = new_state(app.port)
    relay_url = site.url({"code": code, "state": state, "utm_source": "ignored"})

    open_relay(tab, relay_url)
    query = follow_to_app(tab, app)

    assert query == {"code": [code], "state": [state]}
    assert urlsplit(app.requests[0]).path == "/callback"
    assert tab.requests == [relay_url, tab.page.url]
    assert_clean(tab)


@browser
def test_an_error_is_forwarded_to_the_app(tab: Tab, site: RelaySite, app: FakeApp) -> None:
    state = new_state(app.port)
    description = "The resource owner denied the request. 100% sure & final?"

    open_relay(
        tab,
        site.url({"error": "access_denied", "error_description": description, "state": state}),
    )
    query = follow_to_app(tab, app)

    assert query == {
        "error": ["access_denied"],
        "error_description": [description],
        "state": [state],
    }
    assert urlsplit(app.requests[0]).path == "/callback"


@browser
def test_an_error_wins_over_a_code(tab: Tab, site: RelaySite, app: FakeApp) -> None:
    state = new_state(app.port)

    open_relay(
        tab,
        site.url({"code": new_code(), "error": "server_error", "state": state}),
    )

    assert follow_to_app(tab, app) == {"error": ["server_error"], "state": [state]}


@browser
@pytest.mark.parametrize(
    ("extra", "forwarded"),
    [
        pytest.param({"iss": "https://app.kit.com"}, {"iss": ["https://app.kit.com"]}, id="iss"),
        pytest.param(
            {"iss": "https://app.kit.com:443/oauth"},
            {"iss": ["https://app.kit.com:443/oauth"]},
            id="iss-with-port-and-path",
        ),
        pytest.param({"error_description": "only with an error"}, {}, id="description-dropped"),
    ],
)
def test_only_well_formed_extras_travel_with_a_code(
    tab: Tab,
    site: RelaySite,
    app: FakeApp,
    extra: dict[str, str],
    forwarded: dict[str, list[str]],
) -> None:
    code, state = new_code(), new_state(app.port)

    open_relay(tab, site.url({"code": code, "state": state, **extra}))

    assert follow_to_app(tab, app) == {"code": [code], "state": [state], **forwarded}


@browser
@pytest.mark.parametrize(
    "description",
    [
        pytest.param("x" * 301, id="too-long"),
        pytest.param("line one\nline two", id="control-character"),
    ],
)
def test_an_unusable_error_description_is_dropped(
    tab: Tab, site: RelaySite, app: FakeApp, description: str
) -> None:
    state = new_state(app.port)

    open_relay(
        tab,
        site.url({"error": "access_denied", "error_description": description, "state": state}),
    )

    assert follow_to_app(tab, app) == {"error": ["access_denied"], "state": [state]}


@browser
def test_an_issuer_from_this_pages_own_origin_travels_too(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    # The practice sandbox stands in for Kit and the publisher's site on one origin.
    code, state = new_code(), new_state(app.port)

    open_relay(tab, site.url({"code": code, "state": state, "iss": site.base_url}))

    assert follow_to_app(tab, app) == {"code": [code], "state": [state], "iss": [site.base_url]}


@browser
@pytest.mark.parametrize(
    "iss",
    [
        pytest.param("javascript:alert(1)", id="script"),
        pytest.param("http://app.kit.com", id="plain-http"),
        pytest.param("https://evil.example/<x>", id="markup"),
        pytest.param("", id="empty"),
    ],
)
def test_c73_an_issuer_the_page_cannot_pass_on_is_refused_not_dropped(
    tab: Tab, site: RelaySite, app: FakeApp, iss: str
) -> None:
    # Dropping it would let a foreign issuer's code reach the app unchecked (RFC 9207).
    open_relay(tab, site.url({"code": new_code(), "state": new_state(app.port), "iss": iss}))

    assert_refused(tab, app)


@browser
def test_the_callback_path_is_a_setting(tab: Tab, app: FakeApp) -> None:
    code, state = new_code(), new_state(app.port)
    with RelaySite(callback_path="/oauth/kit-callback", callback_ports=(app.port,)) as site:
        open_relay(tab, site.url({"code": code, "state": state}))
        query = follow_to_app(tab, app)

    assert query == {"code": [code], "state": [state]}
    assert urlsplit(app.requests[0]).path == "/oauth/kit-callback"


@browser
@pytest.mark.parametrize(
    ("redirect", "forwarded"),
    [
        pytest.param(
            "https://app.kit.com/apps/123?success=true",
            "https://app.kit.com/apps/123?success=true",
            id="kit",
        ),
        pytest.param(
            "https://APP.Kit.COM:443/apps/9/install?a=1&b=%2F",
            "https://app.kit.com/apps/9/install?a=1&b=%2F",
            id="case-and-default-port",
        ),
        pytest.param("https://app.kit.com/apps", "https://app.kit.com/apps", id="bare-form"),
        pytest.param(
            "https://app.kit.com/apps?success=true",
            "https://app.kit.com/apps?success=true",
            id="bare-form-with-query",
        ),
        pytest.param(
            "https://app.kit.com/x/../apps/5", "https://app.kit.com/apps/5", id="resolved-into-apps"
        ),
    ],
)
def test_the_install_entry_opens_the_app(
    tab: Tab, site: RelaySite, app: FakeApp, redirect: str, forwarded: str
) -> None:
    relay_url = site.url({"redirect": redirect})

    open_relay(tab, relay_url)
    query = follow_to_app(tab, app)

    assert query == {"redirect": [forwarded]}
    assert app.requests == [f"/kit/oauth?redirect={quote(forwarded, safe='')}"]
    assert tab.requests == [relay_url, tab.page.url]
    assert_clean(tab)


@browser
def test_the_exact_example_redirect_arrives_encoded_and_intact(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    open_relay(tab, site.url({"redirect": "https://app.kit.com/apps/123?success=true"}))
    follow_to_app(tab, app)

    assert app.requests == [
        "/kit/oauth?redirect=https%3A%2F%2Fapp.kit.com%2Fapps%2F123%3Fsuccess%3Dtrue"
    ]


@browser
def test_the_app_hosts_are_a_setting(tab: Tab, app: FakeApp) -> None:
    with RelaySite(install_port=app.port, app_hosts="app.kit.com  app.convertkit.com") as site:
        open_relay(tab, site.url({"redirect": "https://app.convertkit.com/apps/7"}))
        query = follow_to_app(tab, app)

    assert query == {"redirect": ["https://app.convertkit.com/apps/7"]}


# -- refusals ------------------------------------------------------------------------------


@browser
@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/apps/1",
        "http://app.kit.com/apps/1",
        "https://app.kit.com.evil.example/apps/1",
        "https://evilapp.kit.com/apps/1",
        "https://kit.com/apps/1",
        "https://app.kit.com./apps/1",
        "https://user:pw@app.kit.com/apps/1",
        "https://user@app.kit.com/apps/1",
        "https://app.kit.com@evil.example/apps/1",
        "https://evil.example\\@app.kit.com/apps/1",
        "https://app.kit.com:8443/apps/1",
        "https://app.kit.com/other",
        "https://app.kit.com/appsX",
        "https://app.kit.com/apps.evil",
        "https://app.kit.com/apps/../admin",
        "https://app.kit.com/apps/.%2e/admin",
        "https://app.kit.com/apps/%2E%2E",
        "https://app.kit.com/apps/..",
        "http://127.0.0.1:9/apps/1",
        "https://app.kit.com/APPS/1",
        "https://app.kit.com/apps/%2e%2e/admin",
        "https://app.kit.com/apps/1#fragment",
        "https://app.kit.com/apps/1#",
        "https://app.kit.com/apps/1 x",
        " https://app.kit.com/apps/1",
        "https://app.kit.com/apps/\u00e9",
        "https://app.kit.com\\apps\\1",
        "https://app.kit.com/apps/1\tx",
        "javascript:alert(1)",
        "//evil.example",
        "//app.kit.com/apps/1",
        "/apps/1",
        "",
        "https://app.kit.com/apps/" + "x" * 2048,
    ],
)
def test_a_foreign_redirect_is_refused(
    tab: Tab, site: RelaySite, app: FakeApp, redirect: str
) -> None:
    open_relay(tab, site.url({"redirect": redirect}))

    assert_refused(tab, app)


@browser
def test_the_pages_own_origin_stands_in_for_kit_in_practice(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    # The practice sandbox serves the page and its App Store from one http origin.
    redirect = f"{site.base_url}/apps/123456?success=true"

    open_relay(tab, site.url({"redirect": redirect}))

    assert follow_to_app(tab, app) == {"redirect": [redirect]}


@browser
def test_a_build_without_installs_says_so(tab: Tab, app: FakeApp) -> None:
    with RelaySite(callback_ports=(app.port,)) as site:
        site.settings["kit-desktop-install-port"] = ""
        open_relay(tab, site.url({"redirect": "https://app.kit.com/apps/1"}))
        assert_stays(tab, app, NO_INSTALLS)
        assert "Connect to Kit" in tab.text("#hint")


@browser
def test_an_install_the_app_does_not_answer_says_what_to_do(tab: Tab) -> None:
    # The app is closed: the browser shows its error page, and Back shows what to do.
    with RelaySite() as site:  # its install port: the spare one, where nothing listens
        site.settings["kit-desktop-install-port"] = str(site.spare_port)
        relay_url = site.url({"redirect": "https://app.kit.com/apps/1"})
        fail_to_reach_app(tab, relay_url)
        back_to_relay(tab, relay_url)
        assert tab.text("#message") == INSTALL_NO_ANSWER
        assert tab.text("#hint") == "Open Kit Desktop, then go back to Kit and click Install again."
    assert_clean(tab)


@browser
def test_a_second_install_in_the_same_tab_is_forwarded_again(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    relay_url = site.url({"redirect": "https://app.kit.com/apps/1"})
    open_relay(tab, relay_url)
    follow_to_app(tab, app)
    open_relay(tab, relay_url)  # Install clicked again later: not mistaken for a Back
    tab.page.wait_for_url(f"{app.base_url}/**", wait_until="load")
    assert len(app.wait_for_requests(2)) == 2


@browser
@pytest.mark.parametrize("where", ["a-live-listener", "a-free-port"])
def test_c77_the_relay_forwards_only_to_the_apps_registered_ports(
    tab: Tab, app: FakeApp, where: str
) -> None:
    # A crafted state names a port the app never registered (something else listens there,
    # or nothing does): the page shows the code to paste instead of sending Kit's answer.
    with FakeApp() as other, RelaySite(install_port=app.port, callback_ports=(app.port,)) as site:
        port = other.port if where == "a-live-listener" else site.spare_port
        code, state = new_code(), new_state(port)
        open_relay(tab, site.url({"code": code, "state": state}))
        tab.page.wait_for_function(
            "text => document.getElementById('message').textContent === text", arg=NOT_FORWARDED
        )
        tab.page.wait_for_timeout(QUIET_MS)

        assert urlsplit(tab.page.url).path == RELAY_PATH
        assert tab.page.is_visible("#code")
        assert pasted(tab) == {"code": [code], "state": [state]}
        assert [urlsplit(url).path for url in tab.requests] == [RELAY_PATH]
        assert other.requests == []
    assert app.requests == []
    assert_clean(tab)


@browser
@pytest.mark.parametrize(
    "state",
    [
        "0.{random}",
        "80.{random}",
        "1023.{random}",
        "70000.{random}",
        "65536.{random}",
        "01024.{random}",
        "abcd.{random}",
        "{port}{random}",
        "{port}.",
        "{port}.abcdefghijklmno",
        "{port}.{random}!",
        "{port}.{random}+",
        "{port}.{random} ",
        "{port}.{random}.{random}",
        "{port}.{long}",
        " {port}.{random}",
        "",
    ],
)
def test_a_malformed_state_is_refused(tab: Tab, site: RelaySite, app: FakeApp, state: str) -> None:
    filled = state.format(port=app.port, random=secrets.token_urlsafe(32), long="a" * 129)

    open_relay(tab, site.url({"code": new_code(), "state": filled}))

    assert_refused(tab, app)


@browser
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"state": "{state}"}, id="state-alone"),
        pytest.param({"code": "abc"}, id="code-without-state"),
        pytest.param({"error": "access_denied"}, id="error-without-state"),
        pytest.param({"code": "", "state": "{state}"}, id="empty-code"),
        pytest.param({"code": "abc def", "state": "{state}"}, id="space-in-code"),
        pytest.param({"code": "abc<script>", "state": "{state}"}, id="markup-in-code"),
        pytest.param({"code": "c" * 2049, "state": "{state}"}, id="code-too-long"),
        pytest.param({"code": "caf\u00e9", "state": "{state}"}, id="non-ascii-code"),
        pytest.param({"error": "", "state": "{state}"}, id="empty-error"),
        pytest.param({"error": "Access_Denied", "state": "{state}"}, id="error-capitals"),
        pytest.param({"error": "error1", "state": "{state}"}, id="error-digits"),
        pytest.param({"error": "e" * 65, "state": "{state}"}, id="error-too-long"),
        pytest.param(
            {"code": "abc", "state": "{state}", "redirect": "https://app.kit.com/apps/1"},
            id="callback-and-install-mixed",
        ),
    ],
)
def test_a_malformed_callback_is_refused(
    tab: Tab, site: RelaySite, app: FakeApp, params: dict[str, str]
) -> None:
    state = new_state(app.port)
    filled = {name: value.replace("{state}", state) for name, value in params.items()}

    open_relay(tab, site.url(filled))

    assert_refused(tab, app)


@browser
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("code=abc&code=abc&state={state}", id="code-twice-same"),
        pytest.param("code=abc&code=def&state={state}", id="code-twice"),
        pytest.param("code=abc&state={state}&state={state}", id="state-twice"),
        pytest.param("error=access_denied&error=server_error&state={state}", id="error-twice"),
        pytest.param(
            "error=access_denied&error_description=a&error_description=b&state={state}",
            id="description-twice",
        ),
        pytest.param("code=abc&state={state}&iss=https://a&iss=https://b", id="iss-twice"),
        pytest.param(
            "redirect=https://app.kit.com/apps/1&redirect=https://app.kit.com/apps/2",
            id="redirect-twice",
        ),
        pytest.param("code=abc&state={state}&utm=1&utm=2", id="unknown-twice"),
    ],
)
def test_a_repeated_parameter_is_refused(
    tab: Tab, site: RelaySite, app: FakeApp, query: str
) -> None:
    raw = query.replace("{state}", new_state(app.port))

    open_relay(tab, site.url(raw))

    assert_refused(tab, app)


@browser
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="no-query"),
        pytest.param("utm_source=newsletter", id="unknown-only"),
        pytest.param("error_description=hello", id="description-only"),
    ],
)
def test_a_visit_without_a_connection_explains_the_page(
    tab: Tab, site: RelaySite, app: FakeApp, query: str
) -> None:
    open_relay(tab, site.url(query))

    assert_stays(tab, app, IDLE)
    assert tab.text("h1") == "Nothing to do here"
    assert site.requests == [RELAY_PATH + (f"?{query}" if query else "")]


@browser
@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"install_port": 80}, id="privileged-port"),
        pytest.param({"install_port": 70000}, id="port-too-large"),
        pytest.param({"callback_path": "//evil.example/callback"}, id="path-to-another-host"),
        pytest.param({"callback_path": "callback"}, id="relative-path"),
        pytest.param({"app_hosts": " "}, id="no-hosts"),
        pytest.param({"app_hosts": "app.kit.com evil.example/x"}, id="bad-host"),
        pytest.param({"callback_ports": "80"}, id="privileged-callback-port"),
        pytest.param({"callback_ports": ""}, id="no-callback-ports"),
        pytest.param({"callback_ports": "{port} 70000"}, id="callback-port-too-large"),
        pytest.param({"callback_ports": "{port},{port}"}, id="callback-ports-with-commas"),
    ],
)
def test_a_page_with_broken_settings_opens_nothing(
    tab: Tab, app: FakeApp, settings: dict[str, str | int]
) -> None:
    install_port = settings.get("install_port")
    callback_path = settings.get("callback_path")
    app_hosts = settings.get("app_hosts")
    callback_ports = settings.get("callback_ports")
    with RelaySite(
        install_port=int(install_port) if install_port is not None else app.port,
        callback_path=str(callback_path) if callback_path is not None else None,
        app_hosts=str(app_hosts) if app_hosts is not None else None,
    ) as site:
        if callback_ports is not None:
            ports = str(callback_ports).replace("{port}", str(app.port))
            site.settings["kit-desktop-callback-ports"] = ports
        open_relay(tab, site.url({"code": new_code(), "state": new_state(app.port)}))
        assert_stays(tab, app, BROKEN)


@browser
def test_the_page_refuses_to_work_inside_a_frame(tab: Tab, app: FakeApp) -> None:
    query = urlencode({"code": new_code(), "state": new_state(app.port)})
    framing = (
        "<!doctype html><title>Framing</title><link rel=icon href='data:,'>"
        f'<iframe src="{RELAY_PATH}?{query}"></iframe>'
    )
    with RelaySite(extra_pages={"/frame.html": framing}) as site:
        tab.page.goto(f"{site.base_url}/frame.html")
        message = tab.page.frame_locator("iframe").locator("#message")
        tab.page.wait_for_function(
            "text => document.querySelector('iframe').contentDocument"
            ".getElementById('message').textContent === text",
            arg=REFUSED,
        )
        tab.page.wait_for_timeout(QUIET_MS)

        assert message.inner_text() == REFUSED
        assert site.requests == ["/frame.html", f"{RELAY_PATH}?{query}"]
    assert app.requests == []


# -- the copy-code fallback ----------------------------------------------------------------


@browser
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="cacheable"),
        pytest.param({"Cache-Control": "no-store"}, id="no-store"),
    ],
)
def test_back_from_the_error_page_shows_the_code_to_paste(
    tab: Tab, app: FakeApp, headers: dict[str, str]
) -> None:
    code = "Ab9._~+/=-" + new_code()
    with RelaySite(install_port=app.port, headers=headers) as site:
        state = new_state(site.spare_port)
        relay_url = site.url({"code": code, "state": state})

        fail_to_reach_app(tab, relay_url)
        back_to_relay(tab, relay_url)

        assert tab.text("#message") == FALLBACK
        assert tab.page.is_visible("#code")
        assert pasted(tab) == {"code": [code], "state": [state]}
        assert tab.page.get_attribute("#code", "readonly") is not None
        assert tab.text("label[for=code]") == "Your code"
        assert tab.page.is_visible("#copy")
        forwarded = [url for url in tab.requests if not url.startswith(site.base_url)]
        assert len(forwarded) == 1
        assert urlsplit(forwarded[0]).path == "/callback"

        # A reload shows the code again and does not try the app a second time.
        before = len(tab.requests)
        tab.page.reload(wait_until="load")
        tab.page.wait_for_timeout(QUIET_MS)
        assert tab.page.url == relay_url
        assert tab.text("#message") == FALLBACK
        assert pasted(tab) == {"code": [code], "state": [state]}
        assert tab.requests[before:] == [relay_url]
    assert app.requests == []
    assert_clean(tab)


@browser
def test_back_after_a_failed_error_callback_explains_without_a_code(
    tab: Tab, site: RelaySite
) -> None:
    relay_url = site.url({"error": "access_denied", "state": new_state(site.spare_port)})

    fail_to_reach_app(tab, relay_url)
    back_to_relay(tab, relay_url)

    assert tab.text("#message") == FALLBACK_ERROR
    assert tab.page.is_hidden("#fallback")
    assert tab.page.input_value("#code") == ""
    assert_clean(tab)


@browser
def test_the_code_appears_when_the_navigation_goes_nowhere(tab: Tab, site: RelaySite) -> None:
    # A 204 answer cancels the navigation and leaves the relay page alive: the 4 s timer.
    code = new_code()
    with FakeApp(status=204) as silent:
        site.settings["kit-desktop-callback-ports"] = str(silent.port)
        state = new_state(silent.port)
        relay_url = site.url({"code": code, "state": state})
        open_relay(tab, relay_url)
        silent.wait_for_requests(1)
        assert tab.text("#message") != FALLBACK

        tab.page.wait_for_function(
            "text => document.getElementById('message').textContent === text",
            arg=FALLBACK,
            timeout=6000,
        )

        assert tab.page.url == relay_url
        assert pasted(tab) == {"code": [code], "state": [state]}
        assert len(silent.requests) == 1
    assert_clean(tab)


@browser
def test_the_copy_button_copies_the_code(tab: Tab, site: RelaySite) -> None:
    code, state = new_code(), new_state(site.spare_port)
    relay_url = site.url({"code": code, "state": state})
    tab.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    fail_to_reach_app(tab, relay_url)
    back_to_relay(tab, relay_url)

    tab.page.click("#copy")
    tab.page.wait_for_selector("#copy-status:not(:empty)")

    copied = tab.page.evaluate("navigator.clipboard.readText()")
    assert parse_qs(copied, strict_parsing=True) == {"code": [code], "state": [state]}
    assert tab.text("#copy-status") == "Copied. Now paste it into Kit Desktop."


@browser
def test_a_new_connection_in_the_same_tab_is_forwarded_again(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    failed_url = site.url({"code": new_code(), "state": new_state(site.spare_port)})
    fail_to_reach_app(tab, failed_url)
    back_to_relay(tab, failed_url)
    assert tab.text("#message") == FALLBACK

    code, state = new_code(), new_state(app.port)
    open_relay(tab, site.url({"code": code, "state": state}))

    assert follow_to_app(tab, app) == {"code": [code], "state": [state]}


# -- nothing else runs or loads ------------------------------------------------------------


@browser
def test_a_tampered_script_does_not_run(tab: Tab, app: FakeApp) -> None:
    # The CSP is live: a script that no longer matches its hash is blocked, so nothing moves.
    def tamper(page: str) -> str:
        return page.replace('"use strict";', '"use strict"; var tampered = 1;', 1)

    with RelaySite(install_port=app.port, transform=tamper) as site:
        open_relay(tab, site.url({"code": new_code(), "state": new_state(app.port)}))
        tab.page.wait_for_load_state("load")
        tab.page.wait_for_timeout(QUIET_MS)

        assert tab.text("#message") == ""
        assert tab.page.url.startswith(site.base_url)
    assert app.requests == []
    assert any("Content Security Policy" in line for line in tab.console), tab.console


@browser
def test_markup_in_an_error_description_is_never_run(
    tab: Tab, site: RelaySite, app: FakeApp
) -> None:
    state = new_state(app.port)

    open_relay(
        tab, site.url({"error": "invalid_request", "error_description": XSS, "state": state})
    )
    query = follow_to_app(tab, app)

    # Passed on as plain data; the app shows it as text.
    assert query == {"error": ["invalid_request"], "error_description": [XSS], "state": [state]}
    assert_clean(tab)


@browser
def test_markup_is_not_run_on_the_fallback_page(tab: Tab, site: RelaySite) -> None:
    relay_url = site.url(
        {"error": "invalid_request", "error_description": XSS, "state": new_state(site.spare_port)}
    )

    fail_to_reach_app(tab, relay_url)
    back_to_relay(tab, relay_url)
    tab.page.wait_for_timeout(300)

    assert tab.text("#message") == FALLBACK_ERROR
    assert tab.page.evaluate("document.querySelectorAll('img').length") == 0
    assert tab.page.evaluate("typeof window.__pwned") == "undefined"
    assert "onerror" not in tab.page.content()
    assert_clean(tab)


@browser
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"code": XSS, "state": "{state}"}, id="code"),
        pytest.param({"code": "abc", "state": "{state}" + XSS}, id="state"),
        pytest.param({"error": XSS, "state": "{state}"}, id="error"),
        pytest.param({"redirect": "javascript:window.__pwned=1;alert(1)"}, id="redirect"),
    ],
)
def test_markup_in_other_parameters_is_refused_not_run(
    tab: Tab, site: RelaySite, app: FakeApp, params: dict[str, str]
) -> None:
    state = new_state(app.port)
    filled = {name: value.replace("{state}", state) for name, value in params.items()}

    open_relay(tab, site.url(filled))

    assert_refused(tab, app)
    assert tab.page.evaluate("document.querySelectorAll('img').length") == 0
