"""Every endpoint the request panel offers is served by the sandbox, in Kit's documented shape.

A later endpoint added to :data:`kit_desktop.api.endpoints.ENDPOINTS` fails here until the
sandbox serves it and a schema for it is vendored (``kit_v4_schemas*.json``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kit_desktop.api.client import KitApiClient
from kit_desktop.api.endpoints import ENDPOINTS, PRESETS, Endpoint
from kit_desktop.api.pipeline import check_request, compose_request, request_body
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.store import KINDS, Kind
from tests.helpers import flow
from tests.helpers.openapi import EXTRA_FILE, schema_key, schema_source, validate_answer

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
UTM = ("source", "medium", "campaign", "term", "content")


@pytest.fixture
def client() -> Iterator[tuple[SandboxServer, KitApiClient]]:
    with SandboxServer(auto_approve=True) as sandbox:
        settings = Settings().with_sandbox(sandbox.base_url)
        tokens = TokenManager(OAuthClient(settings), MemoryTokenStore())
        tokens.adopt(
            TokenSet.from_response(flow.connect(sandbox.base_url), received_at=time.time())
        )
        yield sandbox, KitApiClient(settings, tokens)


def practice_id(sandbox: SandboxServer, resource: str) -> int:
    """A real id from the practice data for ``/v4/<resource>/{...}``, one with members.

    Raises:
        pytest.fail: The practice data has nothing to fill it with (a new kind of endpoint).
    """
    store = sandbox.api.store
    if resource == "subscribers":
        return int(next(s["id"] for s in store.subscribers() if store.taggings_of(s["id"])))
    if resource in KINDS:
        kind: Kind = resource
        owners = store.tags() if kind == "tags" else getattr(sandbox.api.data, kind)
        ids = [o["id"] for o in owners if o.get("active", True)]  # sequences: active ones
        return int(max(ids, key=lambda owner: len(store.members(kind, owner))))
    items: list[dict[str, Any]] = getattr(sandbox.api.data, resource, [])
    if not items:
        pytest.fail(f"No practice data to fill /v4/{resource}/{{...}}: teach the sandbox")
    return int(items[0]["id"])


def filled(sandbox: SandboxServer, endpoint: Endpoint) -> str:
    """The endpoint's path with each ``{name}`` replaced by a real id of the resource before it."""
    parts = endpoint.path.split("/")
    for index, part in enumerate(parts):
        if PLACEHOLDER.fullmatch(part):
            parts[index] = str(practice_id(sandbox, parts[index - 1]))
    return "/".join(parts)


def send(kit: KitApiClient, method: str, path: str, body_text: str) -> tuple[int, Any]:
    """Send as the panel and the ``request`` command do: compose, check, then the client."""
    request = compose_request(method, path, body_text=body_text)
    check_request(request, kit.origin)
    response = kit.request(request.method, request.path, json_body=request_body(request))
    return response.status, response.json()


def test_every_panel_endpoint_has_a_vendored_schema_with_its_source() -> None:
    for endpoint in ENDPOINTS:
        status = 201 if endpoint.method == "POST" else 200
        key = schema_key(endpoint.method, endpoint.path, status)
        assert schema_source(key), key


def test_every_panel_endpoint_answers_2xx_in_kits_shape(
    client: tuple[SandboxServer, KitApiClient],
) -> None:
    sandbox, kit = client
    # The subscribers the example bodies name must exist first, as on Kit ("The subscriber
    # being tagged must already exist"): add them the way a creator would.
    emails = {
        json.loads(e.example_body).get("email_address")
        for e in ENDPOINTS
        if e.example_body and e.path != "/v4/subscribers"
    }
    answered: dict[str, int] = {}
    reads = [e for e in ENDPOINTS if e.method == "GET"]
    writes = [e for e in ENDPOINTS if e.method != "GET"]
    for endpoint in reads + writes:  # reads first, on the practice data as seeded
        if endpoint is writes[0]:
            for email in sorted(e for e in emails if e):
                body = json.dumps({"email_address": email})
                assert send(kit, "POST", "/v4/subscribers", body)[0] in (200, 201)
        path = filled(sandbox, endpoint)
        status, body = send(kit, endpoint.method, path, endpoint.example_body)
        assert 200 <= status < 300, f"{endpoint.method} {path}: {status} {body}"
        validate_answer(endpoint.method, path, status, body)
        answered[f"{endpoint.method} {endpoint.path}"] = status
    assert len(answered) == len(ENDPOINTS)


def test_the_add_or_update_preset_succeeds_in_practice_mode(
    client: tuple[SandboxServer, KitApiClient],
) -> None:
    _, kit = client
    method, path = PRESETS["Add or update a subscriber"]
    example = next(e for e in ENDPOINTS if (e.method, e.path) == (method, path)).example_body
    status, body = send(kit, method, path, example)
    assert status == 201, body
    validate_answer(method, path, status, body)
    assert body["subscriber"]["email_address"] == json.loads(example)["email_address"]
    again, body = send(kit, method, path, example)
    assert again == 200, "the second time it updates the same subscriber"
    validate_answer(method, path, again, body)
    listed = kit.request("GET", "/v4/subscribers", query=[("per_page", "1")]).json()
    assert listed["subscribers"][0]["id"] == body["subscriber"]["id"]


def test_every_preset_succeeds_in_practice_mode(
    client: tuple[SandboxServer, KitApiClient],
) -> None:
    _, kit = client
    for summary, (method, path) in PRESETS.items():
        example = next(e for e in ENDPOINTS if e.summary == summary).example_body
        status, body = send(kit, method, path, example)
        assert 200 <= status < 300, f"{summary}: {status} {body}"
        validate_answer(method, path, status, body)


# --- the hand-kept schemas ------------------------------------------------------------------


def test_each_hand_kept_schema_names_its_kit_page_and_place_in_kits_document() -> None:
    extra = json.loads(EXTRA_FILE.read_text(encoding="utf-8"))
    entries = {key: entry for key, entry in extra.items() if not key.startswith("_")}
    assert entries and extra["_source"]["copied_from"].startswith("https://github.com/")
    for key, entry in entries.items():
        method, template, status = key.split(" ")
        assert entry["source"].startswith("https://developers.kit.com/api-reference/"), key
        assert entry["spec"].endswith(f"paths.{template}.{method.lower()}.responses.{status}")
        assert set(entry) <= {"source", "spec", "schema", "example", "note"}, key
        validate_answer(method, template, int(status), entry["example"])


@pytest.mark.parametrize(
    ("path", "broken"),
    [
        ("/v4/forms/1/subscribers", {"referrer_utm_parameters": {"source": "x"}}),
        ("/v4/forms/1/subscribers", {"referrer": None}),
        ("/v4/tags/1/subscribers", {"tagged_at": None}),
        ("/v4/sequences/1/subscribers", {"added_at": 5}),
        ("/v4/sequences/1/subscribers", {"state": "gone"}),
    ],
)
def test_member_schemas_are_not_vacuous(path: str, broken: dict[str, Any]) -> None:
    member = {
        "id": 1,
        "first_name": None,
        "email_address": "a@example.com",
        "state": "active",
        "created_at": "2026-01-01T00:00:00Z",
        "tagged_at": "2026-01-01T00:00:00Z",
        "added_at": "2026-01-01T00:00:00Z",
        "fields": {"category": None},
        "referrer": "",
        "referrer_utm_parameters": dict.fromkeys(UTM, ""),
    }
    paging = {
        "has_previous_page": False,
        "has_next_page": False,
        "start_cursor": "WzFd",
        "end_cursor": "WzFd",
        "per_page": 500,
    }
    validate_answer("GET", path, 200, {"subscribers": [member], "pagination": paging})
    body = {"subscribers": [{**member, **broken}], "pagination": paging}
    with pytest.raises(AssertionError):
        validate_answer("GET", path, 200, body)


def test_a_create_answer_leaves_unset_fields_out(
    client: tuple[SandboxServer, KitApiClient],
) -> None:
    _, kit = client
    status, body = send(kit, "POST", "/v4/subscribers", '{"email_address": "x@example.com"}')
    assert status == 201 and body["subscriber"]["fields"] == {}, "unset fields are left out"
    broken = {"subscriber": {**body["subscriber"], "fields": {"city": None}}}
    with pytest.raises(AssertionError):  # Kit's 201 schema: field values are strings
        validate_answer("POST", "/v4/subscribers", 201, broken)
