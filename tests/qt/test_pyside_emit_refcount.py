"""Guard: the installed PySide6 must not leak a reference to True on every emit().

PySide6 6.12.0 does (a few thousand emits abort CPython 3.11 with ``bool_dealloc``), so
pyproject.toml excludes it; this test fails at once if such a build is installed again.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    fired = Signal(object)


def test_emit_keeps_the_reference_count_of_true() -> None:
    probe = _Probe()
    emits = 2_000
    before = sys.getrefcount(True)
    for _ in range(emits):
        probe.fired.emit(1)
    # A faulty build loses one reference per emit; other threads (the suite's servers and
    # workers) may drop a few of their own meanwhile, so only a loss per emit counts.
    assert before - sys.getrefcount(True) < emits // 2
