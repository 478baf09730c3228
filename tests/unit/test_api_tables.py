"""Kit's list answers as tables and CSV cells (no Qt, no network)."""

from __future__ import annotations

import pytest

from kit_desktop.api.export import csv_value
from kit_desktop.api.tables import answer_table, list_items

PAGE = {"pagination": {"has_next_page": False}}


def test_subscribers_get_custom_fields_as_columns() -> None:
    body = {
        **PAGE,
        "subscribers": [
            {
                "id": 1,
                "first_name": "Ana",
                "email_address": "ana@example.com",
                "state": "active",
                "created_at": "2026-01-01T00:00:00Z",
                "fields": {"city": "Lisbon", "first_name": "clash"},
            }
        ],
    }
    table = answer_table(body)
    assert table is not None and table.known
    assert table.titles == (
        "Email",
        "First name",
        "State",
        "Created",
        "ID",
        "City",
        "fields.first_name",
    )
    assert table.rows == (
        ("ana@example.com", "Ana", "active", "2026-01-01T00:00:00Z", 1, "Lisbon", "clash"),
    )


def test_an_unknown_list_gets_its_scalar_fields() -> None:
    body = {**PAGE, "webhooks": [{"id": 3, "target_url": "https://x", "event": {"name": "a"}}]}
    table = answer_table(body)
    assert table is not None and not table.known
    assert table.titles == ("id", "target_url")


@pytest.mark.parametrize(
    "body",
    [{"account": {}}, {"pagination": {}, "a": [{}], "b": [{}]}, {"pagination": {}, "a": [1]}, []],
)
def test_other_answers_are_not_lists(body: object) -> None:
    assert list_items(body) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("=1+1", "'=1+1"),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Ana", "Ana"),
        (-2, "-2"),
        (None, ""),
        (True, "true"),
    ],
)
def test_csv_cells_cannot_run_as_formulas(value: object, text: str) -> None:
    assert csv_value(value) == text  # type: ignore[arg-type]
