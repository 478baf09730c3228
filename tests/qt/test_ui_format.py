"""The pure text helpers: remaining time, clock countdowns and local times."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from PySide6.QtCore import QDate, QLocale

from kit_desktop.ui.format import (
    format_countdown,
    format_duration,
    format_exact_time,
    format_local_time,
    format_remaining,
)

BRITISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (7080, "Expires in 1 h 58 min"),
        (7080.9, "Expires in 1 h 58 min"),
        (7199, "Expires in 1 h 59 min"),
        (3600, "Expires in 1 h"),
        (600, "Expires in 10 min"),
        (61, "Expires in 1 min"),
        (42, "Expires in 42 s"),
        (1, "Expires in 1 s"),
        (90_000, "Expires in 1 d 1 h"),
        (172_800, "Expires in 2 d"),
        (0.5, "Expired"),
        (0, "Expired"),
        (-30, "Expired"),
    ],
)
def test_format_remaining(seconds: float, text: str) -> None:
    assert format_remaining(seconds) == text


def test_format_duration_never_negative() -> None:
    assert format_duration(-5) == "0 s"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (272, "4:32"),
        (271.2, "4:32"),
        (59.5, "1:00"),
        (9, "0:09"),
        (3872, "1:04:32"),
        (0, "0:00"),
        (-3, "0:00"),
    ],
)
def test_format_countdown(seconds: float, text: str) -> None:
    assert format_countdown(seconds) == text


def _local(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute).timestamp()  # local time on purpose


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (_local(2025, 3, 12, 14, 5), "today at 14:05"),
        (_local(2025, 3, 13, 9, 30), "tomorrow at 09:30"),
        (_local(2025, 3, 11, 18, 0), "yesterday at 18:00"),
    ],
)
def test_format_local_time_names_nearby_days(moment: float, words: str) -> None:
    now = _local(2025, 3, 12, 9, 0)
    assert format_local_time(moment, now=now, locale=BRITISH) == words


def test_format_local_time_gives_the_date_further_away() -> None:
    now = _local(2025, 3, 12, 9, 0)
    date = BRITISH.toString(QDate(2025, 3, 1), QLocale.FormatType.ShortFormat)
    text = format_local_time(_local(2025, 3, 1, 7, 45), now=now, locale=BRITISH)
    assert text == f"{date} at 07:45"


def test_format_exact_time_has_an_offset() -> None:
    text = format_exact_time(_local(2025, 3, 12, 14, 5))
    assert re.fullmatch(r"2025-03-12 14:05:00[+-]\d\d:\d\d", text)
