"""Pure text helpers for times and countdowns shown in the window."""

from __future__ import annotations

import math
import time
from datetime import date, datetime, timedelta

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

_CONTEXT = "format"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def format_duration(seconds: float) -> str:
    """A rounded-down length of time in the two largest units.

    Args:
        seconds: The length; negative values count as zero.

    Returns:
        For example ``"2 d 3 h"``, ``"1 h 58 min"``, ``"12 min"`` or ``"42 s"``.
    """
    whole = max(0, math.floor(seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        if hours:
            return _tr("{days} d {hours} h").format(days=days, hours=hours)
        return _tr("{days} d").format(days=days)
    if hours:
        if minutes:
            return _tr("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
        return _tr("{hours} h").format(hours=hours)
    if minutes:
        return _tr("{minutes} min").format(minutes=minutes)
    return _tr("{seconds} s").format(seconds=secs)


def format_remaining(seconds: float) -> str:
    """How long until access expires, in words.

    Args:
        seconds: Time left until expiry (``expires_at - now``).

    Returns:
        ``"Expires in 1 h 58 min"``, ``"Expires in 42 s"``, or ``"Expired"`` once no
        whole second is left.
    """
    if seconds < 1:
        return _tr("Expired")
    return _tr("Expires in {duration}").format(duration=format_duration(seconds))


def format_countdown(seconds: float) -> str:
    """A clock-style countdown, rounded up so it reads ``0:00`` only at the end.

    Args:
        seconds: Time left; negative values count as zero.

    Returns:
        ``"4:32"``, or ``"1:04:32"`` from one hour up.
    """
    whole = max(0, math.ceil(seconds))
    hours, rest = divmod(whole, 3_600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_local_time(
    timestamp: float, *, now: float | None = None, locale: QLocale | None = None
) -> str:
    """A wall-clock time in the user's time zone and locale, with the day in words nearby.

    Args:
        timestamp: Seconds since the epoch.
        now: The current time, for "today" and "tomorrow"; defaults to ``time.time()``.
        locale: The locale to format with; defaults to the system locale.

    Returns:
        ``"today at 14:05"``, ``"tomorrow at 09:30"``, ``"yesterday at 18:00"``, or the
        short date and time (``"3/12/25 at 2:05 PM"``, depending on the locale).
    """
    locale = locale or QLocale.system()
    moment = datetime.fromtimestamp(timestamp)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    clock = locale.toString(
        QTime(moment.hour, moment.minute, moment.second), QLocale.FormatType.ShortFormat
    )
    day = _relative_day(moment.date(), today)
    if day is None:
        day = locale.toString(
            QDate(moment.year, moment.month, moment.day), QLocale.FormatType.ShortFormat
        )
    return _tr("{day} at {time}").format(day=day, time=clock)


def format_exact_time(timestamp: float) -> str:
    """The exact local time with its UTC offset, for tooltips: ``2025-03-12 14:05:09+01:00``."""
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(sep=" ", timespec="seconds")


def _relative_day(day: date, today: date) -> str | None:
    if day == today:
        return _tr("today")
    if day == today + timedelta(days=1):
        return _tr("tomorrow")
    if day == today - timedelta(days=1):
        return _tr("yesterday")
    return None
