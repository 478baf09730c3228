"""The check-up's results as plain values, and their text and JSON (no I/O, no Qt).

``kit-desktop doctor`` and Help > "Check this computer…" run the same checks
(:mod:`kit_desktop.doctor`); this module is what both show. The window's dialog imports
only this, so widgets never see the keyring or the network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import Enum


class Level(Enum):
    """How a check came out, as its line starts."""

    OK = "OK"
    #: Something is wrong, but connecting still works.
    WARNING = "Warning"
    #: Connecting cannot work until this is fixed.
    PROBLEM = "Problem"


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, in words for the creator and precise enough for a helper.

    Attributes:
        name: A stable short name for support (``ports``, ``storage``...).
        title: What was checked, in plain words ("Secure storage").
        ok: Whether all is well (an OK may still carry a note in ``message``).
        blocking: Whether this stops Kit Desktop from connecting.
        message: What was found.
        fix: What to do about it ('' when nothing).
    """

    name: str
    title: str
    ok: bool
    blocking: bool
    message: str
    fix: str = ""

    @property
    def level(self) -> Level:
        """OK, a warning (connecting still works) or a problem (it does not)."""
        if self.blocking:
            return Level.PROBLEM
        return Level.OK if self.ok else Level.WARNING


@dataclass(frozen=True)
class Checkup:
    """One whole check-up: what was checked for, and each check's result in order.

    Attributes:
        heading: The first line: the app, its version and which Kit was checked for.
        results: The checks' results.
    """

    heading: str
    results: tuple[CheckResult, ...]

    @property
    def text(self) -> str:
        """The check-up as plain text (see :func:`report_text`)."""
        return report_text(self.results, self.heading)


def blocked(results: Sequence[CheckResult]) -> bool:
    """Whether any result stops connecting (the command's exit code is then 1)."""
    return any(result.blocking for result in results)


def summary(results: Sequence[CheckResult]) -> str:
    """One sentence on the whole check-up."""
    problems = [r.title for r in results if r.level is Level.PROBLEM]
    warnings = [r.title for r in results if r.level is Level.WARNING]
    if problems:
        count = "1 problem stops" if len(problems) == 1 else f"{len(problems)} problems stop"
        return f"{count} Kit Desktop from connecting: {', '.join(problems)}."
    if warnings:
        things = "1 thing needs" if len(warnings) == 1 else f"{len(warnings)} things need"
        return f"Nothing stops Kit Desktop from connecting, but {things} a look: " + (
            f"{', '.join(warnings)}."
        )
    return "All is well: nothing stops Kit Desktop from connecting."


def report_text(results: Sequence[CheckResult], heading: str = "") -> str:
    """The check-up as plain text: one line per check, then what to do, then the summary."""
    width = max(len(level.value) for level in Level) + 2
    lines = [heading, ""] if heading else []
    for result in results:
        lines.append(f"{result.level.value:<{width}}{result.title}: {result.message}")
        if result.fix:
            lines.append(f"{'':<{width}}What to do: {result.fix}")
    lines += ["", summary(results)]
    return "\n".join(lines)


def report_json(results: Sequence[CheckResult]) -> str:
    """The check-up as a JSON list of ``{name, title, ok, blocking, level, message, fix}``."""
    return json.dumps(
        [{**asdict(result), "level": result.level.value} for result in results],
        indent=2,
        ensure_ascii=False,
    )
