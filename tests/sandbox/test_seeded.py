"""A large practice account: ``subscriber_count`` / ``--subscribers N``, paged over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.__main__ import _parser
from tests.helpers import flow
from tests.helpers.openapi import validate_response

SIZE = 100_000


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(auto_approve=True, subscriber_count=SIZE) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def token(server: SandboxServer) -> str:
    return str(flow.connect(server.base_url)["access_token"])


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_100k_account_pages_through_every_subscriber(
    server: SandboxServer, token: str, order: str
) -> None:
    ids: list[int] = []
    query = {"status": "all", "per_page": "1000", "include_total_count": "true"}
    query["sort_order"] = order
    while True:
        body = flow.api_get(server.base_url, token, "/v4/subscribers", **query).json()
        if not ids:
            validate_response("GET", "/v4/subscribers", 200, body)
            assert body["pagination"]["total_count"] == SIZE
        ids += [s["id"] for s in body["subscribers"]]
        if not body["pagination"]["has_next_page"]:
            break
        query = {"status": "all", "per_page": "1000", "sort_order": order}
        query["after"] = body["pagination"]["end_cursor"]
    assert len(ids) == len(set(ids)) == SIZE
    assert ids == sorted(ids, reverse=order == "desc")


def test_made_subscribers_are_found_and_kept_when_changed(server: SandboxServer) -> None:
    store = server.api.store
    newest = store.subscriber_view("all", descending=True)[0]
    assert store.subscriber(newest["id"]) == newest
    assert store.subscriber_by_email(newest["email_address"].upper()) == newest
    changed, created = store.upsert_subscriber(newest["email_address"], {"first_name": "Zed"}, "")
    assert not created and changed["id"] == newest["id"]
    assert store.subscriber_view("all", descending=True)[0]["first_name"] == "Zed"
    added, created = store.upsert_subscriber("brand.new@example.com", {}, "active")
    assert created and added["id"] == newest["id"] + 1


def test_a_small_count_keeps_the_first_subscribers() -> None:
    with SandboxServer(subscriber_count=10) as sandbox:
        assert len(sandbox.api.store.subscribers()) == 10


def test_the_flag_is_parsed() -> None:
    assert _parser().parse_args(["--subscribers", "5000"]).subscribers == 5000
    assert _parser().parse_args([]).subscribers is None
