"""The sandbox's subscriber writes and membership lists over real HTTP, checked against Kit.

Every answer is validated against Kit's documented schema for it (``kit_v4_schemas.json``
and ``kit_v4_schemas_extra.json``); writes must show up in the lists that Kit would change.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.data import build_dataset
from kit_desktop.sandbox.store import KINDS, AccountStore, Kind, seed_memberships
from tests.helpers import flow
from tests.helpers.openapi import validate_answer

#: Kit's path for each kind's members, and the timestamp its items carry.
MEMBERS = {
    "tags": ("/v4/tags/{}/subscribers", "tagged_at", "tagged"),
    "forms": ("/v4/forms/{}/subscribers", "added_at", "added"),
    "sequences": ("/v4/sequences/{}/subscribers", "added_at", "added"),
}
_numbers = itertools.count(1)


class Kit:
    """Sends requests to the sandbox and checks each answer against Kit's schema."""

    def __init__(self, server: SandboxServer, token: str) -> None:
        self.server = server
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(
        self, method: str, path: str, body: object = None, *, raw: str | None = None, **params: str
    ) -> requests.Response:
        """Send one request; a JSON answer is validated against Kit's schema for its status."""
        response = self.session.request(
            method,
            self.server.base_url + path,
            params=params,
            json=body if raw is None else None,
            data=raw,
            timeout=10,
        )
        if response.status_code != 400:  # 400: the body could not be read; Kit documents none
            validate_answer(method, path, response.status_code, response.json())
        return response

    def new_subscriber(self, **extra: Any) -> dict[str, Any]:
        email = f"writer{next(_numbers)}@example.net"
        body = {"email_address": email, "first_name": "Writer", **extra}
        response = self.call("POST", "/v4/subscribers", body)
        assert response.status_code == 201, response.text
        subscriber: dict[str, Any] = response.json()["subscriber"]
        return subscriber


@pytest.fixture(scope="module")
def kit() -> Iterator[Kit]:
    """One practice Kit for the module, connected; its writes add up from test to test."""
    with SandboxServer(auto_approve=True) as sandbox:
        yield Kit(sandbox, str(flow.connect(sandbox.base_url)["access_token"]))


@pytest.fixture
def server(kit: Kit) -> SandboxServer:
    return kit.server


def busiest(server: SandboxServer, kind: Kind) -> int:
    """The tag, form or (active) sequence with the most members."""
    store = server.api.store
    owners = {
        "tags": [tag["id"] for tag in store.tags()],
        "forms": [form["id"] for form in server.api.data.forms],
        "sequences": [s["id"] for s in server.api.data.sequences if s["active"]],
    }[kind]
    return int(max(owners, key=lambda owner: len(store.members(kind, owner))))


# --- POST /v4/subscribers -------------------------------------------------------------------


def test_create_then_update_by_email(kit: Kit) -> None:
    body = {
        "email_address": "new.reader@example.org",
        "first_name": "New",
        "fields": {"city": "Lisbon", "category": "Reader"},
    }
    created = kit.call("POST", "/v4/subscribers", body)
    assert created.status_code == 201
    subscriber = created.json()["subscriber"]
    assert (subscriber["first_name"], subscriber["state"]) == ("New", "active")
    assert subscriber["fields"] == {"city": "Lisbon", "category": "Reader"}
    assert "warnings" not in created.json()

    update = {
        "email_address": "NEW.Reader@example.org",
        "first_name": "Renamed",
        "state": "bounced",
    }
    updated = kit.call("POST", "/v4/subscribers", {**update, "fields": {"company": "Acme"}})
    assert updated.status_code == 200
    again = updated.json()["subscriber"]
    assert again["id"] == subscriber["id"] and again["created_at"] == subscriber["created_at"]
    assert again["first_name"] == "Renamed"
    assert again["state"] == "active", "Kit does not change the state of an existing subscriber"
    assert again["fields"] == {"city": "Lisbon", "category": "Reader", "company": "Acme"}

    listed = kit.call("GET", "/v4/subscribers", email_address="new.reader@example.org")
    assert [s["id"] for s in listed.json()["subscribers"]] == [subscriber["id"]]
    one = kit.call("GET", f"/v4/subscribers/{subscriber['id']}").json()["subscriber"]
    assert one["first_name"] == "Renamed" and one["fields"]["company"] == "Acme"


def test_a_new_subscriber_is_first_in_the_list(kit: Kit) -> None:
    before = kit.call("GET", "/v4/subscribers", include_total_count="true").json()
    made = kit.new_subscriber(fields={"category": "Reader"})
    after = kit.call("GET", "/v4/subscribers", per_page="1", include_total_count="true").json()
    assert after["subscribers"][0]["id"] == made["id"]
    assert after["pagination"]["total_count"] == before["pagination"]["total_count"] + 1


def test_state_and_unknown_fields_on_create(kit: Kit) -> None:
    # With a category: the shared subset's GET /v4/subscribers schema requires one.
    fields = {"shoe": "9", "category": "Reader"}
    body = {"email_address": "quiet@example.org", "state": "inactive", "fields": fields}
    created = kit.call("POST", "/v4/subscribers", body)
    assert created.status_code == 201
    assert created.json()["subscriber"]["state"] == "inactive"
    assert created.json()["subscriber"]["first_name"] is None
    assert created.json()["warnings"] == ["Custom field 'shoe' does not exist and was ignored"]
    inactive = kit.call("GET", "/v4/subscribers", status="inactive", per_page="1").json()
    assert inactive["subscribers"][0]["email_address"] == "quiet@example.org"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Email address can't be blank"),
        ({"email_address": "  "}, "Email address can't be blank"),
        ({"email_address": 7}, "Email address can't be blank"),
        ({"email_address": "not-an-email"}, "Email address is invalid"),
        ({"email_address": "a@b.example", "first_name": 5}, "First name is invalid"),
        ({"email_address": "a@b.example", "state": "deleted"}, "State must be one of"),
        ({"email_address": "a@b.example", "fields": ["city"]}, "Fields must be an object"),
        ({"email_address": "a@b.example", "fields": {"city": {}}}, "must be strings"),
        (["a@b.example"], "Email address can't be blank"),
    ],
)
def test_create_refusals_are_422_in_kits_shape(
    kit: Kit, server: SandboxServer, body: object, message: str
) -> None:
    before = len(server.api.store.subscribers())
    response = kit.call("POST", "/v4/subscribers", body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert message in error
    assert len(server.api.store.subscribers()) == before


def test_a_body_that_is_not_json_is_400(kit: Kit) -> None:
    for path in ("/v4/subscribers", "/v4/tags/11/subscribers"):
        response = kit.call("POST", path, raw="{nope")
        assert response.status_code == 400 and response.json()["errors"]


# --- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_member_lists_are_newest_first_with_kits_filters(
    kit: Kit, server: SandboxServer, kind: Kind
) -> None:
    template, at, since = MEMBERS[kind]
    path = template.format(busiest(server, kind))
    active = kit.call("GET", path, include_total_count="true").json()
    items = active["subscribers"]
    assert items and {s["state"] for s in items} == {"active"}
    times = [s[at] for s in items]
    assert times == sorted(times, reverse=True)
    everyone = kit.call("GET", path, status="all", per_page="1000").json()["subscribers"]
    assert len(everyone) >= active["pagination"]["total_count"]
    cut = times[len(times) // 2][:10]
    later = kit.call("GET", path, **{f"{since}_after": cut}).json()["subscribers"]
    assert later and all(s[at] > cut for s in later)
    older = kit.call("GET", path, created_before="2024-01-01").json()["subscribers"]
    assert all(s["created_at"] < "2024-01-01" for s in older)
    assert kit.call("GET", path, status="gone").status_code == 422
    assert kit.call("GET", path, **{f"{since}_after": "soon"}).status_code == 422


@pytest.mark.parametrize("kind", KINDS)
def test_member_lists_page_both_ways(kit: Kit, server: SandboxServer, kind: Kind) -> None:
    path = MEMBERS[kind][0].format(busiest(server, kind))
    whole = [s["id"] for s in kit.call("GET", path, per_page="1000").json()["subscribers"]]
    pages, cursor = [], None
    while True:
        query = {"per_page": "7", **({"after": cursor} if cursor else {})}
        body = kit.call("GET", path, **query).json()
        pages.append([s["id"] for s in body["subscribers"]])
        if not body["pagination"]["has_next_page"]:
            break
        cursor = body["pagination"]["end_cursor"]
    assert [i for page in pages for i in page] == whole
    back = kit.call("GET", path, per_page="7", before=body["pagination"]["start_cursor"]).json()
    assert [s["id"] for s in back["subscribers"]] == pages[-2]
    assert back["pagination"]["has_previous_page"] == (len(pages) > 2)


def test_a_subscribers_tags(kit: Kit, server: SandboxServer) -> None:
    store = server.api.store
    subscriber = next(s for s in store.subscribers() if len(store.taggings_of(s["id"])) >= 3)
    body = kit.call("GET", f"/v4/subscribers/{subscriber['id']}/tags").json()
    assert len(body["tags"]) == len(store.taggings_of(subscriber["id"]))
    times = [t["tagged_at"] for t in body["tags"]]
    assert times == sorted(times, reverse=True)
    first = kit.call("GET", f"/v4/subscribers/{subscriber['id']}/tags", per_page="1").json()
    cursor = json.loads(base64.b64decode(first["pagination"]["end_cursor"]))
    assert isinstance(cursor, list) and first["pagination"]["has_next_page"]


def test_lists_come_newest_first_as_in_kits_examples(kit: Kit) -> None:
    for name, newest_first in [
        ("tags", True),
        ("forms", True),
        ("broadcasts", True),
        ("email_templates", True),
        ("subscribers", True),
        ("sequences", False),
        ("custom_fields", False),
    ]:
        params = {"status": "all"} if name in ("forms", "subscribers") else {}
        ids = [item["id"] for item in kit.call("GET", f"/v4/{name}", **params).json()[name]]
        assert ids == sorted(ids, reverse=newest_first), name


def test_tags_page_both_ways_newest_first(kit: Kit) -> None:
    whole = [t["id"] for t in kit.call("GET", "/v4/tags").json()["tags"]]
    first = kit.call("GET", "/v4/tags", per_page="10").json()
    second = kit.call("GET", "/v4/tags", per_page="10", after=first["pagination"]["end_cursor"])
    ids = [t["id"] for t in first["tags"]] + [t["id"] for t in second.json()["tags"]]
    assert ids == whole[:20]
    back = kit.call(
        "GET", "/v4/tags", per_page="10", before=second.json()["pagination"]["start_cursor"]
    )
    assert [t["id"] for t in back.json()["tags"]] == whole[:10]
    created = kit.call("POST", "/v4/tags", {"name": f"Fresh tag {next(_numbers)}"})
    assert kit.call("GET", "/v4/tags", per_page="1").json()["tags"][0] == created.json()["tag"]


def test_unknown_ids_are_404(kit: Kit) -> None:
    for kind in KINDS:
        response = kit.call("GET", MEMBERS[kind][0].format(999999))
        assert response.status_code == 404 and response.json() == {"errors": ["Not Found"]}
    unknown = kit.call("GET", "/v4/subscribers/999999999/tags")
    assert unknown.status_code == 404 and unknown.json() == {"errors": ["Not Found"]}


# --- adding to tags, forms and sequences ----------------------------------------------------


def test_tagging_shows_in_both_lists(kit: Kit, server: SandboxServer) -> None:
    subscriber = kit.new_subscriber()
    tag = kit.call("POST", "/v4/tags", {"name": f"Tagged in a test {next(_numbers)}"}).json()["tag"]
    path = f"/v4/tags/{tag['id']}/subscribers"
    assert kit.call("GET", path).json()["subscribers"] == []
    email = subscriber["email_address"].upper()
    first = kit.call("POST", path, {"email_address": email})
    assert first.status_code == 201
    tagged = first.json()["subscriber"]
    assert (
        tagged["id"] == subscriber["id"] and tagged["email_address"] == subscriber["email_address"]
    )
    again = kit.call("POST", path, {"email_address": subscriber["email_address"]})
    assert again.status_code == 200
    assert again.json()["subscriber"]["tagged_at"] == tagged["tagged_at"]
    listed = kit.call("GET", path).json()["subscribers"]
    assert [s["id"] for s in listed] == [subscriber["id"]]
    old_tag = busiest(server, "tags")
    old_path = f"/v4/tags/{old_tag}/subscribers"
    assert kit.call("POST", old_path, {"email_address": email}).status_code == 201
    newest = kit.call("GET", old_path, per_page="1").json()["subscribers"][0]
    assert newest["id"] == subscriber["id"]
    tags = kit.call("GET", f"/v4/subscribers/{subscriber['id']}/tags").json()["tags"]
    assert [t["id"] for t in tags] == [old_tag, tag["id"]], "newest tagging first"


def test_adding_to_a_form_keeps_the_referrer(kit: Kit, server: SandboxServer) -> None:
    subscriber = kit.new_subscriber()
    form = busiest(server, "forms")
    path = f"/v4/forms/{form}/subscribers"
    referrer = "https://www.example.com/launch?utm_source=podcast&utm_campaign=spring"
    body = {"email_address": subscriber["email_address"], "referrer": referrer}
    added = kit.call("POST", path, body)
    assert added.status_code == 201
    member = added.json()["subscriber"]
    assert member["referrer"] == referrer
    assert member["referrer_utm_parameters"] == {
        "source": "podcast",
        "medium": "",
        "campaign": "spring",
        "term": "",
        "content": "",
    }
    assert kit.call("POST", path, {"email_address": subscriber["email_address"]}).status_code == 200
    newest = kit.call("GET", path, per_page="1").json()["subscribers"][0]
    assert newest["id"] == subscriber["id"] and newest["referrer"] == referrer
    plain = kit.new_subscriber()
    bare = kit.call("POST", path, {"email_address": plain["email_address"], "referrer": None})
    assert bare.status_code == 201 and bare.json()["subscriber"]["referrer"] == ""


def test_adding_to_a_sequence_counts(kit: Kit, server: SandboxServer) -> None:
    subscriber = kit.new_subscriber()
    sequence = busiest(server, "sequences")

    def count() -> int:
        sequences = kit.call("GET", "/v4/sequences").json()["sequences"]
        return int(next(s for s in sequences if s["id"] == sequence)["subscriber_count"])

    before = count()
    path = f"/v4/sequences/{sequence}/subscribers"
    assert kit.call("POST", path, {"email_address": subscriber["email_address"]}).status_code == 201
    assert kit.call("POST", path, {"email_address": subscriber["email_address"]}).status_code == 200
    assert count() == before + 1
    assert kit.call("GET", path, per_page="1").json()["subscribers"][0]["id"] == subscriber["id"]


def test_an_inactive_sequence_refuses(kit: Kit, server: SandboxServer) -> None:
    subscriber = kit.new_subscriber()
    inactive = next(s["id"] for s in server.api.data.sequences if not s["active"])
    response = kit.call(
        "POST",
        f"/v4/sequences/{inactive}/subscribers",
        {"email_address": subscriber["email_address"]},
    )
    assert response.status_code == 422
    assert response.json() == {"errors": ["Sequence is inactive"]}


@pytest.mark.parametrize(
    ("kind", "doing"),
    [
        ("tags", "tag subscriber"),
        ("forms", "add subscriber to form"),
        ("sequences", "add subscriber to sequence"),
    ],
)
def test_adding_refusals(kit: Kit, server: SandboxServer, kind: Kind, doing: str) -> None:
    path = MEMBERS[kind][0].format(busiest(server, kind))
    missing = kit.call("POST", path, {})
    assert missing.status_code == 422
    assert missing.json() == {
        "errors": [f"Either subscriber id or email address is required to {doing}"]
    }
    stranger = kit.call("POST", path, {"email_address": "nobody.here@example.com"})
    assert stranger.status_code == 404 and stranger.json() == {"errors": ["Not Found"]}
    unknown = kit.call("POST", MEMBERS[kind][0].format(999999), {"email_address": "x@example.com"})
    assert unknown.status_code == 404
    assert kit.call("DELETE", path).status_code == 404


def test_writes_from_many_threads_stay_consistent(kit: Kit, server: SandboxServer) -> None:
    tag = kit.call("POST", "/v4/tags", {"name": "Thread test"}).json()["tag"]
    email = kit.new_subscriber()["email_address"]
    statuses: list[int] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        mine = Kit(server, kit.token)
        for number in range(5):
            body = {"email_address": f"thread{worker}.{number}@example.org"}
            assert mine.call("POST", "/v4/subscribers", body).status_code == 201
        tagged = mine.call("POST", f"/v4/tags/{tag['id']}/subscribers", {"email_address": email})
        with lock:
            statuses.append(tagged.status_code)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [201]
    made = [s for s in server.api.store.subscribers() if s["email_address"].startswith("thread")]
    assert len(made) == 30 and len({s["id"] for s in made}) == 30
    assert len(kit.call("GET", f"/v4/tags/{tag['id']}/subscribers").json()["subscribers"]) == 1


# --- the seeded memberships -----------------------------------------------------------------


def test_memberships_are_seeded_deterministically_and_plausibly() -> None:
    data = build_dataset()
    assert seed_memberships(data) == seed_memberships(build_dataset())
    seeded = seed_memberships(data)
    created = {s["id"]: s["created_at"] for s in data.subscribers}
    for kind in KINDS:
        members = seeded[kind]
        assert members, kind
        assert [m.id for m in members] == list(range(1, len(members) + 1))
        assert all(m.at >= created[m.subscriber_id] for m in members)
        pairs = [(m.owner, m.subscriber_id) for m in members]
        assert len(pairs) == len(set(pairs)), f"{kind}: someone joined twice"
    store = AccountStore(data)
    for sequence in store.sequences():
        original = next(s for s in data.sequences if s["id"] == sequence["id"])
        assert sequence["subscriber_count"] == original["subscriber_count"]
