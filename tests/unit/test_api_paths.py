"""The token only goes to the API origin: path and header checks (catalogue 55, 57, 62)."""

from __future__ import annotations

import pytest

from kit_desktop.api.paths import api_url, check_header
from kit_desktop.errors import UnsafeRequestError

ORIGIN = "https://api.kit.com"


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/v4/account", [], "https://api.kit.com/v4/account"),
        (
            "/v4/subscribers?per_page=5",
            [("after", "WzEzXQ==")],
            "https://api.kit.com/v4/subscribers?per_page=5&after=WzEzXQ%3D%3D",
        ),
        ("  /v4/tags  ", [], "https://api.kit.com/v4/tags"),
        ("/v4/subscribers/12/tags", [], "https://api.kit.com/v4/subscribers/12/tags"),
    ],
)
def test_paths_under_v4_are_joined_to_the_origin(
    path: str, query: list[tuple[str, str]], expected: str
) -> None:
    assert api_url(ORIGIN, path, query) == expected


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/x",
        "https://evil.example/x",
        "https://api.kit.com@evil.example/",
        "http://api.kit.com/v4/x",
        "../../oauth/token",
        "/v4/../oauth/token",
        "/v4/%2e%2e/oauth/token",
        "/v4/%252e%252e/oauth/token",
        "/v4/..%2Foauth/token",
        "https://api.kit.com.evil.example/",
        "/v4\\..\\oauth",
        "/v4//evil.example",
        "/v4/account#frag",
        "/v4/a b",
        "/oauth/token",
        "user@host",
        "v4/account",
        "/v4/x%40evil.example",
        "javascript:alert(1)",
    ],
)
def test_e55_escapes_are_refused(path: str) -> None:
    with pytest.raises(UnsafeRequestError) as caught:
        api_url(ORIGIN, path)
    assert caught.value.user_message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Authorization", "Bearer x"),
        ("authorization", "x"),
        ("X-Test", "a\r\nX-Evil: 1"),
        ("X-Test", "a\nb"),
        ("Bad Name", "x"),
        ("X:Y", "x"),
    ],
)
def test_e57_header_overrides_and_injection_are_refused(name: str, value: str) -> None:
    with pytest.raises(UnsafeRequestError):
        check_header(name, value)


def test_plain_headers_are_fine() -> None:
    check_header("X-Request-Id", "abc-123")
