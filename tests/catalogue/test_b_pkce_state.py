"""Catalogue B19-B23: PKCE values, CSPRNG, S256 only, and the authorization URL and launch."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import random
import re
import sys
import webbrowser
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

import kit_desktop
from kit_desktop.auth import browser, pkce
from kit_desktop.auth.callback import ERROR_MESSAGES
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.config import Settings, load_settings
from kit_desktop.connection import Connection
from kit_desktop.errors import ConfigError
from kit_desktop.qt.session import KitSession
from kit_desktop.services import build_services
from kit_desktop.state import AttemptView, Phase
from tests.helpers.fake_keyrings import MemoryKeyring
from tests.helpers.loopback import EPHEMERAL, get
from tests.helpers.reach import kit_is_reachable

VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
REDIRECT = "http://127.0.0.1:53219/callback"
PACKAGE = Path(kit_desktop.__file__).parent
AUTH_CODE = [*sorted((PACKAGE / "auth").glob("*.py")), PACKAGE / "connection.py"]
BAD_ENDPOINTS = [
    "http://api.kit.com/v4/oauth/authorize",
    "--foo",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "https://user:pw@api.kit.com/v4/oauth/authorize",
]


def s256(verifier: str) -> str:
    """RFC 7636 S256, computed here rather than by the app."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def client(**changes: object) -> OAuthClient:
    values: dict[str, object] = {"client_id": "catalogue-client", **changes}
    return OAuthClient(Settings(**values))  # type: ignore[arg-type]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


# --- 19. RFC 7636 vector ----------------------------------------------------------------------


def test_c19_rfc7636_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_c19_rfc7636_vector_matches_attempts() -> None:
    attempt = client().new_attempt(REDIRECT)
    assert attempt.challenge == s256(attempt.verifier)
    assert query_of(attempt.url)["code_challenge"] == [s256(attempt.verifier)]


# --- 20. verifier and challenge shape ---------------------------------------------------------


def test_c20_verifier_and_challenge_shape() -> None:
    oauth = client()
    attempts = [oauth.new_attempt(REDIRECT) for _ in range(1000)]
    assert len({a.verifier for a in attempts}) == 1000
    assert len({a.challenge for a in attempts}) == 1000
    for attempt in attempts:
        assert VERIFIER.match(attempt.verifier)
        assert len(attempt.challenge) == 43
        assert not set(attempt.challenge) & set("=+/")
        assert attempt.challenge == s256(attempt.verifier)


@pytest.mark.parametrize("bad", ["x" * 42, "x" * 129, "a" * 42 + "+", "a" * 42 + "="])
def test_c20_verifier_and_challenge_shape_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="unreserved"):
        pkce.code_challenge(bad)


# --- 21. CSPRNG only --------------------------------------------------------------------------


def _broken(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("the random module must not be used for secrets")


def test_c21_csprng_only(monkeypatch: pytest.MonkeyPatch) -> None:
    random.seed(2026)
    first = client().new_attempt(REDIRECT)
    random.seed(2026)
    second = client().new_attempt(REDIRECT)
    assert (first.verifier, first.state) != (second.verifier, second.state)
    for name in ("random", "getrandbits", "randbytes", "choice", "choices", "sample", "seed"):
        monkeypatch.setattr(random, name, _broken)
    for name in ("random", "getrandbits", "randbytes", "seed"):
        monkeypatch.setattr(random.Random, name, _broken)
    receiver, attempt = Connection(
        build_services(
            Settings(client_id="c", redirect_uris=(EPHEMERAL,), route="direct"),
            backend=MemoryKeyring(),
        )
    ).begin_attempt()
    receiver.close()
    assert VERIFIER.match(attempt.verifier)
    assert pkce.new_state() != pkce.new_state()


def test_c21_csprng_only_no_random_import() -> None:
    for path in AUTH_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert "random" not in names, path.name


def test_c21_csprng_only_state_bits() -> None:
    receiver, attempt = Connection(
        build_services(
            Settings(client_id="c", redirect_uris=(EPHEMERAL,), route="direct"),
            backend=MemoryKeyring(),
        )
    ).begin_attempt()
    receiver.close()
    raw = base64.urlsafe_b64decode(attempt.state + "=" * (-len(attempt.state) % 4))
    assert len(raw) * 8 >= 128
    assert len(raw) * 8 == 256


# --- 22. S256 only ----------------------------------------------------------------------------


def test_c22_s256_only() -> None:
    oauth = client()
    for _ in range(200):
        assert query_of(oauth.new_attempt(REDIRECT).url)["code_challenge_method"] == ["S256"]
    for path in [*AUTH_CODE, PACKAGE / "qt" / "session.py"]:
        constants = {
            node.value.lower()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert "plain" not in constants, path.name


def test_c22_s256_only_after_invalid_request(qtbot: QtBot, tmp_path: Path) -> None:
    settings = Settings(client_id="catalogue-client", redirect_uris=(EPHEMERAL,), route="direct")
    opened: list[str] = []
    attempts: list[object] = []

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    session = KitSession(
        build_services(settings, backend=MemoryKeyring()),
        opener=opener,
        settings_store=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        reach=kit_is_reachable,
    )
    session.attempt_changed.connect(attempts.append)
    try:
        session.connect_to_kit()
        qtbot.waitUntil(lambda: len(attempts) == 1, timeout=5000)
        first = attempts[-1]
        assert isinstance(first, AttemptView)
        port = int(urlsplit(first.redirect_uri).port or 0)
        status, _ = get(port, f"/callback?error=invalid_request&state={first.state}")
        assert status == 200
        qtbot.waitUntil(lambda: session.view.phase is Phase.FAILED, timeout=5000)
        assert session.view.detail == ERROR_MESSAGES["invalid_request"]
        qtbot.waitUntil(lambda: not session.busy, timeout=5000)
        session.connect_to_kit()
        qtbot.waitUntil(lambda: len(attempts) == 2, timeout=5000)
        second = attempts[-1]
        assert isinstance(second, AttemptView) and second is not first
        for attempt in (first, second):
            assert attempt.method == "S256"
            assert query_of(attempt.url)["code_challenge_method"] == ["S256"]
            assert query_of(attempt.url)["code_challenge"] == [s256(attempt.verifier)]
        assert second.verifier != first.verifier
    finally:
        session.shutdown()
        qtbot.waitUntil(lambda: not session.busy, timeout=5000)


# --- 23. authorization URL and launch ---------------------------------------------------------


def test_c23_authorize_url() -> None:
    oauth = client(tenant_name="Studio & Co; $(id)")
    redirect = "http://127.0.0.1:53220/callback"
    attempt = oauth.new_attempt(redirect)
    parts = urlsplit(attempt.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "api.kit.com",
        "/v4/oauth/authorize",
    )
    pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    names = [name for name, _ in pairs]
    assert sorted(names) == sorted(set(names))  # each parameter once
    assert dict(pairs) == {
        "client_id": "catalogue-client",
        "response_type": "code",
        "redirect_uri": redirect,
        "state": attempt.state,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
        "scope": "public",
        "tenant_name": "Studio & Co; $(id)",
    }
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A53220%2Fcallback" in parts.query
    assert "tenant_name=Studio+%26+Co%3B+%24%28id%29" in parts.query
    assert "secret" not in attempt.url.lower()


def test_c23_authorize_url_exact_configured_host() -> None:
    configured = "https://auth.example.test:8443/v4/oauth/authorize?app=kit"
    attempt = client(authorize_url=configured).new_attempt(REDIRECT)
    assert attempt.url.startswith(configured + "&")
    assert urlsplit(attempt.url).netloc == "auth.example.test:8443"


@pytest.mark.parametrize("value", BAD_ENDPOINTS)
def test_c23_authorize_url_bad_config_refused(value: str) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ={"KIT_AUTHORIZE_URL": value}, toml_path=Path("/nonexistent"))
    with pytest.raises(ConfigError):
        client(authorize_url=value)


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``BROWSER`` a program that writes down the arguments it was started with."""
    script = tmp_path / "browser-recorder"
    out = tmp_path / "argv.json"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(out)!r}, 'w').write(json.dumps(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER again
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setattr(sys, "frozen", False, raising=False)
    return out


def test_c23_authorize_url_launch_without_shell(recorder: Path) -> None:
    attempt = client(tenant_name="a&b").new_attempt(REDIRECT)
    assert browser.open_system_browser(attempt.url)
    argv = json.loads(recorder.read_text(encoding="utf-8"))
    assert argv == [attempt.url]  # one argument, byte for byte: no shell split it at "&"


def test_c23_authorize_url_launch_shell_syntax_inert(recorder: Path) -> None:
    marker = recorder.parent / "pwned"
    url = f"https://api.kit.com/x?a=$(touch${{IFS}}{marker})&b=`touch${{IFS}}{marker}`;c=|"
    assert browser.safe_to_open(url)  # nothing in it that a URL may not carry
    assert browser.open_system_browser(url)
    assert json.loads(recorder.read_text(encoding="utf-8")) == [url]
    assert not marker.exists()  # a shell would have run the commands


@pytest.mark.parametrize("url", [*BAD_ENDPOINTS, "https://api.kit.com/x\n--new-window"])
@pytest.mark.expected_log(
    r"^refused to open an unsafe authorization URL$", logger="kit_desktop.auth.browser"
)
def test_c23_authorize_url_unsafe_never_launched(recorder: Path, url: str) -> None:
    assert browser.open_system_browser(url) is False
    assert not recorder.exists()
