"""Next/previous page queries and keeping the path field and the query table in sync."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit_desktop.api.paging import join_query, page_queries, split_query
from kit_desktop.api.paths import api_url

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
PAIRS = st.lists(st.tuples(TEXT, TEXT), max_size=6)
PATHS = st.sampled_from(["/v4/subscribers", "/v4/tags", "/v4/forms/12/subscribers", ""])


def pagination(**overrides: Any) -> dict[str, Any]:
    page = {
        "has_previous_page": True,
        "has_next_page": True,
        "start_cursor": "WzEzXQ==",
        "end_cursor": "WzE0XQ==",
        "per_page": 2,
    }
    page.update(overrides)
    return {"subscribers": [], "pagination": page}


def test_next_and_previous_replace_the_cursor_and_keep_the_rest() -> None:
    query = [("per_page", "2"), ("after", "old"), ("status", "all")]
    following, previous = page_queries(pagination(), query)
    assert following == [("per_page", "2"), ("after", "WzE0XQ=="), ("status", "all")]
    assert previous == [("per_page", "2"), ("status", "all"), ("before", "WzEzXQ==")]


def test_a_before_is_dropped_going_forwards_and_repeats_are_collapsed() -> None:
    query = [("before", "b"), ("after", "a1"), ("after", "a2")]
    following, previous = page_queries(pagination(), query)
    assert following == [("after", "WzE0XQ==")]
    assert previous == [("before", "WzEzXQ==")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (pagination(has_next_page=False), (False, True)),
        (pagination(has_previous_page=False), (True, False)),
        (pagination(end_cursor=None, start_cursor=""), (False, False)),
        (pagination(has_next_page="true"), (False, True)),
        ({"subscribers": []}, (False, False)),
        ({"pagination": "x"}, (False, False)),
        ([1, 2], (False, False)),
        (None, (False, False)),
    ],
)
def test_no_page_unless_kit_says_so(body: object, expected: tuple[bool, bool]) -> None:
    following, previous = page_queries(body, [])
    assert (following is not None, previous is not None) == expected


def test_split_and_join_a_typed_path() -> None:
    base, pairs = split_query("/v4/subscribers?after=WzEzXQ%3D%3D&q=a+b&tag=1&tag=2&flag&&x=%2541")
    assert base == "/v4/subscribers"
    assert pairs == [
        ("after", "WzEzXQ=="),
        ("q", "a b"),
        ("tag", "1"),
        ("tag", "2"),
        ("flag", ""),
        ("x", "%41"),
    ]
    joined = join_query(base, pairs)
    assert joined == "/v4/subscribers?after=WzEzXQ%3D%3D&q=a+b&tag=1&tag=2&flag=&x=%2541"
    assert split_query("/v4/account") == ("/v4/account", [])
    assert join_query("/v4/account?old=1", []) == "/v4/account"


@given(PATHS, PAIRS)
def test_join_then_split_gives_back_the_pairs(path: str, pairs: list[tuple[str, str]]) -> None:
    assert split_query(join_query(path, pairs)) == (path, pairs)


@given(PATHS, st.text(max_size=40))
def test_split_then_join_is_stable(path: str, query: str) -> None:
    once = join_query(*split_query(f"{path}?{query}"))
    assert join_query(*split_query(once)) == once


@given(PAIRS)
def test_joined_queries_are_accepted_by_api_url(pairs: list[tuple[str, str]]) -> None:
    url = api_url("https://api.kit.com", join_query("/v4/subscribers", pairs))
    assert url.startswith("https://api.kit.com/v4/subscribers")
    assert split_query(url.removeprefix("https://api.kit.com"))[1] == pairs
