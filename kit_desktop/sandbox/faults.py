"""Fault knobs: make one route slow, fail, answer garbage or drop the connection."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["delay", "status", "malformed", "html", "drop", "drop_after", "redirect"]


@dataclass
class Fault:
    """What to do to requests on one path.

    Attributes:
        kind: ``delay`` (wait, then answer normally), ``status`` (answer ``status`` with an
            error body), ``malformed`` (200 with truncated JSON), ``html`` (200 with a proxy's
            HTML page), ``drop`` (close the connection without answering), ``drop_after``
            (handle the request, then close without answering: a lost response), or
            ``redirect`` (307 to ``location``).
        seconds: How long ``delay`` waits (also applied before any other kind).
        status: The status for ``status``.
        location: The target for ``redirect``.
        times: How many requests it applies to; ``None`` means every request.
        after: How many requests on the path pass untouched first (a fault midway).
    """

    kind: FaultKind
    seconds: float = 0.0
    status: int = 500
    location: str = "https://evil.example/"
    times: int | None = None
    after: int = 0


class FaultTable:
    """Per-server fault settings, safe to change while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def set(self, path: str, fault: Fault) -> None:
        """Apply ``fault`` to requests whose path is exactly ``path``."""
        with self._lock:
            self._faults[path] = fault

    def clear(self, path: str | None = None) -> None:
        """Remove the fault on ``path``, or every fault."""
        with self._lock:
            if path is None:
                self._faults.clear()
            else:
                self._faults.pop(path, None)

    def take(self, path: str) -> Fault | None:
        """Return the fault for ``path`` and count one use of it."""
        with self._lock:
            fault = self._faults.get(path)
            if fault is None:
                return None
            if fault.after > 0:
                fault.after -= 1
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[path]
            return fault
