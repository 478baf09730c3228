"""Fuzzing the sandbox: pagination, parameter and body parsing, every route, real HTTP.

Whatever a client sends, the sandbox answers with a proper 4xx or a valid answer: never a
500, never an exception escaping a handler, never a dropped connection.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from hypothesis import Phase
from hypothesis import strategies as st

from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.messages import BadRequest, Request, parse_form
from kit_desktop.sandbox.pagination import (
    MAX_PER_PAGE,
    ParamError,
    decode_cursor,
    encode_cursor,
    paginate,
    parse_bool,
    parse_per_page,
)
from tests.fuzz.sandbox_inputs import (
    ACCESS,
    PARAM_VALUES,
    bodies,
    cursors,
    deep_cursors,
    keys,
    numbers,
    pairs,
    raw_requests,
    requests_,
)
from tests.fuzz.support import Campaign, Settings, attempt, run_property, suite_settings

TARGET = "sandbox"
IMPLEMENTED = {"GET", "POST", "PUT", "PATCH", "DELETE"}
ITEMS = [{"id": n, "name": f"item {n}"} for n in range(1, 38)]


def item_key(item: dict[str, Any]) -> list[Any]:
    return [item["id"]]


# --- pagination and parameters -------------------------------------------------------------


def check_parameters(case: tuple[str, str, str, list[Any]]) -> None:
    """per_page, booleans and cursors: a value in range or ParamError, nothing else."""
    per_page, flag, cursor, like = case
    with contextlib.suppress(ParamError):
        assert 1 <= parse_per_page(per_page) <= MAX_PER_PAGE
    with contextlib.suppress(ParamError):
        assert parse_bool(flag, "flag") in (True, False)
    with contextlib.suppress(ParamError):
        key = decode_cursor(cursor, like)
        assert len(key) == len(like)
        assert [type(part) for part in key] == [type(part) for part in like]
    if all(type(part) in (int, str) for part in like):
        assert decode_cursor(encode_cursor(like), like) == like


def check_paginate(case: tuple[dict[str, str], bool]) -> None:
    """One page: a contiguous run of items, at most per_page, with truthful cursors."""
    params, descending = case
    items = sorted(ITEMS, key=item_key, reverse=descending)
    result = attempt(lambda: paginate(items, item_key, params, descending=descending), ParamError)
    if isinstance(result, Exception):
        assert str(result)
        return
    page, info = result
    assert len(page) <= info["per_page"] == parse_per_page(params.get("per_page"))
    if page:
        start = items.index(page[0])
        assert page == items[start : start + len(page)]
        assert decode_cursor(info["start_cursor"], [0]) == item_key(page[0])
        assert decode_cursor(info["end_cursor"], [0]) == item_key(page[-1])
        assert info["has_previous_page"] == (start > 0)
        assert info["has_next_page"] == (start + len(page) < len(items))
    else:
        assert info["start_cursor"] is None and info["end_cursor"] is None
    assert ("total_count" in info) == parse_bool(params.get("include_total_count"), "x")


def dated_key(item: dict[str, Any]) -> list[Any]:
    return [item["created_at"], item["id"]]


def check_walk(case: tuple[list[str], int, bool]) -> None:
    """Following end cursors from the start visits every item once, in order (ties too)."""
    days, per_page, descending = case
    items = [{"id": n, "created_at": day} for n, day in enumerate(days, start=1)]
    items.sort(key=dated_key, reverse=descending)
    seen: list[dict[str, Any]] = []
    params = {"per_page": str(per_page)}
    while True:
        page, info = paginate(items, dated_key, params, descending=descending)
        seen += page
        if not info["has_next_page"]:
            break
        params = {"per_page": str(per_page), "after": info["end_cursor"]}
    assert seen == items


def check_messages(case: tuple[str, list[tuple[str, str]], bytes]) -> None:
    """Query strings, repeated names and bodies: values or BadRequest, nothing else."""
    query, fields, body = case
    with contextlib.suppress(BadRequest):
        assert all(isinstance(v, str) for pair in parse_form(query) for v in pair)
    request = Request("POST", "/v4/oauth/token", tuple(fields), {}, body)
    with contextlib.suppress(BadRequest):
        params = request.params()
        assert len(params) == len(fields)  # a repeated name is refused, never silently merged
    with contextlib.suppress(BadRequest):
        form = request.form_or_json()
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in form.items())
    with contextlib.suppress(BadRequest):
        request.json_body()


# --- every route, in process and over real sockets --------------------------------------------


@contextlib.contextmanager
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(rate_limit=10**9) as server:
        server.oauth.import_grant(ACCESS, None, expires_at=None)
        yield server


def check_dispatch(server: SandboxServer, request: Request) -> None:
    """Any request to any route: a 2xx/3xx answer or a proper 4xx, with a parseable body."""
    request = Request(
        request.method,
        request.path.replace("{app_id}", server.app_id),
        request.query,
        request.headers,
        request.body,
    )
    response = server.dispatch(request)
    assert 200 <= response.status < 500, (response.status, response.body[:200])
    assert not response.drop
    if response.headers.get("Content-Type", "").startswith("application/json"):
        json.loads(response.body)
    if 300 <= response.status < 400:
        assert urlsplit(response.headers["Location"]).scheme in ("http", "https", "")


def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, close our side, and read everything until the sandbox closes."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):  # a time-out here means the sandbox hung
                received += chunk
    return bytes(received)


def check_over_socket(server: SandboxServer, case: tuple[str, bytes]) -> None:
    """Real HTTP: an answer with a status line, never 500, never a dropped connection."""
    method, data = case
    answer = exchange(server.port, data)
    while answer.startswith(b"HTTP/1.1 100"):  # an interim answer, then the real one
        answer = answer.partition(b"\r\n\r\n")[2]
    assert answer.startswith(b"HTTP/1."), answer[:200]
    status = int(answer[9:12])
    assert status != 500, answer[:300]
    assert status < 500 or (status == 501 and method not in IMPLEMENTED), answer[:300]


def fuzz_parameters(config: Settings) -> None:
    shapes: list[list[Any]] = [[0], ["", 0], [0, 0]]
    like = st.one_of(st.sampled_from(shapes), keys)
    cases = st.tuples(numbers, PARAM_VALUES["include_total_count"], cursors, like)
    run_property(TARGET, cases, check_parameters, config)


def fuzz_paginate(config: Settings) -> None:
    real = st.sampled_from(ITEMS).map(lambda item: encode_cursor(item_key(item)))
    cursor = st.one_of(real, cursors)
    params = st.fixed_dictionaries(
        {},
        optional={
            "per_page": numbers,
            "after": cursor,
            "before": cursor,
            "include_total_count": PARAM_VALUES["include_total_count"],
        },
    )
    run_property(TARGET, st.tuples(params, st.booleans()), check_paginate, config)


def fuzz_walk(config: Settings) -> None:
    days = st.lists(st.sampled_from([f"2026-01-0{day}T00:00:00Z" for day in range(1, 8)]))
    cases = st.tuples(days, st.integers(1, 30), st.booleans())
    run_property(TARGET, cases, check_walk, config)


def fuzz_messages(config: Settings) -> None:
    cases = st.tuples(st.text(max_size=40), pairs(), bodies())
    run_property(TARGET, cases, check_messages, config)


def fuzz_dispatch(config: Settings) -> None:
    with sandbox() as server:
        run_property(TARGET, requests_(), partial(check_dispatch, server), config)


def fuzz_over_socket(config: Settings) -> None:
    with sandbox() as server:
        cases = raw_requests()
        run_property(TARGET, cases, partial(check_over_socket, server), config)


CAMPAIGNS = (
    Campaign(TARGET, "per_page, booleans, cursors: in range or ParamError", fuzz_parameters, 3),
    Campaign(TARGET, "paginate: contiguous pages with truthful cursors", fuzz_paginate, 3),
    Campaign(TARGET, "cursor walk visits every item once", fuzz_walk, 1),
    Campaign(TARGET, "queries and bodies: values or BadRequest", fuzz_messages, 3),
    Campaign(TARGET, "dispatch: every route answers 2xx-4xx", fuzz_dispatch, 3),
    Campaign(TARGET, "real HTTP: never 500, never dropped", fuzz_over_socket, 1),
)
KNOWN_BUGS: tuple[str, ...] = ()  # each one found was fixed; see docs/benchmarks.md
KNOWN = Settings(suite_settings(10), phases=[Phase.generate])  # pinned cases: once bugs, now fixed


def test_parameters_are_in_range_or_refused() -> None:
    fuzz_parameters(suite_settings(300))


def test_pages_are_contiguous_with_truthful_cursors() -> None:
    fuzz_paginate(suite_settings(300))


def test_following_cursors_visits_every_item_once() -> None:
    fuzz_walk(suite_settings(40))


def test_queries_and_bodies_parse_or_give_bad_request() -> None:
    fuzz_messages(suite_settings(300))


def test_every_route_answers_without_a_server_error() -> None:
    fuzz_dispatch(suite_settings(300))


def test_real_http_requests_are_answered_without_a_server_error() -> None:
    fuzz_over_socket(suite_settings(60))


def test_deeply_nested_cursors_are_refused_with_422() -> None:
    def check(cursor: str) -> None:
        with sandbox() as server:
            request = Request("GET", "/v4/subscribers", (("after", cursor),), _bearer(), b"")
            assert server.dispatch(request).status == 422

    run_property(TARGET, deep_cursors, check, KNOWN)


def test_deeply_nested_json_bodies_are_refused_with_400() -> None:
    def check(opener: str) -> None:
        body = ('{"a":' + opener * 3000).encode()
        with sandbox() as server:
            # Parse the revoke's JSON too (by default it is ignored unparsed, as Kit does).
            server.behaviours.json_revoke = "honoured"
            for path in ("/v4/oauth/token", "/v4/oauth/revoke", "/v4/tags"):
                request = Request("POST", path, (), _bearer(), body)
                assert server.dispatch(request).status == 400

    run_property(TARGET, st.sampled_from(["[", '{"b":']), check, KNOWN)


def test_request_targets_urlsplit_refuses_get_an_answer() -> None:
    bad = st.sampled_from(("a://[", "http://[/v4/account", "b://]", "http://[::1/v4/account"))
    cases = bad.map(lambda target: ("GET", f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    with sandbox() as server:
        run_property(TARGET, cases, partial(check_over_socket, server), KNOWN)


def test_malformed_request_lines_get_a_400() -> None:
    lines = st.sampled_from(
        ("POST  HTTP/1.1", "GET / HTTP/1.1 x", "GET /v4 b HTTP/1.1", "FOO", "GET / HTTP/9")
    )
    cases = lines.map(lambda line: ("GET", f"{line}\r\nHost: x\r\n\r\n".encode()))
    with sandbox() as server:
        run_property(TARGET, cases, partial(check_over_socket, server), KNOWN)


def _bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {ACCESS}", "content-type": "application/json"}
