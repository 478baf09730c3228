"""Plain values for Kit's list answers: the table shown beside the JSON, an export's progress.

The API layer fills them (``api/tables.py``, ``api/export.py``) and the widgets show them;
they hold only text, numbers and tuples, so the widgets never import the API layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: One cell: what Kit sent, flattened (a nested value becomes compact JSON text).
Cell = str | int | float | bool | None


@dataclass(frozen=True)
class AnswerTable:
    """A list answer's items as rows, with the columns a creator cares about.

    Attributes:
        kind: The list's name in Kit's answer (``subscribers``, ``tags``...).
        titles: Each column's heading (``Email``, ``First name``...).
        rows: One tuple of cells per item, in Kit's order; each as long as ``titles``.
        known: Whether the columns were chosen for this kind of list (else every top-level
            scalar field of the items, in order of first appearance).
    """

    kind: str
    titles: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    known: bool = True

    @property
    def noun(self) -> str:
        """What the rows are, in plain words (``subscribers``, ``custom fields``...)."""
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class ExportProgress:
    """How far an export has gone.

    Attributes:
        written: Rows written so far.
        total: How many Kit says there are, when it said (``include_total_count``).
        noun: What the rows are (``subscribers``...).
        waiting: Seconds the export is waiting before its next request (Kit's rate limit, or
            a retry after a dropped connection); 0 when it is not waiting.
        why: Why it waits, in plain words ('' when it does not).
    """

    written: int
    total: int | None
    noun: str
    waiting: float = 0.0
    why: str = ""


ExportEnd = Literal["complete", "cancelled", "stopped"]


@dataclass(frozen=True)
class ExportOutcome:
    """How an export ended.

    Attributes:
        end: ``complete`` (the file holds every row), ``cancelled`` or ``stopped`` (the
            ``.part`` file holds only the rows written).
        path: The file written: the final name when complete, else the ``.part`` file.
        written: Rows written.
        message: What happened, in plain words.
    """

    end: ExportEnd
    path: str
    written: int
    message: str

    @property
    def complete(self) -> bool:
        """Whether the file holds every row."""
        return self.end == "complete"
