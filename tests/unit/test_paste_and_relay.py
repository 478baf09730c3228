"""Pasting Kit's answer by hand, the relay mode's state and redirect URI, installs' /done."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from kit_desktop.auth.loopback import LoopbackReceiver
from kit_desktop.auth.paste import code_from_paste
from kit_desktop.config import Settings, load_settings
from kit_desktop.connection import Connection
from kit_desktop.errors import (
    AuthorizationError,
    ConfigError,
    ConsentDeniedError,
    PasteError,
    WrongAttemptPasteError,
)
from kit_desktop.services import build_services
from tests.helpers.fake_keyrings import MemoryKeyring

STATE = "53220.abcdefghijklmnopqrstuvwx"
RELAY = "https://publisher.example/kit-desktop/relay.html"


@pytest.mark.parametrize(
    "text",
    [
        f"http://127.0.0.1:53220/callback?code=CODE-1.x_y~z&state={STATE}",
        f"{RELAY}?code=CODE-1.x_y~z&state={STATE}",
        f"  ?code=CODE-1.x_y~z&state={STATE}\n",
        f"code=CODE-1.x_y~z&state={STATE}",
        f"code=CODE-1.x_y~z&state={STATE}&iss=https%3A%2F%2Fapi.kit.com",
    ],
)
def test_an_address_or_the_relays_copied_answer_gives_the_code(text: str) -> None:
    response = code_from_paste(text, STATE)
    assert response.code == "CODE-1.x_y~z"
    assert response.state == STATE


def test_an_address_from_another_attempt_is_refused_by_name() -> None:
    with pytest.raises(WrongAttemptPasteError):
        code_from_paste("http://127.0.0.1:53220/callback?code=C&state=53220.other", STATE)
    with pytest.raises(WrongAttemptPasteError):
        code_from_paste("http://127.0.0.1:53220/callback?code=C", STATE)


def test_kits_refusals_in_a_pasted_address_are_kits_errors() -> None:
    with pytest.raises(ConsentDeniedError):
        code_from_paste(f"{RELAY}?error=access_denied&state={STATE}", STATE)
    with pytest.raises(AuthorizationError):
        code_from_paste(f"{RELAY}?error=server_error&state={STATE}", STATE)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello world", "<script>", "x" * 3000, "a" * 9000, "code=%ZZ&state=1", "é"],
)
def test_junk_is_refused_with_words_a_creator_understands(text: str) -> None:
    with pytest.raises(PasteError) as caught:
        code_from_paste(text, STATE)
    assert "paste it again" in caught.value.user_message or "earlier" in caught.value.user_message


def test_relay_and_app_hosts_settings() -> None:
    settings = load_settings(
        {"KIT_RELAY_URL": RELAY, "KIT_APP_HOSTS": "app.kit.com app.example.com"},
        toml_path=None,
    )
    assert settings.relay_url == RELAY
    assert settings.app_hosts == ("app.kit.com", "app.example.com")
    assert settings.install_entry_url == "http://127.0.0.1:53219/kit/oauth"
    assert load_settings({}).relay_url is None
    assert load_settings({}).app_hosts == ("app.kit.com",)


@pytest.mark.parametrize(
    "environ",
    [
        {"KIT_RELAY_URL": "http://publisher.example/relay.html"},
        {"KIT_RELAY_URL": "https://publisher.example/relay.html?x=1"},
        {"KIT_RELAY_URL": RELAY, "KIT_REDIRECT_URI": "http://127.0.0.1:53219/other"},
        {"KIT_APP_HOSTS": "evil/x"},
        {"KIT_APP_HOSTS": "https://app.kit.com"},
    ],
)
def test_bad_relay_and_host_settings_are_named(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ)


def test_relay_mode_sends_kit_the_relay_page_and_puts_the_port_in_the_state() -> None:
    settings = Settings(
        client_id="abc",
        redirect_uris=("http://127.0.0.1:0/callback",),
        relay_url=RELAY,
    )
    connection = Connection(build_services(settings, backend=MemoryKeyring()))
    receiver, attempt = connection.begin_attempt(timeout=5)
    with receiver:
        assert attempt.redirect_uri == RELAY
        port, _, random = attempt.state.partition(".")
        assert int(port) == receiver.port
        assert len(random) >= 16
        assert receiver.state == attempt.state
        assert "redirect_uri=https%3A%2F%2Fpublisher.example" in attempt.url


def test_direct_mode_sends_kit_the_loopback_uri() -> None:
    settings = Settings(
        client_id="abc", redirect_uris=("http://127.0.0.1:0/callback",), route="direct"
    )
    connection = Connection(build_services(settings, backend=MemoryKeyring()))
    receiver, attempt = connection.begin_attempt(timeout=5)
    with receiver:
        assert attempt.redirect_uri == receiver.redirect_uri
        assert "." not in attempt.state or not attempt.state.split(".")[0].isdigit()


@pytest.fixture
def install_receiver() -> Iterator[LoopbackReceiver]:
    receiver = LoopbackReceiver(
        ["http://127.0.0.1:0/callback"],
        "state-for-this-install-0123",
        timeout=10,
        back_to="https://app.kit.com/apps/7?success=true",
    )
    yield receiver
    receiver.close()


def _run(receiver: LoopbackReceiver, ok: bool) -> threading.Thread:
    def work() -> None:
        try:
            receiver.wait()
        except Exception:
            return
        receiver.finish(ok, "Connected as Ada." if ok else "Kit had a problem.")
        receiver.serve_done(timeout=5)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_after_an_install_the_browser_goes_back_to_kit(install_receiver: LoopbackReceiver) -> None:
    thread = _run(install_receiver, ok=True)
    base = f"http://127.0.0.1:{install_receiver.port}"
    callback = requests.get(
        f"{base}/callback?code=abc&state=state-for-this-install-0123",
        allow_redirects=False,
        timeout=10,
    )
    assert callback.status_code == 302
    done = requests.get(f"{base}/done", allow_redirects=False, timeout=10)
    assert done.status_code == 303
    assert done.headers["Location"] == "https://app.kit.com/apps/7?success=true"
    thread.join(5)


def test_a_failed_install_explains_and_links_back_to_kit(
    install_receiver: LoopbackReceiver,
) -> None:
    thread = _run(install_receiver, ok=False)
    base = f"http://127.0.0.1:{install_receiver.port}"
    requests.get(
        f"{base}/callback?code=abc&state=state-for-this-install-0123",
        allow_redirects=False,
        timeout=10,
    )
    done = requests.get(f"{base}/done", allow_redirects=False, timeout=10)
    assert done.status_code == 200
    assert "Kit had a problem." in done.text
    assert 'href="https://app.kit.com/apps/7?success=true"' in done.text
    thread.join(5)


def test_a_denied_install_links_back_to_kit(install_receiver: LoopbackReceiver) -> None:
    thread = _run(install_receiver, ok=False)
    answer = requests.get(
        f"http://127.0.0.1:{install_receiver.port}/callback"
        "?error=access_denied&state=state-for-this-install-0123",
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 200
    assert "Location" not in answer.headers
    assert 'href="https://app.kit.com/apps/7?success=true"' in answer.text
    thread.join(5)
