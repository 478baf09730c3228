"""Settings: defaults, then kit_app.toml, then KIT_* variables; bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit_desktop.config import (
    DEFAULT_REDIRECT_URIS,
    KIT_AUTHORIZE_URL,
    SANDBOX_CLIENT_ID,
    load_settings,
)
from kit_desktop.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kit_app.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_real_kit_in_practice_mode(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "missing.toml")
    assert settings.client_id is None
    assert settings.practice_mode
    assert settings.authorize_url == KIT_AUTHORIZE_URL
    assert settings.redirect_uris == DEFAULT_REDIRECT_URIS
    assert settings.token_body == "form"


def test_shipped_kit_app_toml_loads() -> None:
    assert load_settings({}).practice_mode


def test_toml_then_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[kit]\nclient_id = "from-toml"\n'
        'redirect_uris = ["http://127.0.0.1:5000/callback", "http://127.0.0.1:5001/callback"]\n',
    )
    settings = load_settings({}, path)
    assert settings.client_id == "from-toml"
    assert settings.redirect_uris[1] == "http://127.0.0.1:5001/callback"
    env = {"KIT_CLIENT_ID": "from-env", "KIT_REDIRECT_URI": "http://127.0.0.1:6000/cb"}
    settings = load_settings(env, path)
    assert settings.client_id == "from-env"
    assert settings.redirect_uris == ("http://127.0.0.1:6000/cb",)
    assert not settings.practice_mode


def test_with_sandbox_points_everything_at_it(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "none.toml").with_sandbox("http://127.0.0.1:4000/")
    assert settings.client_id == SANDBOX_CLIENT_ID
    assert settings.token_url == "http://127.0.0.1:4000/v4/oauth/token"
    assert settings.api_url == "http://127.0.0.1:4000"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"KIT_AUTHORIZE_URL": "http://api.kit.com/v4/oauth/authorize"}, "https"),
        ({"KIT_TOKEN_URL": "file:///etc/passwd"}, "https"),
        ({"KIT_API_URL": "javascript:alert(1)"}, "https"),
        ({"KIT_AUTHORIZE_URL": "--foo"}, "https"),
        ({"KIT_TOKEN_URL": "https://user:pw@api.kit.com/t"}, "https"),
        ({"KIT_REDIRECT_URI": "http://localhost:5000/callback"}, "127.0.0.1"),
        ({"KIT_REDIRECT_URI": "http://0.0.0.0:5000/callback"}, "127.0.0.1"),
        ({"KIT_REDIRECT_URI": "https://127.0.0.1:5000/callback"}, "127.0.0.1"),
        ({"KIT_REDIRECT_URI": "http://127.0.0.1/callback"}, "127.0.0.1"),
        ({"KIT_TOKEN_BODY": "xml"}, "token_body"),
    ],
)
def test_bad_values_are_refused_with_a_specific_message(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_settings(env, tmp_path / "none.toml")
    assert caught.value.user_message


def test_sandbox_http_loopback_endpoints_are_allowed(tmp_path: Path) -> None:
    settings = load_settings(
        {"KIT_TOKEN_URL": "http://127.0.0.1:4000/v4/oauth/token"}, tmp_path / "none.toml"
    )
    assert settings.token_url.startswith("http://127.0.0.1")


def test_broken_or_unknown_toml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"could not be read"):
        load_settings({}, write(tmp_path, "[kit\n"))
    with pytest.raises(ConfigError, match=r"unknown settings: colour"):
        load_settings({}, write(tmp_path, '[kit]\ncolour = "red"\n'))
