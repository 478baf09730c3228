"""Kit's list answers as columns and rows: for the table beside the JSON and for CSV (no Qt).

A list answer is ``{"<items>": [{...}, ...], "pagination": {...}}``. Known lists get the
columns a creator reads first (:data:`KNOWN`); a subscriber's custom fields become columns
named by their key. Any other list gets every top-level scalar field of its items.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kit_desktop.lists import AnswerTable, Cell

#: At most this many columns for a list this module does not know.
MAX_GENERIC_COLUMNS = 40
#: Custom fields live under this key of a subscriber; each becomes a column.
FIELDS = "fields"


@dataclass(frozen=True)
class Column:
    """One column: the item's key (``fields.<key>`` for a custom field) and its heading."""

    key: str
    title: str


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(key, title) for key, title in pairs)


#: The columns for each list Kit answers, most useful first; ``id`` last.
KNOWN: dict[str, tuple[Column, ...]] = {
    "subscribers": _columns(
        ("email_address", "Email"),
        ("first_name", "First name"),
        ("state", "State"),
        ("created_at", "Created"),
        ("id", "ID"),
    ),
    "tags": _columns(("name", "Name"), ("created_at", "Created"), ("id", "ID")),
    "forms": _columns(
        ("name", "Name"),
        ("type", "Type"),
        ("format", "Format"),
        ("archived", "Archived"),
        ("created_at", "Created"),
        ("id", "ID"),
    ),
    "sequences": _columns(
        ("name", "Name"),
        ("active", "Active"),
        ("email_count", "Emails"),
        ("subscriber_count", "Subscribers"),
        ("hold", "Hold"),
        ("repeat", "Repeat"),
        ("created_at", "Created"),
        ("id", "ID"),
    ),
    "broadcasts": _columns(
        ("subject", "Subject"),
        ("status", "Status"),
        ("send_at", "Send at"),
        ("published_at", "Published"),
        ("public", "Public"),
        ("created_at", "Created"),
        ("id", "ID"),
    ),
    "custom_fields": _columns(("label", "Label"), ("key", "Key"), ("name", "Name"), ("id", "ID")),
    "email_templates": _columns(
        ("name", "Name"), ("category", "Category"), ("is_default", "Default"), ("id", "ID")
    ),
}


def list_items(body: object) -> tuple[str, list[Any]] | None:
    """Return the name and items of a Kit list answer, or ``None`` if ``body`` is not one.

    A list answer is an object with a ``pagination`` object and one list of objects beside
    it (an empty list counts).
    """
    if not isinstance(body, dict) or not isinstance(body.get("pagination"), dict):
        return None
    found = [
        (name, value)
        for name, value in body.items()
        if name != "pagination"
        and isinstance(value, list)
        and all(isinstance(item, dict) for item in value)
    ]
    if len(found) != 1:
        return None
    return found[0]


def columns_for(kind: str, items: Sequence[Mapping[str, Any]]) -> tuple[tuple[Column, ...], bool]:
    """Return the columns for ``items`` of the list ``kind``, and whether ``kind`` is known.

    Subscribers get one more column per custom field key seen in ``items`` (in order of first
    appearance); a key that clashes with another column is named ``fields.<key>``.
    """
    known = KNOWN.get(kind)
    if known is None:
        return _generic_columns(items), False
    columns = list(known)
    if kind == "subscribers":
        taken = {c.key for c in columns}
        for key in _field_keys(items):
            title = _readable(key) if key not in taken else f"{FIELDS}.{key}"
            columns.append(Column(f"{FIELDS}.{key}", title))
    return tuple(columns), True


def cell(item: Mapping[str, Any], key: str) -> Cell:
    """Return one item's value for ``key`` flattened to a cell (nested values as JSON)."""
    if key.startswith(FIELDS + ".") and key not in item:
        fields = item.get(FIELDS)
        value = fields.get(key[len(FIELDS) + 1 :]) if isinstance(fields, dict) else None
    else:
        value = item.get(key)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def rows_of(
    items: Iterable[Mapping[str, Any]], columns: Sequence[Column]
) -> list[tuple[Cell, ...]]:
    """Return each item's cells for ``columns``."""
    keys = [c.key for c in columns]
    return [tuple(cell(item, key) for key in keys) for item in items]


def answer_table(body: object) -> AnswerTable | None:
    """Return a list answer as a table, or ``None`` when ``body`` is not a list answer."""
    found = list_items(body)
    if found is None:
        return None
    kind, items = found
    columns, known = columns_for(kind, items)
    rows = rows_of(items, columns)
    return AnswerTable(kind, tuple(c.title for c in columns), tuple(rows), known)


def _readable(key: str) -> str:
    """A custom field's key as a heading: ``last_name`` reads "Last name"."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _field_keys(items: Sequence[Mapping[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for item in items:
        fields = item.get(FIELDS)
        if isinstance(fields, dict):
            keys.update(dict.fromkeys(str(k) for k in fields))
    return list(keys)


def _generic_columns(items: Sequence[Mapping[str, Any]]) -> tuple[Column, ...]:
    keys: dict[str, None] = {}
    for item in items:
        for key, value in item.items():
            if value is None or isinstance(value, str | int | float | bool):
                keys.setdefault(str(key))
        if len(keys) >= MAX_GENERIC_COLUMNS:
            break
    return tuple(Column(key, key) for key in list(keys)[:MAX_GENERIC_COLUMNS])
