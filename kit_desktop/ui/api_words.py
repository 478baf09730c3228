"""Plain words and colours for an answer: its status, time and size, and what went wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale

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
    """Time taken and size, and whether access was renewed or the answer cut short."""
    response = result.response
    seconds = response.seconds
    took = (
        _tr("{ms} ms").format(ms=round(seconds * 1000))
        if seconds < 1
        else _tr("{s} s").format(s=f"{seconds:.1f}")
    )
    parts = [took, format_size(response.size)]
    if response.retried:
        parts.append(_tr("your access was renewed and the request sent again"))
    if response.truncated:
        parts.append(_tr("only the first {size} were read").format(size=format_size(response.size)))
    return "  ·  ".join(parts)
