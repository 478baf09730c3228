"""The sandbox's API v4 over real HTTP: shapes, pagination, auth, tags, limits, faults."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests

from kit_desktop.sandbox import Fault, SandboxServer
from tests.helpers import flow
from tests.helpers.openapi import validate_response

LISTS = [
    "subscribers",
    "tags",
    "forms",
    "sequences",
    "broadcasts",
    "custom_fields",
    "email_templates",
]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(auto_approve=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def token(server: SandboxServer) -> str:
    return str(flow.connect(server.base_url)["access_token"])


def get(server: SandboxServer, token: str, path: str, **params: str) -> requests.Response:
    return flow.api_get(server.base_url, token, path, **params)


def test_account_matches_kit_schema(server: SandboxServer, token: str) -> None:
    response = get(server, token, "/v4/account")
    assert response.status_code == 200
    validate_response("GET", "/v4/account", 200, response.json())
    assert response.json()["account"]["name"]


@pytest.mark.parametrize("name", LISTS)
def test_every_list_matches_kit_schema(server: SandboxServer, token: str, name: str) -> None:
    response = get(server, token, f"/v4/{name}", include_total_count="true")
    assert response.status_code == 200
    body = response.json()
    validate_response("GET", f"/v4/{name}", 200, body)
    assert body[name], f"{name} should not be empty"
    assert body["pagination"]["total_count"] >= len(body[name])
    assert all(not key.startswith("_") for item in body[name] for key in item)


@pytest.mark.parametrize("name", LISTS)
def test_every_list_answers_401_with_kit_schema(server: SandboxServer, name: str) -> None:
    response = get(server, "not-a-token", f"/v4/{name}")
    assert response.status_code == 401
    assert response.json() == {"errors": ["The access token is invalid"]}
    validate_response("GET", f"/v4/{name}", 401, response.json())


def _walk(
    server: SandboxServer, token: str, direction: str, cursor: str | None, **params: str
) -> list[list[int]]:
    pages: list[list[int]] = []
    while True:
        query = dict(params)
        if cursor:
            query[direction] = cursor
        body = get(server, token, "/v4/subscribers", **query).json()
        pages.append([s["id"] for s in body["subscribers"]])
        info = body["pagination"]
        more = info["has_next_page"] if direction == "after" else info["has_previous_page"]
        if not more:
            return pages
        cursor = info["end_cursor"] if direction == "after" else info["start_cursor"]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_pagination_walks_all_subscribers_both_ways(
    server: SandboxServer, token: str, order: str
) -> None:
    everyone = get(
        server,
        token,
        "/v4/subscribers",
        status="all",
        per_page="1000",
        include_total_count="true",
        sort_order=order,
    ).json()
    total = everyone["pagination"]["total_count"]
    assert total >= 1200
    forward = _walk(server, token, "after", None, status="all", per_page="97", sort_order=order)
    ids = [i for page in forward for i in page]
    assert len(ids) == total and len(set(ids)) == total
    assert ids == sorted(ids, reverse=order == "desc")
    backward = _walk(
        server,
        token,
        "before",
        _cursor_beyond(ids[-1], order),
        status="all",
        per_page="97",
        sort_order=order,
    )
    back_ids = [i for page in reversed(backward) for i in page]
    assert back_ids == ids


def _cursor_beyond(last_id: int, order: str) -> str:
    """A cursor just past the last id, so paging backwards from it starts with the last item."""
    beyond = last_id - 1 if order == "desc" else last_id + 1
    return base64.b64encode(json.dumps([beyond]).encode()).decode()


def test_page_flags_follow_kit_with_per_page_one(server: SandboxServer, token: str) -> None:
    first = get(server, token, "/v4/subscribers", per_page="1").json()["pagination"]
    assert (first["has_previous_page"], first["has_next_page"]) == (False, True)
    second = get(server, token, "/v4/subscribers", per_page="1", after=first["end_cursor"]).json()[
        "pagination"
    ]
    assert (second["has_previous_page"], second["has_next_page"]) == (True, True)
    back = get(
        server, token, "/v4/subscribers", per_page="1", before=second["start_cursor"]
    ).json()["pagination"]
    assert (back["has_previous_page"], back["has_next_page"]) == (False, True)
    assert back["start_cursor"] == first["start_cursor"]


def test_cursors_are_base64_json_and_defaults(server: SandboxServer, token: str) -> None:
    body = get(server, token, "/v4/subscribers").json()
    info = body["pagination"]
    assert info["per_page"] == 500 and len(body["subscribers"]) == 500
    assert "total_count" not in info
    assert json.loads(base64.b64decode(info["start_cursor"])) == [body["subscribers"][0]["id"]]
    ids = [s["id"] for s in body["subscribers"]]
    assert ids == sorted(ids, reverse=True), "Kit defaults to descending ids"
    assert {s["state"] for s in body["subscribers"]} == {"active"}


def test_include_total_count_accepts_1_and_0(server: SandboxServer, token: str) -> None:
    assert (
        "total_count"
        in get(server, token, "/v4/tags", include_total_count="1").json()["pagination"]
    )
    assert (
        "total_count"
        not in get(server, token, "/v4/tags", include_total_count="0").json()["pagination"]
    )


def test_empty_page_has_null_cursors(server: SandboxServer, token: str) -> None:
    body = get(server, token, "/v4/subscribers", email_address="nobody@nowhere.example").json()
    assert body["subscribers"] == []
    assert body["pagination"]["start_cursor"] is None
    assert body["pagination"]["has_next_page"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "1001"},
        {"per_page": "0"},
        {"per_page": "ten"},
        {"after": "not base64!"},
        {"after": base64.b64encode(b'{"a": 1}').decode()},
        {"after": "WzFd", "before": "WzFd"},
        {"include_total_count": "maybe"},
        {"status": "sleeping"},
        {"sort_field": "email"},
        {"sort_order": "sideways"},
        {"sort_field": "cancelled_at"},
        {"created_after": "last tuesday"},
    ],
)
def test_bad_parameters_get_422(server: SandboxServer, token: str, params: dict[str, str]) -> None:
    response = get(server, token, "/v4/subscribers", **params)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors and all(isinstance(e, str) for e in errors)


def test_cancelled_at_sort_message_is_kits(server: SandboxServer, token: str) -> None:
    response = get(server, token, "/v4/subscribers", sort_field="cancelled_at")
    assert response.json() == {
        "errors": ["The status param must be `cancelled` if sort_field is `cancelled_at`"]
    }
    ok = get(server, token, "/v4/subscribers", sort_field="cancelled_at", status="cancelled")
    assert ok.status_code == 200 and ok.json()["subscribers"]


def test_subscriber_filters(server: SandboxServer, token: str) -> None:
    for state in ("cancelled", "bounced", "complained", "inactive"):
        items = get(server, token, "/v4/subscribers", status=state).json()["subscribers"]
        assert items and {s["state"] for s in items} == {state}
    one = get(server, token, "/v4/subscribers", per_page="1").json()["subscribers"][0]
    found = get(
        server, token, "/v4/subscribers", email_address=one["email_address"].upper()
    ).json()["subscribers"]
    assert [s["id"] for s in found] == [one["id"]]
    dated = get(
        server,
        token,
        "/v4/subscribers",
        status="all",
        created_after="2025-01-01",
        created_before="2025-02-01",
        per_page="1000",
    ).json()["subscribers"]
    assert dated and all("2025-01" in s["created_at"] for s in dated)
    single = get(server, token, f"/v4/subscribers/{one['id']}")
    assert single.json() == {"subscriber": one}


def test_forms_and_broadcasts_filters(server: SandboxServer, token: str) -> None:
    hosted = get(server, token, "/v4/forms", type="hosted").json()["forms"]
    assert hosted and {f["type"] for f in hosted} == {"hosted"}
    everything = get(server, token, "/v4/forms", status="all").json()["forms"]
    assert len(everything) > len(get(server, token, "/v4/forms").json()["forms"])
    drafts = get(server, token, "/v4/broadcasts", status="draft").json()["broadcasts"]
    assert drafts and {b["status"] for b in drafts} == {"draft"}
    assert get(server, token, "/v4/broadcasts", status="nope").status_code == 422


def test_create_tag_201_then_200_then_422(server: SandboxServer, token: str) -> None:
    url = f"{server.base_url}/v4/tags"
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(url, json={"name": "Completed course"}, headers=headers, timeout=5)
    assert created.status_code == 201
    validate_response("POST", "/v4/tags", 201, created.json())
    again = requests.post(url, json={"name": "completed course"}, headers=headers, timeout=5)
    assert again.status_code == 200
    validate_response("POST", "/v4/tags", 200, again.json())
    assert again.json()["tag"]["id"] == created.json()["tag"]["id"]
    blank = requests.post(url, json={"name": "  "}, headers=headers, timeout=5)
    assert blank.status_code == 422
    assert blank.json() == {"errors": ["Name can't be blank"]}
    validate_response("POST", "/v4/tags", 422, blank.json())
    names = [t["name"] for t in get(server, token, "/v4/tags", per_page="1000").json()["tags"]]
    assert names.count("Completed course") == 1
    garbage = requests.post(url, data="{nope", headers=headers, timeout=5)
    assert garbage.status_code == 400 and garbage.json()["errors"]


def test_auth_failures(server: SandboxServer) -> None:
    base = server.base_url
    none = requests.get(f"{base}/v4/account", timeout=5)
    assert none.status_code == 401 and none.json() == {"errors": ["Authentication Failed"]}
    empty = requests.get(f"{base}/v4/account", headers={"Authorization": "Bearer "}, timeout=5)
    assert empty.json() == {"errors": ["Authentication Failed"]}
    tokens = flow.connect(base)
    server.oauth.expire_access_token(tokens["access_token"])
    expired = flow.api_get(base, tokens["access_token"], "/v4/account")
    assert expired.json() == {"errors": ["The access token expired"]}
    lower = requests.get(
        f"{base}/v4/account",
        timeout=5,
        headers={"Authorization": f"bearer {tokens['access_token']}"},
    )
    assert lower.status_code == 401


def test_unknown_paths_are_404(server: SandboxServer, token: str) -> None:
    for path in ("/v4/nothing", "/v4/subscribers/999999999", "/v4/account/extra", "/v4"):
        response = get(server, token, path)
        assert response.status_code == 404, path
        assert response.json() == {"errors": ["Not Found"]}
    delete = requests.delete(
        f"{server.base_url}/v4/tags", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert delete.status_code == 404


def test_rate_limit_600_per_minute_per_token() -> None:
    with SandboxServer(auto_approve=True) as sandbox:
        first = flow.connect(sandbox.base_url)["access_token"]
        other = flow.connect(sandbox.base_url)["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {first}"
        codes = [
            session.get(f"{sandbox.base_url}/v4/tags", timeout=5).status_code for _ in range(601)
        ]
        assert codes[:600] == [200] * 600
        assert codes[600] == 429
        limited = session.get(f"{sandbox.base_url}/v4/account", timeout=5)
        # Kit's 429 (RATE-DOC): plain text "Retry later", no Retry-After header.
        assert limited.status_code == 429 and limited.content == b"Retry later"
        assert limited.headers["Content-Type"].startswith("text/plain")
        assert "Retry-After" not in limited.headers
        assert flow.api_get(sandbox.base_url, other, "/v4/account").status_code == 200


def test_rate_limit_window_rolls() -> None:
    now = [0.0]
    with SandboxServer(auto_approve=True, rate_limit=3) as sandbox:
        sandbox.api.limiter.clock = lambda: now[0]
        token = flow.connect(sandbox.base_url)["access_token"]
        codes = [flow.api_get(sandbox.base_url, token, "/v4/tags").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        now[0] = 61.0
        assert flow.api_get(sandbox.base_url, token, "/v4/tags").status_code == 200


class TestFaults:
    @pytest.fixture
    def sandbox(self) -> Iterator[SandboxServer]:
        with SandboxServer(auto_approve=True) as server:
            yield server

    def test_status(self, sandbox: SandboxServer) -> None:
        token = flow.connect(sandbox.base_url)["access_token"]
        sandbox.set_fault("/v4/account", Fault("status", status=503, times=1))
        assert flow.api_get(sandbox.base_url, token, "/v4/account").status_code == 503
        assert flow.api_get(sandbox.base_url, token, "/v4/account").status_code == 200

    def test_status_on_token_endpoint_has_oauth_shape(self, sandbox: SandboxServer) -> None:
        sandbox.set_fault("/v4/oauth/token", Fault("status", status=502))
        response = flow.refresh(sandbox.base_url, "anything")
        assert response.status_code == 502 and response.json()["error"] == "server_error"

    def test_delay_makes_a_client_time_out(self, sandbox: SandboxServer) -> None:
        token = flow.connect(sandbox.base_url)["access_token"]
        sandbox.set_fault("/v4/account", Fault("delay", seconds=1.0, times=1))
        with pytest.raises(requests.ReadTimeout):
            requests.get(
                f"{sandbox.base_url}/v4/account",
                timeout=(1, 0.2),
                headers={"Authorization": f"Bearer {token}"},
            )

    def test_malformed_and_html(self, sandbox: SandboxServer) -> None:
        sandbox.set_fault("/v4/oauth/token", Fault("malformed", times=1))
        bad = flow.refresh(sandbox.base_url, "x")
        assert bad.status_code == 200
        with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
            bad.json()
        sandbox.set_fault("/v4/oauth/token", Fault("html", times=1))
        html = flow.refresh(sandbox.base_url, "x")
        assert html.headers["Content-Type"] == "text/html" and "<h1>" in html.text

    def test_drop(self, sandbox: SandboxServer) -> None:
        sandbox.set_fault("/v4/oauth/token", Fault("drop", times=1))
        with pytest.raises(requests.ConnectionError):
            flow.refresh(sandbox.base_url, "x")

    def test_drop_after_handling_loses_a_rotated_refresh(self, sandbox: SandboxServer) -> None:
        tokens = flow.connect(sandbox.base_url)
        sandbox.set_fault("/v4/oauth/token", Fault("drop_after", times=1))
        with pytest.raises(requests.ConnectionError):
            flow.refresh(sandbox.base_url, tokens["refresh_token"])
        retry = flow.refresh(sandbox.base_url, tokens["refresh_token"])
        assert retry.json()["error"] == "invalid_grant"

    def test_redirect(self, sandbox: SandboxServer) -> None:
        sandbox.set_fault("/v4/oauth/token", Fault("redirect", location="https://evil.example/t"))
        response = flow.refresh(sandbox.base_url, "x")
        assert response.status_code == 307
        assert response.headers["Location"] == "https://evil.example/t"
        sandbox.faults.clear()
        assert flow.refresh(sandbox.base_url, "x").status_code == 400
