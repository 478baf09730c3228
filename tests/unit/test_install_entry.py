"""The App Store install entry: only Kit's app page is ever returned to; nothing else moves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from kit_desktop.auth.install_entry import (
    InstallEntry,
    InstallRefusedError,
    check_install_redirect,
)
from kit_desktop.errors import ConfigError, PortInUseError

HOSTS = ("app.kit.com",)
KIT_PAGE = "https://app.kit.com/apps/123?success=true"
AUTHORIZE = "https://api.kit.com/v4/oauth/authorize?client_id=abc&state=xyz"


@pytest.mark.parametrize(
    ("value", "resolved"),
    [
        ("https://app.kit.com/apps/123?success=true", "https://app.kit.com/apps/123?success=true"),
        ("https://app.kit.com/apps/1", "https://app.kit.com/apps/1"),
        ("https://app.kit.com/apps", "https://app.kit.com/apps"),
        ("https://APP.KIT.COM/apps/9", "https://app.kit.com/apps/9"),
        ("https://app.kit.com:443/apps/9", "https://app.kit.com/apps/9"),
    ],
)
def test_kits_app_pages_are_accepted_as_the_browser_resolves_them(
    value: str, resolved: str
) -> None:
    assert check_install_redirect(value, HOSTS) == resolved


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.example/apps/1",
        "http://app.kit.com/apps/1",
        "https://app.kit.com.evil.example/apps/1",
        "https://evil.example/?https://app.kit.com/apps/1",
        "https://user:pw@app.kit.com/apps/1",
        "https://app.kit.com@evil.example/apps/1",
        "https://app.kit.com:8443/apps/1",
        "https://app.kit.com/other",
        "https://app.kit.com/apps/../settings",
        "https://app.kit.com/apps/%2e%2e/settings",
        "https://app.kit.com/appsX",
        "https://app.kit.com/apps/1#frag",
        "//evil.example/apps/1",
        "/apps/1",
        "javascript:alert(1)//https://app.kit.com/apps/1",
        "https://app.kit.com\\@evil.example/apps/1",
        "https://app.kit.com/apps/1\r\nSet-Cookie: x=1",
        "https://app.kit.com/apps/\u00e9",
        "https://app.kit.com:99999/apps/1",
        "",
        "https://app.kit.com/apps/" + "a" * 3000,
    ],
)
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(InstallRefusedError):
        check_install_redirect(value, HOSTS)


def test_the_sandbox_origin_is_allowed_only_when_named() -> None:
    sandbox = "http://127.0.0.1:8123"
    page = f"{sandbox}/apps/42?success=true"
    assert check_install_redirect(page, HOSTS, extra_origins=[sandbox]) == page
    with pytest.raises(InstallRefusedError):
        check_install_redirect(page, HOSTS)
    with pytest.raises(InstallRefusedError):
        check_install_redirect("http://127.0.0.1:8124/apps/42", HOSTS, extra_origins=[sandbox])


class Recorder:
    """Stands in for the GUI: records each redirect and answers with a fixed URL."""

    def __init__(self, answer: str | None = AUTHORIZE) -> None:
        self.answer = answer
        self.calls: list[str] = []
        self.trusted: list[bool] = []

    def __call__(self, redirect: str, trusted: bool) -> str | None:
        self.calls.append(redirect)
        self.trusted.append(trusted)
        return self.answer


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def entry(recorder: Recorder) -> Iterator[InstallEntry]:
    made = InstallEntry("http://127.0.0.1:0/callback", recorder, app_hosts=HOSTS)
    thread = threading.Thread(target=made.serve, daemon=True)
    thread.start()
    yield made
    made.stop()
    thread.join(5)
    made.close()


def get(entry: InstallEntry, target: str, **kwargs: object) -> requests.Response:
    return requests.get(
        f"http://127.0.0.1:{entry.port}{target}",
        allow_redirects=False,
        timeout=15,
        **kwargs,  # type: ignore[arg-type]
    )


def test_an_install_goes_on_to_kits_consent_page(entry: InstallEntry, recorder: Recorder) -> None:
    answer = get(entry, f"/kit/oauth?redirect={quote(KIT_PAGE, safe='')}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == AUTHORIZE
    assert recorder.calls == [KIT_PAGE]
    assert answer.headers["Cache-Control"] == "no-store"
    assert entry.url == f"http://127.0.0.1:{entry.port}/kit/oauth"


@pytest.mark.parametrize(
    "target",
    [
        "/kit/oauth?redirect=" + quote("https://evil.example/apps/1", safe=""),
        "/kit/oauth?redirect=" + quote("https://app.kit.com.evil.example/apps/1", safe=""),
        "/kit/oauth?next=//evil.example",
        "/kit/oauth?return_to=https://evil.example",
        "/kit/oauth",
        "/kit/oauth?redirect=" + quote(KIT_PAGE, safe="") + "&redirect=https%3A%2F%2Fevil.example",
        "/kit/oauth?redirect=%ZZ",
    ],
)
def test_foreign_or_malformed_installs_get_a_page_and_no_redirect(
    entry: InstallEntry, recorder: Recorder, target: str
) -> None:
    answer = get(entry, target)
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert recorder.calls == []
    assert "evil.example" not in answer.text


def test_other_paths_methods_and_hosts_are_refused(entry: InstallEntry, recorder: Recorder) -> None:
    assert get(entry, "/callback?redirect=x").status_code == 404
    assert get(entry, "/").status_code == 404
    good = f"/kit/oauth?redirect={quote(KIT_PAGE, safe='')}"
    assert get(entry, good, headers={"Host": "evil.example"}).status_code == 421
    posted = requests.post(f"http://127.0.0.1:{entry.port}{good}", timeout=15)
    assert posted.status_code == 405
    assert recorder.calls == []


def test_when_the_app_cannot_start_the_page_links_back_to_kit(recorder: Recorder) -> None:
    recorder.answer = None
    made = InstallEntry("http://127.0.0.1:0/callback", recorder, app_hosts=HOSTS)
    thread = threading.Thread(target=made.serve, daemon=True)
    thread.start()
    try:
        answer = get(made, f"/kit/oauth?redirect={quote(KIT_PAGE, safe='')}")
    finally:
        made.stop()
        thread.join(5)
        made.close()
    assert answer.status_code == 503
    assert "Location" not in answer.headers
    assert 'href="https://app.kit.com/apps/123?success=true"' in answer.text
    assert "could not start" in answer.text


def test_an_unsafe_authorize_url_from_the_app_is_not_followed(recorder: Recorder) -> None:
    recorder.answer = "javascript:alert(1)"
    made = InstallEntry("http://127.0.0.1:0/callback", recorder, app_hosts=HOSTS)
    thread = threading.Thread(target=made.serve, daemon=True)
    thread.start()
    try:
        answer = get(made, f"/kit/oauth?redirect={quote(KIT_PAGE, safe='')}")
    finally:
        made.stop()
        thread.join(5)
        made.close()
    assert answer.status_code == 503
    assert "Location" not in answer.headers


def test_a_busy_port_and_a_bad_uri_are_typed_errors(entry: InstallEntry) -> None:
    with pytest.raises(PortInUseError):
        InstallEntry(f"http://127.0.0.1:{entry.port}/callback", Recorder(), app_hosts=HOSTS)
    with pytest.raises(ConfigError):
        InstallEntry("http://example.com:80/callback", Recorder(), app_hosts=HOSTS)


def test_stop_frees_the_port() -> None:
    made = InstallEntry("http://127.0.0.1:0/callback", Recorder(), app_hosts=HOSTS)
    port = made.port
    thread = threading.Thread(target=made.serve, daemon=True)
    thread.start()
    made.stop()
    thread.join(5)
    assert not thread.is_alive()
    made.close()
    again = InstallEntry(f"http://127.0.0.1:{port}/callback", Recorder(), app_hosts=HOSTS)
    again.close()
