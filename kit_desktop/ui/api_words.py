"""Plain words and colours: an answer's status, time and size; what is wrong in typed JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale

from kit_desktop.json_words import plain_json_words
from kit_desktop.ui.theme import Tone

if TYPE_CHECKING:
    from kit_desktop.qt.api_requests import ApiResult

_CONTEXT = "ApiWords"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def status_tone(status: int) -> Tone:
    """The colour of an HTTP status: green for success, amber for a refusal, red for trouble."""
    if 200 <= status < 300:
        return Tone.GOOD
    if status < 500:
        return Tone.ATTENTION
    return Tone.BAD


def format_size(count: int) -> str:
    """A byte count for people: ``512 bytes``, ``4.1 kB``, ``5.0 MB``."""
    return QLocale().formattedDataSize(count, 1, QLocale.DataSizeFormat.DataSizeTraditionalFormat)


def meta_line(result: ApiResult) -> str:
    """Time taken and size, short enough for one line beside the status: ``13 ms · 4.1 kB``."""
    response = result.response
    seconds = response.seconds
    took = (
        _tr("{ms} ms").format(ms=round(seconds * 1000))
        if seconds < 1
        else _tr("{s} s").format(s=f"{seconds:.1f}")
    )
    return " · ".join([took, format_size(response.size)])


def meta_notes(result: ApiResult) -> list[str]:
    """Sentences for under the status: whether access was renewed, or the answer cut short."""
    response = result.response
    notes = []
    if response.retried:
        notes.append(_tr("Your access was renewed and the request sent again."))
    if response.truncated:
        notes.append(
            _tr("Only the first {size} were read.").format(size=format_size(response.size))
        )
    return notes


def json_words(message: str, text: str, position: int) -> str:
    """What a :class:`json.JSONDecodeError` means for someone typing JSON, and what to do.

    Args:
        message: The parser's message (``exc.msg``), e.g. "Expecting ',' delimiter".
        text: The JSON as typed.
        position: Where the parser stopped (``exc.pos``).
    """
    return _tr(plain_json_words(message, text, position))
