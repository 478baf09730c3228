"""KitApiClient against the real sandbox: methods, pages, refresh, reconnect, 429, no leaks."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kit_desktop.api.bodyview import format_body, summarize_errors
from kit_desktop.api.client import ApiResponse, KitApiClient
from kit_desktop.api.curl import as_curl
from kit_desktop.api.paging import join_query, page_queries, split_query
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.errors import (
    ApiError,
    KitError,
    RateLimitedError,
    ReconnectNeededError,
    UnsafeRequestError,
)
from kit_desktop.http import Timeouts
from kit_desktop.sandbox import Fault, SandboxServer
from kit_desktop.sandbox.data import SUBSCRIBER_COUNT
from kit_desktop.sandbox.messages import Request, Response
from tests.helpers import flow

TIMEOUTS = Timeouts(2, 5)
LIMIT_MESSAGE = re.compile(  # the sandbox's limit is lower than the 600 this app counts to
    r"^Kit asked Kit Desktop to slow down \(too many requests on this connection; another "
    r"program may be using it too\); try again in (\d+) s\.$"
)


class CountingSandbox(SandboxServer):
    """The sandbox, noting every request that reaches it (method, path, query, auth header)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.seen: list[Request] = []
        self._seen_lock = threading.Lock()

    def __enter__(self) -> CountingSandbox:
        self.start()
        return self

    def dispatch(self, request: Request) -> Response:
        with self._seen_lock:
            self.seen.append(request)
        return super().dispatch(request)

    def api_requests(self) -> list[Request]:
        with self._seen_lock:
            return [r for r in self.seen if r.path.startswith("/v4/") and "/oauth/" not in r.path]


@dataclass
class Connected:
    server: CountingSandbox
    oauth: OAuthClient
    tokens: TokenManager
    client: KitApiClient

    @property
    def access(self) -> str:
        current = self.tokens.tokens
        assert current is not None
        return current.access_token


def connect(server: CountingSandbox, **client_kwargs: object) -> Connected:
    """Run the real OAuth flow against ``server`` and build a client on the tokens."""
    settings = Settings().with_sandbox(server.base_url)
    oauth = OAuthClient(settings, timeouts=TIMEOUTS)
    tokens = TokenManager(oauth, MemoryTokenStore())
    tokens.adopt(TokenSet.from_response(flow.connect(server.base_url), received_at=time.time()))
    client = KitApiClient(settings, tokens, timeouts=TIMEOUTS, **client_kwargs)  # type: ignore[arg-type]
    return Connected(server, oauth, tokens, client)


@pytest.fixture
def kit() -> Iterator[Connected]:
    with CountingSandbox(auto_approve=True) as server:
        yield connect(server)


def tag_names(kit: Connected) -> list[str]:
    response = kit.client.request("GET", "/v4/tags")
    return [tag["name"] for tag in response.json()["tags"]]


# --- each method against the sandbox --------------------------------------------------------


def test_get_list_returns_json_with_size_and_time(kit: Connected) -> None:
    response = kit.client.request("GET", "/v4/subscribers", query=[("per_page", "5")])
    assert response.status == 200
    assert len(response.json()["subscribers"]) == 5
    assert response.size == len(response.body) > 0
    assert response.seconds >= 0
    assert not response.truncated and not response.retried
    assert response.url == f"{kit.server.base_url}/v4/subscribers?per_page=5"
    assert format_body(response.body, response.content_type).kind == "json"


def test_get_one_subscriber_and_a_missing_one(kit: Connected) -> None:
    first = kit.client.request("GET", "/v4/subscribers?per_page=1").json()["subscribers"][0]
    one = kit.client.request("GET", f"/v4/subscribers/{first['id']}")
    assert one.json()["subscriber"]["email_address"] == first["email_address"]
    missing = kit.client.request("GET", "/v4/subscribers/999999999")
    assert missing.status == 404
    assert summarize_errors(missing.body) == "Not Found"


def test_post_tag_created_then_existing_then_blank(kit: Connected) -> None:
    created = kit.client.request("POST", "/v4/tags", json_body={"name": "Panel test"})
    assert created.status == 201
    again = kit.client.request("POST", "/v4/tags", json_body={"name": "Panel test"})
    assert again.status == 200
    assert again.json()["tag"]["id"] == created.json()["tag"]["id"]
    blank = kit.client.request("POST", "/v4/tags", json_body={"name": ""})
    assert blank.status == 422
    assert summarize_errors(blank.body) == "Name can't be blank"
    assert blank.error_summary() == "Name can't be blank"
    assert tag_names(kit).count("Panel test") == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_reach_kit_and_come_back_as_answers(kit: Connected, method: str) -> None:
    response = kit.client.request(method, "/v4/tags", json_body={"name": "x"})
    assert response.status == 404
    assert kit.server.api_requests()[-1].method == method


def test_unknown_method_is_refused_before_sending(kit: Connected) -> None:
    with pytest.raises(ApiError):
        kit.client.request("TRACE", "/v4/account")
    assert kit.server.api_requests() == []


# --- pagination ------------------------------------------------------------------------------


def test_page_queries_walk_every_subscriber_forwards_then_backwards(kit: Connected) -> None:
    base, query = split_query("/v4/subscribers?status=all&per_page=100")
    pages: list[list[int]] = []
    current: list[tuple[str, str]] | None = query
    sent: list[tuple[str, str]] = query
    body: object = None
    while current is not None:
        sent = current
        body = kit.client.request("GET", join_query(base, sent)).json()
        assert isinstance(body, dict)
        pages.append([item["id"] for item in body["subscribers"]])
        current, _ = page_queries(body, sent)
    ids = [i for page in pages for i in page]
    assert len(pages) == 14
    assert len(ids) == len(set(ids)) == SUBSCRIBER_COUNT

    back: list[list[int]] = [pages[-1]]
    _, current = page_queries(body, sent)
    while current is not None:
        assert [name for name, _ in current] == ["status", "per_page", "before"]
        body = kit.client.request("GET", join_query(base, current)).json()
        assert isinstance(body, dict)
        back.append([item["id"] for item in body["subscribers"]])
        _, current = page_queries(body, current)
    assert back == pages[::-1]


# --- 401: refresh and retry once, idempotent methods only ------------------------------------


def test_expired_token_is_refreshed_and_a_get_retried_once(kit: Connected) -> None:
    old = kit.access
    kit.server.oauth.expire_access_token(old)
    response = kit.client.request("GET", "/v4/account")
    assert response.status == 200 and response.retried
    assert kit.tokens.refresh_count == 1
    assert kit.access != old
    assert [r.header("authorization") for r in kit.server.api_requests()] == [
        f"Bearer {old}",
        f"Bearer {kit.access}",
    ]


def test_expired_token_on_post_renews_but_does_not_send_twice(kit: Connected) -> None:
    kit.server.oauth.expire_access_token(kit.access)
    with pytest.raises(ApiError) as caught:
        kit.client.request("POST", "/v4/tags", json_body={"name": "Once only"})
    assert caught.value.status == 401
    assert "send it again" in caught.value.user_message
    assert len(kit.server.api_requests()) == 1
    assert kit.tokens.refresh_count == 1
    assert "Once only" not in tag_names(kit)
    assert kit.client.request("POST", "/v4/tags", json_body={"name": "Once only"}).status == 201


def test_revoked_access_needs_reconnecting(kit: Connected) -> None:
    kit.oauth.revoke(kit.access, "access_token")
    with pytest.raises(ReconnectNeededError):
        kit.client.request("GET", "/v4/account")
    assert kit.tokens.tokens is None


def test_a_second_401_after_renewing_needs_reconnecting(kit: Connected) -> None:
    kit.server.set_fault("/v4/account", Fault("status", status=401, times=2))
    with pytest.raises(ReconnectNeededError):
        kit.client.request("GET", "/v4/account")
    assert kit.tokens.refresh_count == 1
    assert kit.client.meter.used() == 2  # faulted answers never reach dispatch


# --- 429 --------------------------------------------------------------------------------------


def test_kits_429s_in_a_row_back_off_exponentially_when_the_meter_cannot_say() -> None:
    """Kit's 429 has no Retry-After; this app's meter is far from 600, so waits double."""
    with CountingSandbox(auto_approve=True, rate_limit=1) as server:
        kit = connect(server)
        assert kit.client.request("GET", "/v4/tags").status == 200
        waits = []
        for _ in range(4):
            with pytest.raises(RateLimitedError) as caught:
                kit.client.request("GET", "/v4/tags")
            waits.append(caught.value.retry_after)
        assert waits == [2.0, 4.0, 8.0, 16.0]
        assert kit.client.meter.used() < 10


def test_a_429_this_apps_own_count_explains_names_kits_limit() -> None:
    with CountingSandbox(auto_approve=True, rate_limit=3) as server:
        client = connect(server, rate_limit=3).client
        for _ in range(3):
            assert client.request("GET", "/v4/tags").status == 200
        with pytest.raises(RateLimitedError) as caught:
            client.request("GET", "/v4/tags")
        assert caught.value.counted
        assert caught.value.user_message.startswith(
            "Kit's limit of 3 requests a minute was reached; try again in"
        )
        assert caught.value.retry_after > 50  # until the oldest of the three leaves the minute


def test_rate_limit_raises_with_a_wait_and_nothing_is_retried() -> None:
    with CountingSandbox(auto_approve=True, rate_limit=3) as server:
        kit = connect(server)
        for _ in range(3):
            assert kit.client.request("GET", "/v4/tags").status == 200
        with pytest.raises(RateLimitedError) as caught:
            kit.client.request("GET", "/v4/tags")
        match = LIMIT_MESSAGE.match(caught.value.user_message)
        assert match, caught.value.user_message
        assert 0 < caught.value.retry_after <= 60
        assert 1 <= int(match.group(1)) <= 60
        assert caught.value.status == 429
        assert len(server.api_requests()) == 4
        with pytest.raises(RateLimitedError):
            kit.client.request("POST", "/v4/tags", json_body={"name": "Not twice"})
        assert len(server.api_requests()) == 5
        assert kit.client.meter.used() == 5
        assert kit.client.meter.seconds_until_free(limit=3) > 0


# --- the request meter -----------------------------------------------------------------------


def test_meter_records_only_requests_sent(kit: Connected) -> None:
    kit.client.request("GET", "/v4/account")
    with pytest.raises(UnsafeRequestError):
        kit.client.request("GET", "https://evil.example/v4/account")
    assert kit.client.meter.used() == 1


# --- catalogue 55, 57, 60, 62: the token only goes to Kit, and never shows -------------------


@pytest.mark.parametrize(
    "path",
    [
        "//evil.example/x",
        "https://evil.example/x",
        "https://api.kit.com@evil.example/",
        "http://api.kit.com/v4/x",
        "../../oauth/token",
        "https://api.kit.com.evil.example/",
        "/v4/../oauth/token",
    ],
)
def test_e55_paths_off_the_api_are_never_sent(kit: Connected, path: str) -> None:
    with pytest.raises(UnsafeRequestError):
        kit.client.request("GET", path)
    assert kit.server.api_requests() == []


@pytest.mark.parametrize(
    "headers",
    [{"X-Test": "a\r\nX-Evil: 1"}, {"Authorization": "Bearer mine"}, {"authorization": "x"}],
)
def test_e57_injected_or_overriding_headers_are_refused(
    kit: Connected, headers: dict[str, str]
) -> None:
    with pytest.raises(UnsafeRequestError) as caught:
        kit.client.request("GET", "/v4/account", headers=headers)
    assert caught.value.user_message
    assert kit.server.api_requests() == []


def test_e57_custom_headers_go_along_with_one_bearer(kit: Connected) -> None:
    kit.client.request("GET", "/v4/account", headers={"X-Request-Id": "abc"})
    (seen,) = kit.server.api_requests()
    assert seen.header("x-request-id") == "abc"
    assert seen.header("authorization") == f"Bearer {kit.access}"


def test_e60_e62_no_token_in_urls_curl_reprs_errors_or_logs(
    kit: Connected, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    response = kit.client.request("GET", "/v4/subscribers", query=[("per_page", "2")])
    next_query, _ = page_queries(response.json(), [("per_page", "2")])
    assert next_query is not None
    following = kit.client.request("GET", join_query("/v4/subscribers", next_query))
    shown += [response.url, following.url, repr(response), repr(following), repr(kit.client)]
    shown.append(as_curl("GET", following.url, headers={"Authorization": f"Bearer {kit.access}"}))
    shown.append(as_curl("POST", response.url, json_body={"name": "x"}))
    kit.server.oauth.expire_access_token(kit.access)
    errors: list[KitError] = []
    with pytest.raises(ApiError) as post_error:
        kit.client.request("POST", "/v4/tags", json_body={"name": "x"})
    errors.append(post_error.value)
    kit.oauth.revoke(kit.access, "access_token")
    with pytest.raises(ReconnectNeededError) as reconnect:
        kit.client.request("GET", "/v4/account")
    errors.append(reconnect.value)
    shown += [text for e in errors for text in (str(e), repr(e), e.user_message, e.detail)]
    shown.append(caplog.text)
    secrets = kit.server.oauth.issued_secrets()
    assert len(secrets) >= 3
    for text in shown:
        assert not any(secret in text for secret in secrets), text
    for request in kit.server.api_requests():
        assert not any(secret in value for _, value in request.query for secret in secrets)
        assert all(name != "access_token" for name, _ in request.query)


def test_response_repr_leaves_the_body_out() -> None:
    response = ApiResponse(200, "OK", {}, b"secret-looking body", 0.1)
    assert "secret-looking" not in repr(response)
