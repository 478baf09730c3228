"""A start-up probe for ``bench/startup.py``: first paint, idle memory, then quit.

Switched on by ``KIT_STARTUP_PROBE=<settle milliseconds>`` (source and frozen builds
alike). It prints two lines on stdout and quits the application:

``kit-probe painted deferred=<ok|names>``
    right after the window's first paint; ``deferred`` lists any of the modules that
    must not be loaded before the first paint (requests, keyring, the sandbox).
``kit-probe idle hwm_kib=<peak> rss_kib=<now>``
    ``settle`` milliseconds later, with the process's peak and current memory.

The bare-window baseline in ``bench/`` uses the same probe, so both are measured alike.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer

PROBE_VARIABLE = "KIT_STARTUP_PROBE"
DEFERRED_MODULES = ("requests", "keyring", "kit_desktop.sandbox")


def probe_settle_ms() -> int | None:
    """Return the settle time the environment asks for, or None when the probe is off."""
    raw = os.environ.get(PROBE_VARIABLE, "").strip()
    if not raw.isdigit():
        return None
    return min(int(raw), 60_000)


def memory_kib() -> tuple[int, int]:
    """Return this process's (peak, current) resident memory in KiB (0, 0 off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        return 0, 0

    def kib(name: str) -> int:
        return int(fields.get(name, "0 kB").split()[0])

    return kib("VmHWM"), kib("VmRSS")


class StartupProbe(QObject):
    """Watches one window for its first paint, reports, waits, reports memory, quits.

    Args:
        window: The top-level window to watch.
        settle_ms: How long to wait after the first paint before the memory report.
    """

    def __init__(self, window: QObject, settle_ms: int) -> None:
        super().__init__(window)
        self._settle_ms = settle_ms
        self._painted = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Note the first paint; report once the paint has been flushed."""
        if not self._painted and event.type() == QEvent.Type.Paint:
            self._painted = True
            QTimer.singleShot(0, self._report_paint)
        return False

    def _report_paint(self) -> None:
        early = [name for name in DEFERRED_MODULES if name in sys.modules]
        print(f"kit-probe painted deferred={','.join(early) or 'ok'}", flush=True)
        QTimer.singleShot(self._settle_ms, self._report_idle)

    def _report_idle(self) -> None:
        peak, now = memory_kib()
        print(f"kit-probe idle hwm_kib={peak} rss_kib={now}", flush=True)
        QCoreApplication.quit()
