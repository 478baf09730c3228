"""Check response bodies against Kit's OpenAPI v4 response schemas (tests/sandbox copy)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMAS_FILE = Path(__file__).resolve().parents[1] / "sandbox" / "kit_v4_schemas.json"

_MAX_ERRORS = 10
_MAX_MESSAGE = 300


def validate_response(method: str, path: str, status: int, body: object) -> None:
    """Assert that ``body`` matches Kit's documented schema for that response.

    Args:
        method: The HTTP method, e.g. ``"GET"`` (any case).
        path: The request path, e.g. ``"/v4/subscribers"``; a query string is ignored.
        status: The response's status code.
        body: The parsed JSON body.

    Raises:
        KeyError: The spec documents no schema for ``METHOD path status``.
        AssertionError: The body does not match; the message lists where and why.
    """
    key = f"{method.upper()} {path.split('?', 1)[0]} {status}"
    validator = _validator(key)
    errors = sorted(validator.iter_errors(body), key=_where)
    if not errors:
        return
    lines = [f"{key}: the body does not match Kit's schema ({len(errors)} problem(s)):"]
    for error in errors[:_MAX_ERRORS]:
        message = error.message
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 3] + "..."
        lines.append(f"  at {error.json_path}: {message}")
    if len(errors) > _MAX_ERRORS:
        lines.append(f"  ... and {len(errors) - _MAX_ERRORS} more")
    raise AssertionError("\n".join(lines))


def schema_keys() -> list[str]:
    """Return every ``"METHOD /path status"`` key that has a schema.

    Returns:
        The keys, in the file's order.
    """
    return [key for key in _document() if not key.startswith("_")]


def spec_examples() -> dict[str, Any]:
    """Return the spec's own example bodies, keyed like the schemas.

    Returns:
        ``"METHOD /path status"`` -> example body.
    """
    examples: dict[str, Any] = _document()["_examples"]
    return examples


def to_json_schema(schema: Any) -> Any:
    """Convert an OpenAPI 3.0 schema object to JSON Schema (Draft 7).

    ``nullable: true`` becomes ``"null"`` in a ``type`` list (plus ``None`` in an ``enum``), or an
    ``anyOf`` with ``{"type": "null"}`` when the schema has no ``type``. Nested schemas under
    ``properties``, ``items``, ``additionalProperties``, ``allOf``/``anyOf``/``oneOf`` and ``not``
    are converted too; other keywords are kept as they are.

    Args:
        schema: An OpenAPI schema object (a dict; anything else is returned unchanged).

    Returns:
        A new JSON Schema object; the input is not modified.
    """
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for name, value in schema.items():
        if name == "nullable":
            continue
        if name == "properties" and isinstance(value, dict):
            result[name] = {prop: to_json_schema(sub) for prop, sub in value.items()}
        elif name in ("items", "additionalProperties", "not"):
            result[name] = to_json_schema(value)
        elif name in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            result[name] = [to_json_schema(sub) for sub in value]
        else:
            result[name] = value
    if schema.get("nullable") is not True:
        return result
    kind = result.get("type")
    if isinstance(kind, str):
        result["type"] = [kind, "null"]
        if isinstance(result.get("enum"), list) and None not in result["enum"]:
            result["enum"] = [*result["enum"], None]
        return result
    return {"anyOf": [result, {"type": "null"}]}


def _where(error: Any) -> list[tuple[bool, Any]]:
    """Sort key: the error's place in the body (list indexes before object keys)."""
    return [(isinstance(part, str), part) for part in error.absolute_path]


@functools.cache
def _document() -> dict[str, Any]:
    with SCHEMAS_FILE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    return document


@functools.cache
def _validator(key: str) -> Draft7Validator:
    document = _document()
    if key.startswith("_") or key not in document:
        raise KeyError(f"No schema for {key!r} in {SCHEMAS_FILE.name}")
    schema = to_json_schema(document[key])
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)
