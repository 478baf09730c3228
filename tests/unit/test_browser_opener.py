"""The browser opener: only safe URLs, no shell, and the original environment when frozen."""

from __future__ import annotations

import sys
import webbrowser

import pytest

from kit_desktop.auth import browser


@pytest.mark.parametrize(
    "url",
    [
        "https://api.kit.com/v4/oauth/authorize?client_id=x",
        "http://127.0.0.1:4000/v4/oauth/authorize?x=1",
    ],
)
def test_safe_urls(url: str) -> None:
    assert browser.safe_to_open(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.kit.com/v4/oauth/authorize",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "--foo",
        "https://user@api.kit.com/",
        "https://api.kit.com/\r\nx",
        "https:///nohost",
    ],
)
@pytest.mark.expected_log(
    r"^refused to open an unsafe authorization URL$", logger="kit_desktop.auth.browser"
)
def test_c23_unsafe_urls_are_refused_before_launch(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def fake_open(url: str, new: int = 0) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert not browser.safe_to_open(url)
    assert browser.open_system_browser(url) is False
    assert opened == []


def test_webbrowser_is_used_from_source(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, int]] = []

    def fake_open(url: str, new: int = 0) -> bool:
        opened.append((url, new))
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert browser.open_system_browser("https://api.kit.com/x")
    assert opened == [("https://api.kit.com/x", 2)]


@pytest.mark.expected_log(r"^no browser could be opened$", logger="kit_desktop.auth.browser")
def test_no_browser_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(url: str, new: int = 0) -> bool:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "open", failing)
    assert browser.open_system_browser("https://api.kit.com/x") is False


def test_frozen_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/bundle/_MEI123")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/usr/local/lib")
    monkeypatch.setenv("XDG_DATA_DIRS", "/opt/bundle/_MEI123/share")
    monkeypatch.delenv("XDG_DATA_DIRS_ORIG", raising=False)
    env = browser.original_environment()
    assert env["LD_LIBRARY_PATH"] == "/usr/local/lib"
    assert "LD_LIBRARY_PATH_ORIG" not in env
    assert "XDG_DATA_DIRS" not in env


def test_source_environment_is_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lib")
    assert browser.original_environment()["LD_LIBRARY_PATH"] == "/opt/lib"
