"""The sandbox's seeded dataset: deterministic, realistic, and shaped like Kit's API."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox import server as server_module
from kit_desktop.sandbox.data import (
    DATA_AS_OF,
    DEFAULT_SEED,
    SUBSCRIBER_COUNT,
    SUBSCRIBER_STATE_COUNTS,
    Dataset,
    build_dataset,
    public_item,
)
from tests.helpers import flow
from tests.helpers.openapi import schema_keys, spec_examples, to_json_schema, validate_response
from tests.sandbox import extract_schemas

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LIST_RESOURCES = [
    "subscribers",
    "tags",
    "forms",
    "sequences",
    "broadcasts",
    "custom_fields",
    "email_templates",
]
EXAMPLE_DOMAINS = {"example.com", "example.org", "example.net"}


@pytest.fixture(scope="module")
def data() -> Dataset:
    return build_dataset()


def items(data: Dataset, resource: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = getattr(data, resource)
    return result


def list_body(resource: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        resource: [public_item(entry) for entry in entries],
        "pagination": {
            "has_previous_page": False,
            "has_next_page": False,
            "start_cursor": "WzFd",
            "end_cursor": "WzFd",
            "per_page": 500,
        },
    }


# --- determinism and cost ---------------------------------------------------------------------


def test_same_seed_gives_an_equal_dataset() -> None:
    assert build_dataset(7) == build_dataset(7)
    assert build_dataset() == build_dataset(2026)


def test_different_seeds_give_different_data() -> None:
    first, second = build_dataset(1), build_dataset(2)
    assert first != second
    assert first.subscribers != second.subscribers
    assert first.broadcasts != second.broadcasts


def test_each_build_is_a_fresh_copy() -> None:
    first = build_dataset()
    first.subscribers[0]["fields"]["category"] = "changed"
    first.tags.clear()
    assert build_dataset() != first


def test_the_sandbox_builds_its_data_once_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building is start-up work (bench/ times it): once per server, never again per request."""
    seeds: list[int] = []

    def counting(seed: int = DEFAULT_SEED) -> Dataset:
        seeds.append(seed)
        return build_dataset(seed)

    monkeypatch.setattr(server_module, "build_dataset", counting)
    with SandboxServer(auto_approve=True, seed=7) as server:
        assert seeds == [7]
        token = str(flow.connect(server.base_url)["access_token"])
        for resource in LIST_RESOURCES:
            answer = flow.api_get(server.base_url, token, f"/v4/{resource}", per_page="1000")
            assert answer.status_code == 200
        answer = flow.api_get(server.base_url, token, "/v4/subscribers", per_page="1000")
        built = {entry["id"]: public_item(entry) for entry in build_dataset(7).subscribers}
        served = answer.json()["subscribers"]
        assert served and all(built[entry["id"]] == entry for entry in served)
    assert seeds == [7]


def test_every_seed_builds_the_same_amount_of_data() -> None:
    """The work a build does is fixed: a seed changes the values, never how many there are."""
    sizes = {
        seed: {resource: len(items(build_dataset(seed), resource)) for resource in LIST_RESOURCES}
        for seed in (1, 2, DEFAULT_SEED)
    }
    assert sizes[1] == sizes[2] == sizes[DEFAULT_SEED]
    assert sizes[DEFAULT_SEED]["subscribers"] == SUBSCRIBER_COUNT


# --- subscribers ----------------------------------------------------------------------------


def test_subscribers_are_many_and_unique(data: Dataset) -> None:
    subscribers = data.subscribers
    assert len(subscribers) >= 1250
    ids = [s["id"] for s in subscribers]
    assert len(set(ids)) == len(ids)
    emails = [s["email_address"].lower() for s in subscribers]
    assert len(set(emails)) == len(emails)


def test_every_subscriber_state_is_present(data: Dataset) -> None:
    states = [s["state"] for s in data.subscribers]
    for state in ("active", "cancelled", "bounced", "complained", "inactive"):
        assert states.count(state) == SUBSCRIBER_STATE_COUNTS[state] > 0
    assert states.count("active") > len(states) / 2


def test_subscribers_look_real(data: Dataset) -> None:
    subscribers = data.subscribers
    names = [s["first_name"] for s in subscribers]
    assert 0 < names.count(None) < len(names) / 4
    assert len({name for name in names if name}) > 50
    for subscriber in subscribers:
        local, _, domain = subscriber["email_address"].partition("@")
        assert local
        assert domain in EXAMPLE_DOMAINS
    assert {s["created_at"][:4] for s in subscribers} == {"2023", "2024", "2025", "2026"}


def test_subscriber_fields_use_the_custom_field_keys(data: Dataset) -> None:
    keys = {field["key"] for field in data.custom_fields}
    assert "category" in keys  # Kit's schema requires fields.category
    for subscriber in data.subscribers:
        assert set(subscriber["fields"]) == keys
        assert isinstance(subscriber["fields"]["category"], str)


def test_subscriber_internal_dates_are_consistent(data: Dataset) -> None:
    for subscriber in data.subscribers:
        created, updated = subscriber["created_at"], subscriber["_updated_at"]
        cancelled = subscriber["_cancelled_at"]
        assert ISO_UTC.match(updated)
        assert created <= updated <= DATA_AS_OF
        if subscriber["state"] == "cancelled":
            assert cancelled is not None
            assert ISO_UTC.match(cancelled)
            assert created < cancelled <= updated
        else:
            assert cancelled is None


# --- every resource -------------------------------------------------------------------------


@pytest.mark.parametrize("resource", LIST_RESOURCES)
def test_ids_and_dates_increase_together(data: Dataset, resource: str) -> None:
    entries = items(data, resource)
    assert entries
    ids = [entry["id"] for entry in entries]
    assert all(isinstance(id_, int) and id_ > 0 for id_ in ids)
    assert ids == sorted(set(ids))
    if "created_at" in entries[0]:
        dates = [entry["created_at"] for entry in entries]
        assert all(ISO_UTC.match(date) for date in dates)
        assert dates == sorted(dates)
        assert dates[-1] <= DATA_AS_OF


@pytest.mark.parametrize(
    ("resource", "low", "high"),
    [
        ("tags", 20, 30),
        ("forms", 6, 10),
        ("sequences", 4, 6),
        ("broadcasts", 25, 35),
        ("custom_fields", 3, 6),
        ("email_templates", 3, 6),
    ],
)
def test_resource_counts(data: Dataset, resource: str, low: int, high: int) -> None:
    assert low <= len(items(data, resource)) <= high


def test_only_subscribers_and_forms_carry_internal_keys(data: Dataset) -> None:
    for resource in LIST_RESOURCES:
        internal = {key for entry in items(data, resource) for key in entry if key[0] == "_"}
        expected = {
            "subscribers": {"_updated_at", "_cancelled_at"},
            "forms": {"_status"},
        }.get(resource, set())
        assert internal == expected, resource


def test_forms_cover_types_and_statuses(data: Dataset) -> None:
    forms = data.forms
    assert {form["type"] for form in forms} == {"embed", "hosted"}
    assert {form["_status"] for form in forms} == {"active", "archived", "trashed"}
    for form in forms:
        assert form["archived"] == (form["_status"] == "archived")
        assert form["embed_url"].endswith(form["uid"])
        assert form["embed_js"] == form["embed_url"] + "/index.js"
    assert len({form["uid"] for form in forms}) == len(forms)


def test_broadcast_statuses_match_their_dates(data: Dataset) -> None:
    statuses = {b["status"] for b in data.broadcasts}
    assert statuses == {"draft", "scheduled", "sending", "completed", "aborted"}
    for broadcast in data.broadcasts:
        status, send_at = broadcast["status"], broadcast["send_at"]
        if status == "draft":
            assert send_at is None
        elif status == "scheduled":
            assert send_at > DATA_AS_OF
        else:
            assert send_at <= DATA_AS_OF
        if broadcast["public"]:
            assert status == "completed"
            assert broadcast["published_at"] == send_at
            assert broadcast["public_url"]
        else:
            assert broadcast["published_at"] is None
            assert broadcast["public_url"] is None


def test_references_point_at_existing_records(data: Dataset) -> None:
    templates = {t["id"]: t["name"] for t in data.email_templates}
    assert sum(t["is_default"] for t in data.email_templates) == 1
    for broadcast in data.broadcasts:
        template = broadcast["email_template"]
        assert templates[template["id"]] == template["name"]
    for sequence in data.sequences:
        assert sequence["email_template_id"] in (None, *templates)
    tag_ids = {tag["id"] for tag in data.tags}
    for broadcast in data.broadcasts:
        for group in broadcast["subscriber_filter"]:
            for condition in group["all"]:
                assert set(condition.get("ids", [])) <= tag_ids
    assert len({tag["name"].lower() for tag in data.tags}) == len(data.tags)


def test_account_is_the_sandbox_creator(data: Dataset) -> None:
    account = data.account["account"]
    assert account["name"] == "Sandbox Creator Studio"
    assert account["plan_type"] == "creator"
    assert set(account["timezone"]) == {"name", "friendly_name", "utc_offset"}
    defaults = [a for a in account["sending_addresses"] if a["is_default"]]
    assert len(defaults) == 1


def test_public_item_strips_internal_keys_without_touching_the_item(data: Dataset) -> None:
    subscriber = data.subscribers[0]
    before = copy.deepcopy(subscriber)
    public = public_item(subscriber)
    assert set(public) == {"id", "first_name", "email_address", "state", "created_at", "fields"}
    assert subscriber == before
    assert public_item(data.tags[0]) == data.tags[0]


# --- against Kit's schemas ------------------------------------------------------------------


@pytest.mark.parametrize("resource", LIST_RESOURCES)
def test_list_bodies_match_kits_schema(data: Dataset, resource: str) -> None:
    validate_response("GET", f"/v4/{resource}", 200, list_body(resource, items(data, resource)))


def test_account_body_matches_kits_schema(data: Dataset) -> None:
    validate_response("GET", "/v4/account", 200, data.account)


@pytest.mark.parametrize("status", [200, 201])
def test_tag_bodies_match_kits_schema(data: Dataset, status: int) -> None:
    validate_response("POST", "/v4/tags", status, {"tag": data.tags[0]})


def test_error_bodies_match_kits_schema() -> None:
    body = {"errors": ["The access token is invalid"]}
    for key in schema_keys():
        method, path, status = key.split(" ")
        if status == "401":
            validate_response(method, path, 401, body)
    validate_response("POST", "/v4/tags", 422, {"errors": ["Name can't be blank"]})


def test_the_specs_own_examples_pass() -> None:
    examples = spec_examples()
    assert set(examples) == set(schema_keys())
    for key, example in examples.items():
        method, path, status = key.split(" ")
        validate_response(method, path, int(status), example)


def test_every_list_endpoint_has_schemas() -> None:
    keys = set(schema_keys())
    for resource in ["account", *LIST_RESOURCES]:
        assert f"GET /v4/{resource} 200" in keys
        assert f"GET /v4/{resource} 401" in keys
    assert {"POST /v4/tags 200", "POST /v4/tags 201", "POST /v4/tags 422"} <= keys
    assert "GET /v4/subscribers 422" in keys


# --- the validator is not vacuous -----------------------------------------------------------


BROKEN_SUBSCRIBERS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    # (label, keys to set, keys to drop)
    ("first_name not a string", {"first_name": 5}, ()),
    ("email_address null", {"email_address": None}, ()),
    ("unknown state", {"state": "deleted"}, ()),
    ("id as a string", {"id": "101"}, ()),
    ("id as a bool", {"id": True}, ()),
    ("fields without category", {"fields": {"last_name": "Smith"}}, ()),
    ("category null", {"fields": {"category": None}}, ()),
    ("no created_at", {}, ("created_at",)),
]


@pytest.mark.parametrize(
    ("changes", "drop"),
    [pytest.param(changes, drop, id=label) for label, changes, drop in BROKEN_SUBSCRIBERS],
)
def test_validator_rejects_wrong_subscribers(
    data: Dataset, changes: dict[str, Any], drop: tuple[str, ...]
) -> None:
    good = public_item(data.subscribers[0])
    validate_response("GET", "/v4/subscribers", 200, list_body("subscribers", [good]))
    broken = {key: value for key, value in {**good, **changes}.items() if key not in drop}
    with pytest.raises(AssertionError, match="GET /v4/subscribers 200"):
        validate_response("GET", "/v4/subscribers", 200, list_body("subscribers", [broken]))


def test_validator_rejects_wrong_shapes(data: Dataset) -> None:
    cases: list[tuple[str, str, int, object]] = [
        ("GET", "/v4/tags", 200, {"tags": data.tags}),  # no pagination
        ("GET", "/v4/tags", 200, [data.tags]),
        ("GET", "/v4/account", 200, {"user": {"id": 1}, "account": data.account["account"]}),
        ("GET", "/v4/forms", 200, list_body("forms", [{**data.forms[0], "archived": "no"}])),
        ("POST", "/v4/tags", 422, {"errors": "Name can't be blank"}),
        ("GET", "/v4/broadcasts", 401, {}),
    ]
    for method, path, status, body in cases:
        with pytest.raises(AssertionError):
            validate_response(method, path, status, body)


def test_validator_message_says_where(data: Dataset) -> None:
    subscriber = {**public_item(data.subscribers[3]), "first_name": 5}
    body = list_body("subscribers", [public_item(data.subscribers[0]), subscriber])
    with pytest.raises(AssertionError) as caught:
        validate_response("GET", "/v4/subscribers?status=all", 200, body)
    assert "$.subscribers[1].first_name" in str(caught.value)


def test_validator_refuses_unknown_responses() -> None:
    with pytest.raises(KeyError):
        validate_response("GET", "/v4/purchases", 200, {})
    with pytest.raises(KeyError):
        validate_response("GET", "/v4/subscribers", 500, {})
    with pytest.raises(KeyError):
        validate_response("GET", "_source", 0, {})


def test_schema_copy_matches_the_shared_spec() -> None:
    """When the shared spec is around, the committed JSON must be what the script makes.

    Not a real part of the app (CI checks the committed copy): the spec lives outside this
    repository, beside it in a workspace, so this skips rather than fails where it is absent.
    """
    if not extract_schemas.SPEC.is_file():
        pytest.skip(f"{extract_schemas.SPEC} (outside this repository) is not on this machine")
    text = extract_schemas.SPEC.read_text(encoding="utf-8")
    committed = json.loads(extract_schemas.OUTPUT.read_text(encoding="utf-8"))
    assert committed == extract_schemas.extract(text)


def test_nullable_conversion() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert to_json_schema({"nullable": True}) == {"anyOf": [{}, {"type": "null"}]}
    nested = {"type": "object", "properties": {"a": {"type": "integer", "nullable": False}}}
    assert to_json_schema(nested) == {"type": "object", "properties": {"a": {"type": "integer"}}}
