"""Finisher: after Kit's answer, exchange the code, then keep the tokens (two steps)."""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import QObject, Signal

from kit_desktop.auth.attempt import AuthorizationAttempt
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.connection import Connection, Snapshot
from kit_desktop.errors import KitError
from kit_desktop.qt.workers import Task, Workers

log = logging.getLogger(__name__)


class Finisher(QObject):
    """Runs the exchange and the keep off the GUI thread, and undoes them after a cancel.

    Nothing is stored until the exchange has worked and the attempt is still the current
    one; tokens that arrive after :meth:`cancel` are revoked (and whatever they replaced is
    put back). Tokens the new ones replaced are revoked only once the new connection is
    settled. Why two steps: ``docs/decisions/`` ("Exchange and keep as two steps").

    Signals:
        kept(object): The :class:`Snapshot` of the new connection (now saved).
        failed(object): Why the exchange or the keep failed (a ``KitError``); the saved
            connection, if any, is untouched.
        undone(): Tokens that came after a cancel were revoked and the store restored.

    Args:
        connection: Exchanges, keeps, retires and discards.
        workers: Where the blocking steps run.
    """

    kept = Signal(object)
    failed = Signal(object)
    undone = Signal()

    def __init__(
        self, connection: Connection, workers: Workers, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._connection = connection
        self._workers = workers
        self._task: Task | None = None  # the step whose result counts
        self._keeping = False

    @property
    def keeping(self) -> bool:
        """Whether new tokens are being saved now (they may replace saved ones)."""
        return self._keeping

    def start(self, code: str, attempt: AuthorizationAttempt) -> None:
        """Trade ``code`` for tokens, then keep them."""
        self._task = self._workers.run(
            functools.partial(self._connection.exchange, code, attempt),
            self._on_exchanged,
            self._on_failed,
        )

    def cancel(self) -> bool:
        """Let the running step's result count no more; returns whether it was the keep."""
        keeping, self._keeping = self._keeping, False
        self._task = None
        return keeping

    def _current(self) -> bool:
        return self._workers.current_task is self._task and self._task is not None

    def _on_exchanged(self, tokens: TokenSet) -> None:
        if not self._current():
            log.info("an exchange finished after cancel; revoking its tokens")
            self._discard(tokens)
            return
        self._keeping = True
        self._task = self._workers.run(
            functools.partial(self._connection.keep, tokens), self._on_kept, self._on_failed
        )

    def _on_kept(self, result: Snapshot) -> None:
        if not self._current():
            if result.tokens is not None:
                log.info("tokens were saved after cancel; revoking them")
                self._discard(result.tokens, result.replaced)
            return
        self._task = None
        self._keeping = False
        if result.replaced:  # revoked only now that the new connection is settled (case 76)
            self._workers.run(
                functools.partial(self._connection.retire, result.replaced, result.tokens),
                _ignore,
                _ignore,
            )
        self.kept.emit(result)

    def _on_failed(self, error: KitError) -> None:
        if not self._current():
            return
        self._task = None
        self._keeping = False  # a failed save leaves the saved connection in place
        self.failed.emit(error)

    def _discard(self, tokens: TokenSet, restore: tuple[TokenSet, ...] = ()) -> None:
        self._workers.run(
            functools.partial(self._connection.discard, tokens, restore),
            self._on_discarded,
            self._on_discarded,
        )

    def _on_discarded(self, outcome: object) -> None:
        if isinstance(outcome, KitError):
            log.info("tokens not revoked: %s", outcome.detail or type(outcome).__name__)
        self.undone.emit()


def _ignore(outcome: object) -> None:
    """For work whose outcome changes nothing on screen (it is logged where it happens)."""
