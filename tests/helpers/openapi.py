"""Check response bodies against Kit's OpenAPI v4 response schemas (tests/sandbox copies).

Two files hold them, read as one: ``kit_v4_schemas.json`` (made by ``extract_schemas.py``
from the shared OpenAPI subset) and ``kit_v4_schemas_extra.json`` (kept by hand: the
operations the subset lacks, each with the Kit page it came from).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMAS_FILE = Path(__file__).resolve().parents[1] / "sandbox" / "kit_v4_schemas.json"
EXTRA_FILE = SCHEMAS_FILE.with_name("kit_v4_schemas_extra.json")

_MAX_ERRORS = 10
_MAX_MESSAGE = 300


def validate_response(method: str, path: str, status: int, body: object) -> None:
    """Assert that ``body`` matches Kit's documented schema for that response.

    Args:
        method: The HTTP method, e.g. ``"GET"`` (any case).
        path: The request path, e.g. ``"/v4/subscribers"`` or ``"/v4/tags/12/subscribers"``
            (a segment fills a ``{name}`` of Kit's path template); a query string is ignored.
        status: The response's status code.
        body: The parsed JSON body.

    Raises:
        KeyError: The spec documents no schema for ``METHOD path status``.
        AssertionError: The body does not match; the message lists where and why.
    """
    key = schema_key(method, path, status)
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


def validate_answer(method: str, path: str, status: int, body: object) -> None:
    """Check a sandbox answer as strictly as Kit documents it.

    Like :func:`validate_response`, with two allowances the documents force: an error status
    Kit documents no schema for (a 422 for a bad query parameter, a 404 for a method the path
    does not have) must still be Kit's ``{"errors": [<strings>]}``; and an empty page's
    cursors, which Kit's example-made schemas type as strings, must be ``null``
    (KIT-API-NOTES §5.3), the rest of the page being validated.

    Raises:
        KeyError: A success Kit documents no schema for.
        AssertionError: The body does not match.
    """
    try:
        schema_key(method, path, status)
    except KeyError:
        if status < 400:
            raise
        assert isinstance(body, dict) and set(body) == {"errors"}, body
        assert body["errors"] and all(isinstance(e, str) for e in body["errors"]), body
        return
    if isinstance(body, dict) and any(value == [] for value in body.values()):
        paging = body.get("pagination")
        if isinstance(paging, dict) and paging.get("start_cursor") is None:
            assert paging.get("end_cursor") is None, paging
            body = {**body, "pagination": {**paging, "start_cursor": "", "end_cursor": ""}}
    validate_response(method, path, status, body)


def schema_key(method: str, path: str, status: int) -> str:
    """Return the ``"METHOD /template status"`` key that documents this response.

    A key written with the path itself wins; otherwise a template whose ``{name}`` parts
    match the path's segments (any name: ``{id}`` fits Kit's ``{form_id}``).

    Raises:
        KeyError: No schema documents it.
    """
    method, path = method.upper(), path.split("?", 1)[0]
    exact = f"{method} {path} {status}"
    if exact in _document() and not exact.startswith("_"):
        return exact
    wanted = path.split("/")
    for key in schema_keys():
        key_method, template, key_status = key.split(" ")
        parts = template.split("/")
        if (key_method, key_status) != (method, str(status)) or len(parts) != len(wanted):
            continue
        if all(_fits(part, given) for part, given in zip(parts, wanted, strict=True)):
            return key
    raise KeyError(f"No schema for {exact!r} in {SCHEMAS_FILE.name} or {EXTRA_FILE.name}")


def schema_source(key: str) -> str:
    """Return where a schema came from: its Kit page, or the shared subset's file.

    Raises:
        KeyError: No schema has that key.
    """
    if key in _extra():
        source: str = _extra()[key]["source"]
        return source
    if key.startswith("_") or key not in _document():
        raise KeyError(key)
    file: str = _document()["_source"]["file"]
    return file


def _fits(part: str, given: str) -> bool:
    """Whether a path segment (or another template's ``{name}``) fits a template's part."""
    if part.startswith("{") and part.endswith("}"):
        return bool(given)
    return part == given


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
    """Both files as one: the generated file's keys, then each extra entry's schema."""
    with SCHEMAS_FILE.open(encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
    extra = _extra()
    clash = set(extra) & set(document)
    if clash:
        raise ValueError(f"{EXTRA_FILE.name} repeats {sorted(clash)}")
    examples = {**document["_examples"]}
    examples.update({key: entry["example"] for key, entry in extra.items()})
    merged = {key: value for key, value in document.items() if key != "_examples"}
    merged.update({key: entry["schema"] for key, entry in extra.items()})
    merged["_examples"] = examples
    return merged


@functools.cache
def _extra() -> dict[str, Any]:
    """The hand-kept entries of ``kit_v4_schemas_extra.json`` (without its ``_source``)."""
    with EXTRA_FILE.open(encoding="utf-8") as handle:
        entries: dict[str, Any] = json.load(handle)
    return {key: entry for key, entry in entries.items() if not key.startswith("_")}


@functools.cache
def _validator(key: str) -> Draft7Validator:
    document = _document()
    if key.startswith("_") or key not in document:
        raise KeyError(f"No schema for {key!r} in {SCHEMAS_FILE.name}")
    schema = to_json_schema(document[key])
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)
