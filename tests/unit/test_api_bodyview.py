"""Formatting answers for a plain-text view, Kit's error sentences, and the body editor check."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit_desktop.api.bodyview import (
    format_body,
    json_error_position,
    json_problem,
    summarize_errors,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def test_json_is_pretty_printed_with_two_spaces_and_real_characters() -> None:
    view = format_body('{"name":"Zoë","tags":[1,2]}'.encode(), "application/json; charset=utf-8")
    assert view.kind == "json" and view.error is None
    assert view.text == '{\n  "name": "Zoë",\n  "tags": [\n    1,\n    2\n  ]\n}'
    assert view.lines == 7 and not view.truncated_view


@given(JSON_VALUES)
def test_any_json_value_formats_like_json_dumps(value: object) -> None:
    raw = json.dumps(value).encode()
    view = format_body(raw, "application/json")
    assert view.kind == "json"
    assert json.loads(view.text) == value


def test_json_is_sniffed_without_a_content_type() -> None:
    assert format_body(b' [{"a": 1}]', "").kind == "json"
    assert format_body(b'\xef\xbb\xbf{"a": 1}', "text/plain").kind == "json"


def test_invalid_json_is_shown_as_received_with_where_it_broke() -> None:
    raw = b'{\n  "a": 1,\n  "b": tru\n}'
    view = format_body(raw, "application/json")
    assert view.kind == "text" and view.text == raw.decode()
    assert view.error == "Not valid JSON: line 3, column 8: Expecting value"


def test_html_that_starts_like_json_is_still_html_text() -> None:
    view = format_body(b"[<b>not json</b>]", "text/html")
    assert view.kind == "text" and view.error is None


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deep_nesting_does_not_crash(depth: int) -> None:
    raw = b'{"a":' * depth + b"1" + b"}" * depth
    view = format_body(raw, "application/json")
    assert view.kind == "text" and view.error and "nested too deeply" in view.error
    assert view.text == raw.decode()[:200_000]
    assert json_error_position(raw.decode()) == (1, 1, "Nested too deeply")


def test_repeated_keys_are_not_silently_dropped() -> None:
    view = format_body(b'{"a": 1, "a": 2}', "application/json")
    assert view.kind == "text" and view.error and '"a"' in view.error


def test_long_text_is_cut_for_the_view_and_says_so() -> None:
    raw = ("line\n" * 100_000).encode()
    view = format_body(raw, "text/plain", preview_chars=1000)
    assert view.truncated_view and view.text == raw.decode()[:1000]
    assert view.lines == 100_001
    whole = format_body(raw, "text/plain", preview_chars=None)
    assert not whole.truncated_view and whole.text == raw.decode()


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png"),
        (b"ok\x00ok", ""),
        (bytes(range(128, 256)) * 20, "application/json"),
        (b"%PDF-1.7 text-like", "application/pdf"),
    ],
)
def test_binary_bodies_get_a_short_escaped_preview_and_size(raw: bytes, content_type: str) -> None:
    view = format_body(raw, content_type)
    assert view.kind == "binary" and view.error is None
    assert f"{len(raw)} bytes" in view.text or f"{len(raw):,} bytes" in view.text
    assert view.lines <= 20
    assert all(ch == "\n" or " " <= ch < "\x7f" or ch == "…" for ch in view.text)


def test_text_with_a_few_bad_bytes_is_still_text() -> None:
    view = format_body("Café crème, naïve".encode("latin-1"), "text/plain")
    assert view.kind == "text" and "\ufffd" in view.text
    latin = format_body("Café".encode("latin-1"), "text/plain; charset=ISO-8859-1")
    assert latin.text == "Café"


def test_html_is_plain_text_as_received() -> None:
    html = b"<a href='https://evil.example'>x</a><img src=http://t.example/p><script>1</script>"
    view = format_body(html, "text/html; charset=utf-8")
    assert (view.kind, view.text, view.error) == ("text", html.decode(), None)


@pytest.mark.parametrize("raw", [b"", b"  \r\n"])
def test_empty_bodies(raw: bytes) -> None:
    view = format_body(raw, "application/json")
    assert (view.kind, view.text, view.lines, view.error) == ("empty", "", 0, None)


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        (b'{"errors": ["Name can\'t be blank"]}', "Name can't be blank"),
        (b'{"errors": ["A", "B is\\nwrong"]}', "A; B is wrong"),
        (b'{"errors": [["Sequence is full", "Try later"], "C"]}', "Sequence is full; Try later; C"),
        (b'{"errors": "One"}', "One"),
        (b'{"errors": []}', ""),
        (b'{"error": "invalid_grant"}', ""),
        (b"<html>Bad gateway</html>", ""),
        (b"", ""),
        (b"[" * 5000, ""),
    ],
)
def test_summarize_errors(raw: bytes, sentence: str) -> None:
    assert summarize_errors(raw) == sentence


def test_summarize_errors_stays_short() -> None:
    raw = json.dumps({"errors": ["x" * 2000]}).encode()
    assert len(summarize_errors(raw)) == 500


#: Python 3.13 names a trailing comma itself, and points at it rather than at the bracket.
NEW_JSON_MESSAGES = sys.version_info >= (3, 13)
TRAILING_COMMA_AT = (
    (2, 9, "Illegal trailing comma before end of object") if NEW_JSON_MESSAGES else None
)


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("", None),
        ("   ", None),
        ('{"name": "ok"}', None),
        ('{"name": }', (1, 10, "Expecting value")),
        (
            '{\n  "a": 1,\n}',
            TRAILING_COMMA_AT or (3, 1, "Expecting property name enclosed in double quotes"),
        ),
        ("[1, 2", (1, 6, "Expecting ',' delimiter")),
        ('{"a": 1} x', (1, 10, "Extra data")),
    ],
)
def test_json_error_position(text: str, position: tuple[int, int, str] | None) -> None:
    assert json_error_position(text) == position


@given(JSON_VALUES)
def test_valid_json_has_no_error_position(value: object) -> None:
    assert json_error_position(json.dumps(value, indent=2)) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{\n  email: "a@b.com"\n}', (2, 3, 'names need double quotes, like "email".')),
        (
            '{\n  "a": 1,\n}',
            (*(TRAILING_COMMA_AT or (3, 1))[:2], "remove the comma before the closing }."),
        ),
        ("[1, 2,]", (1, 6 if NEW_JSON_MESSAGES else 7, "remove the comma before the closing ].")),
        (
            "[1, 2",
            (1, 6, "it stops too soon: something is missing at the end, like a closing } or ]."),
        ),
        ('{"a": 1 "b": 2}', (1, 9, "a comma is missing between two items.")),
        ("[" * 100_000, (1, 1, "it is nested too deeply (too many { or [ inside one another).")),
        ("", None),
        ('{"a": [1]}', None),
    ],
)
def test_json_problem_says_where_and_what_to_do(
    text: str, problem: tuple[int, int, str] | None
) -> None:
    assert json_problem(text) == problem
