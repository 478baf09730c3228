"""The endpoint list, completion and presets; every preset GET works against the sandbox."""

from __future__ import annotations

import time

import pytest

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.endpoints import ENDPOINTS, PRESETS, Endpoint, matching
from kit_desktop.api.paths import api_url
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.sandbox import SandboxServer
from tests.helpers import flow

REQUIRED = {
    ("GET", "/v4/account"),
    ("GET", "/v4/subscribers"),
    ("GET", "/v4/subscribers/{id}"),
    ("GET", "/v4/subscribers/{id}/tags"),
    ("POST", "/v4/subscribers"),
    ("GET", "/v4/tags"),
    ("POST", "/v4/tags"),
    ("GET", "/v4/tags/{tag_id}/subscribers"),
    ("POST", "/v4/tags/{tag_id}/subscribers"),
    ("GET", "/v4/forms"),
    ("GET", "/v4/forms/{id}/subscribers"),
    ("POST", "/v4/forms/{id}/subscribers"),
    ("GET", "/v4/sequences"),
    ("GET", "/v4/sequences/{id}/subscribers"),
    ("POST", "/v4/sequences/{id}/subscribers"),
    ("GET", "/v4/broadcasts"),
    ("GET", "/v4/custom_fields"),
    ("GET", "/v4/email_templates"),
}


def paths(found: list[Endpoint]) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in found]


def test_the_list_covers_the_panel_endpoints_once_each() -> None:
    pairs = paths(list(ENDPOINTS))
    assert set(pairs) >= REQUIRED
    assert len(pairs) == len(set(pairs))
    assert all(e.summary and len(e.summary) < 40 for e in ENDPOINTS)
    assert all(bool(e.example_body) == (e.method == "POST") for e in ENDPOINTS)


def test_every_path_passes_the_origin_check_once_filled_in() -> None:
    for endpoint in ENDPOINTS:
        filled = endpoint.path.replace("{id}", "1").replace("{tag_id}", "2")
        assert api_url("https://api.kit.com", filled).startswith("https://api.kit.com/v4/")


def test_presets() -> None:
    assert PRESETS["List subscribers"] == ("GET", "/v4/subscribers")
    assert PRESETS["Create a tag"] == ("POST", "/v4/tags")
    assert all("{" not in path for _, path in PRESETS.values())
    with pytest.raises(TypeError):
        PRESETS["x"] = ("GET", "/v4/x")  # type: ignore[index]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/v4/sub", [("GET", "/v4/subscribers"), ("GET", "/v4/subscribers/{id}")]),
        ("POST /v4/ta", [("POST", "/v4/tags"), ("POST", "/v4/tags/{tag_id}/subscribers")]),
        ("/v4/subscribers/12/", [("GET", "/v4/subscribers/{id}/tags")]),
        ("/V4/FORMS?status=all", [("GET", "/v4/forms"), ("GET", "/v4/forms/{id}/subscribers")]),
        ("custom", [("GET", "/v4/custom_fields")]),
        ("/v5", []),
    ],
)
def test_matching_puts_prefixes_first(typed: str, expected: list[tuple[str, str]]) -> None:
    assert paths(matching(typed))[: len(expected)] == expected
    if not expected:
        assert matching(typed) == []


def test_matching_nothing_typed_lists_everything() -> None:
    assert matching("") == list(ENDPOINTS)
    assert paths(matching("tags"))[:3] == [
        ("GET", "/v4/tags"),
        ("POST", "/v4/tags"),
        ("GET", "/v4/tags/{tag_id}/subscribers"),
    ]


def test_every_preset_get_answers_200_from_the_sandbox(sandbox: SandboxServer) -> None:
    settings = Settings().with_sandbox(sandbox.base_url)
    tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
    tokens.adopt(TokenSet.from_response(flow.connect(sandbox.base_url), received_at=time.time()))
    client = KitApiClient(settings, tokens)
    for summary, (method, path) in PRESETS.items():
        if method == "GET":
            assert client.request(method, path).status == 200, summary
