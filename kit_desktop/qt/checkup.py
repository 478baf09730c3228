"""Help > "Check this computer…": the check-up on a worker thread, its results as a signal."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from kit_desktop.config import Settings
from kit_desktop.doctor_report import CheckResult, Checkup
from kit_desktop.errors import KitError
from kit_desktop.qt.workers import Task, Workers

Checks = Callable[[], Checkup]


class ComputerCheck(QObject):
    """Runs :func:`kit_desktop.doctor.run_checks` off the GUI thread, one run at a time.

    Args:
        settings: The Kit app the window uses (practice mode: aimed at its sandbox).
        practice: Whether that is the practice Kit (for the report's first line).
        backend: The keyring back-end the window uses (default: this computer's).
        checks: What to run (default: every check of :mod:`kit_desktop.doctor`).
        parent: The owning object.

    Signals:
        finished(object): The :class:`~kit_desktop.doctor_report.Checkup`, on the GUI thread.
    """

    finished = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        practice: bool = False,
        backend: object | None = None,
        checks: Checks | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._practice = practice
        self._backend = backend
        self._checks = checks if checks is not None else self._all_checks
        self._workers = Workers(self, max_threads=1)
        self._task: Task | None = None

    @property
    def running(self) -> bool:
        """Whether a check-up is under way."""
        return self._task is not None

    def start(self) -> None:
        """Start a check-up unless one is running (its results will come then)."""
        if self._task is None:
            self._task = self._workers.run(self._checks, self._on_done, self._on_failed)

    def shutdown(self) -> None:
        """Start nothing new; a running check-up's results are dropped."""
        self._task = None
        self._workers.shutdown(msecs=0)

    def _all_checks(self) -> Checkup:
        from kit_desktop.doctor import heading, run_checks  # only when asked

        results = run_checks(self._settings, backend=self._backend)
        return Checkup(heading(self._settings, practice=self._practice), results)

    def _on_done(self, checkup: Checkup) -> None:
        self._task = None
        self.finished.emit(checkup)

    def _on_failed(self, error: KitError) -> None:
        self._task = None
        broken = CheckResult(
            "checkup",
            "Check-up",
            False,
            False,
            f"The check-up could not run ({error.detail or error.user_message}).",
            "Send the log file to whoever helps you.",
        )
        self.finished.emit(Checkup("", (broken,)))
