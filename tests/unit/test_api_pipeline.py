"""The request pipeline shared by the API panel and the ``request`` command (no Qt, no network)."""

from __future__ import annotations

import pytest

from kit_desktop.api.pipeline import (
    ApiRequest,
    check_request,
    compose_request,
    parse_json_body,
    query_pair,
    request_body,
)
from kit_desktop.errors import ApiError, UnsafeRequestError

ORIGIN = "https://api.kit.com"


def test_compose_tidies_method_splits_the_inline_query_and_drops_unnamed_headers() -> None:
    request = compose_request(
        " post ",
        " /v4/tags?a=1&b=x%20y ",
        [("c", "3")],
        '{"name": "x"}',
        [(" X-One ", "v"), ("  ", "dropped")],
    )
    assert request == ApiRequest(
        "POST",
        "/v4/tags",
        (("a", "1"), ("b", "x y"), ("c", "3")),
        '{"name": "x"}',
        (("X-One", "v"),),
    )
    assert request.target == "/v4/tags?a=1&b=x+y&c=3"


def test_check_accepts_a_plain_request() -> None:
    check_request(compose_request("GET", "/v4/subscribers", [("per_page", "2")]), ORIGIN)


@pytest.mark.parametrize("method", ["FETCH", ""])
def test_check_refuses_an_unknown_method_and_names_the_choices(method: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_request(compose_request(method, "/v4/account"), ORIGIN)
    assert "Choose one of GET, POST, PUT, PATCH or DELETE." in caught.value.user_message
    assert caught.value.user_message.startswith(f"The method {method} ") == bool(method)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("https://evil.example/v4/account", ()),
        ("/v4/../oauth/token", ()),
        ("/v4/account", (("Authorization", "Bearer x"),)),
        ("/v4/account", (("X-A", "b\r\nInjected: 1"),)),
    ],
)
def test_check_refuses_what_could_send_the_token_elsewhere(
    path: str, headers: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(UnsafeRequestError):
        check_request(compose_request("GET", path, headers=headers), ORIGIN)


def test_the_body_is_sent_only_with_post_put_and_patch() -> None:
    assert request_body(compose_request("POST", "/v4/tags", body_text='{"a": [1]}')) == {"a": [1]}
    assert request_body(compose_request("PATCH", "/v4/tags", body_text="  \n ")) is None
    assert request_body(compose_request("GET", "/v4/tags", body_text="not json")) is None
    assert request_body(compose_request("DELETE", "/v4/tags/1", body_text="{")) is None


def test_bad_json_says_where_it_goes_wrong() -> None:
    with pytest.raises(ApiError) as caught:
        request_body(compose_request("PUT", "/v4/tags/1", body_text='{\n  "name": x\n}'))
    assert caught.value.user_message == (
        "The body is not valid JSON: line 2, column 11: a value is missing or not valid here: "
        'text needs double quotes, like "Completed"; true, false and null are written in small '
        "letters. Nothing was sent."
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1, column 1: a value is missing: there is nothing to read."),
        (
            "[" * 100_000,
            "line 1, column 1: it is nested too deeply (too many { or [ inside one another).",
        ),
        ("{'a': 1}", 'line 1, column 2: names need double quotes, like "email".'),
    ],
)
def test_parse_json_body_names_the_value_it_checks(text: str, where: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_body(text, what="The --data value")
    assert caught.value.user_message == (
        f"The --data value is not valid JSON: {where} Fix it and send again."
    )
    assert "Expecting" not in caught.value.user_message, "no parser jargon"


@pytest.mark.parametrize(
    ("item", "pair"),
    [("per_page=2", ("per_page", "2")), ("q=", ("q", "")), ("f=a=b", ("f", "a=b"))],
)
def test_query_pair_splits_at_the_first_equals_sign(item: str, pair: tuple[str, str]) -> None:
    assert query_pair(item) == pair


@pytest.mark.parametrize("item", ["per_page", "=2", ""])
def test_query_pair_refuses_an_item_without_a_name(item: str) -> None:
    with pytest.raises(ApiError) as caught:
        query_pair(item, what="The --query value")
    assert caught.value.user_message == (
        f"The --query value {item!r} must look like name=value (for example per_page=10); "
        "nothing was sent."
    )


@pytest.mark.parametrize("path", ["", "   ", "?per_page=2"])
def test_an_empty_path_says_what_to_type(path: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_request(compose_request("GET", path), ORIGIN)
    assert not isinstance(caught.value, UnsafeRequestError)
    assert caught.value.user_message == (
        "Type the path of the request first, for example /v4/account."
    )
