"""Turn an API answer's bytes into text for a plain-text view: JSON, text, binary or empty."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from kit_desktop.json_words import plain_json_words

BodyKind = Literal["json", "text", "binary", "empty"]

PREVIEW_CHARS = 200_000
BINARY_PREVIEW_BYTES = 256
_SNIFF_BYTES = 8192
_BINARY_TYPES = ("image/", "audio/", "video/", "font/")
_BINARY_APPS = {
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-protobuf",
}
_NOT_JSON_TYPES = {"text/html", "application/xhtml+xml", "text/xml", "application/xml"}
_SPACES = re.compile(r"\s+")
_JSON_START = re.compile(r"\s*[\[{]")
_MAX_SUMMARY = 500


@dataclass(frozen=True)
class FormattedBody:
    """An answer's body ready for a plain-text view.

    Attributes:
        text: What to show (the first ``preview_chars`` characters when ``truncated_view``).
        kind: ``json`` (pretty-printed), ``text`` (as received), ``binary`` (a hex preview)
            or ``empty``.
        error: Why JSON-looking text is shown as received, or ``None``.
        lines: How many lines the whole formatted text has.
        truncated_view: Whether ``text`` is only the start (offer "Show all").
    """

    text: str
    kind: BodyKind
    error: str | None
    lines: int
    truncated_view: bool


class _RepeatedKeyError(ValueError):
    """A JSON object names the same key twice; pretty-printing would drop one."""


def format_body(
    body: bytes,
    content_type: str,
    *,
    preview_chars: int | None = PREVIEW_CHARS,
    cut_off: bool = False,
) -> FormattedBody:
    """Format ``body`` for display according to ``content_type`` and what the bytes look like.

    Args:
        body: The bytes received.
        content_type: The ``Content-Type`` header ('' when absent).
        preview_chars: Keep at most this many characters in ``text`` (``None``: all of them).
        cut_off: The app stopped reading before the end, so JSON cannot be complete.
    """
    if not body or body.isspace():
        return FormattedBody("", "empty", None, 0, truncated_view=False)
    media, charset = _media_type(content_type)
    if _is_binary(body, media, charset):
        return _binary(body)
    text = body.decode(charset, "replace")
    text = text[1:] if text.startswith("\ufeff") else text
    declared = media == "application/json" or media.endswith("+json")
    if declared or (_JSON_START.match(text) and media not in _NOT_JSON_TYPES):
        pretty, error = _pretty_json(text, cut_off=cut_off)
        if pretty is not None:
            return _preview(pretty, "json", None, preview_chars)
        return _preview(text, "text", error if declared or cut_off else None, preview_chars)
    return _preview(text, "text", None, preview_chars)


def summarize_errors(body: bytes) -> str:
    """Return Kit's ``{"errors": [...]}`` as one plain sentence, or '' for anything else.

    Items may be strings or (for sequences) lists of strings.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, str):
        errors = [errors]
    if not isinstance(errors, list):
        return ""
    parts: list[str] = []
    for item in errors:
        texts = item if isinstance(item, list) else [item]
        parts += [_SPACES.sub(" ", t).strip() for t in texts if isinstance(t, str)]
    sentence = "; ".join(part for part in parts if part)
    return sentence if len(sentence) <= _MAX_SUMMARY else sentence[: _MAX_SUMMARY - 1] + "…"


def json_error_position(text: str) -> tuple[int, int, str] | None:
    """Check the body editor's text: ``(line, column, message)`` of the first problem.

    Empty text (no body) is fine. Lines and columns start at 1.
    """
    if not text.strip():
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno, exc.msg
    except RecursionError:
        return 1, 1, "Nested too deeply"
    except ValueError as exc:
        return 1, 1, str(exc)
    return None


def json_problem(text: str) -> tuple[int, int, str] | None:
    """Check typed JSON: ``(line, column, what to do)`` in plain words, or ``None`` when fine.

    Empty text (no body) is fine. Lines and columns start at 1; the words are those of
    :func:`kit_desktop.json_words.plain_json_words` and end with a full stop.
    """
    if not text.strip():
        return None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.colno, plain_json_words(exc.msg, exc.doc, exc.pos)
    except RecursionError:
        return 1, 1, plain_json_words("Nested too deeply", text, 0)
    except ValueError as exc:
        return 1, 1, plain_json_words(str(exc), text, 0)
    return None


def _pretty_json(text: str, *, cut_off: bool) -> tuple[str | None, str]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
        return json.dumps(data, indent=2, ensure_ascii=False), ""
    except json.JSONDecodeError as exc:
        if cut_off:
            return None, "The answer was cut off, so it is shown as received."
        return None, f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        return None, "The JSON is nested too deeply to format, so it is shown as received."
    except _RepeatedKeyError as exc:
        return None, f"The JSON repeats the key {exc}, so it is shown as received."
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        return None, f"The JSON could not be formatted ({exc}), so it is shown as received."


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _RepeatedKeyError(json.dumps(key, ensure_ascii=False)[:80])
        result[key] = value
    return result


def _preview(text: str, kind: BodyKind, error: str | None, limit: int | None) -> FormattedBody:
    lines = text.count("\n") + 1
    if limit is not None and len(text) > limit:
        return FormattedBody(text[:limit], kind, error, lines, truncated_view=True)
    return FormattedBody(text, kind, error, lines, truncated_view=False)


def _media_type(content_type: str) -> tuple[str, str]:
    media, _, params = content_type.partition(";")
    charset = "utf-8"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            candidate = value.strip().strip('"').lower()
            try:
                codecs.lookup(candidate)
            except LookupError:
                continue
            charset = candidate
    return media.strip().lower(), charset


def _is_binary(body: bytes, media: str, charset: str) -> bool:
    if media.startswith(_BINARY_TYPES) or media in _BINARY_APPS:
        return True
    sample = body[:_SNIFF_BYTES]
    if charset.replace("_", "-").startswith(("utf-16", "utf-32")):
        return False
    if b"\x00" in sample:
        return True
    text = sample.decode(charset, "replace")
    odd = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f"))
    return odd > 0.3 * max(1, len(text))


def _binary(body: bytes) -> FormattedBody:
    head = body[:BINARY_PREVIEW_BYTES]
    rows = [f"Binary content, {_size(len(body))}; not shown as text. The first bytes:", ""]
    for offset in range(0, len(head), 16):
        row = head[offset : offset + 16]
        hexes = " ".join(f"{b:02x}" for b in row)
        chars = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        rows.append(f"{offset:08x}  {hexes:<47}  |{chars}|")
    if len(body) > len(head):
        rows.append("…")
    return FormattedBody("\n".join(rows), "binary", None, len(rows), truncated_view=False)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB ({count:,} bytes)"
    return f"{count / (1024 * 1024):.1f} MB ({count:,} bytes)"
