"""This run's requests, newest first; choosing one loads it again. Kept in memory only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QDateTime, QLocale, Qt, Signal, Slot
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

if TYPE_CHECKING:
    from kit_desktop.qt.api_requests import HistoryEntry

_ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


class HistoryList(QListWidget):
    """Method and path, then the outcome, time taken and time of day, for each request.

    Signals:
        load_requested(object): The creator chose an entry; carries its request.
    """

    load_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the empty list."""
        super().__init__(parent)
        self.setAccessibleName(self.tr("History"))
        self.setAccessibleDescription(
            self.tr("This session's requests. Choose one to load it again. Nothing is saved.")
        )
        self.setWordWrap(True)
        self.itemActivated.connect(self._on_item_chosen)
        self.itemClicked.connect(self._on_item_chosen)

    def show_entries(self, entries: Sequence[HistoryEntry]) -> None:
        """Show ``entries`` (newest first)."""
        self.clear()
        for entry in entries:
            request = entry.request
            details = [entry.outcome, _clock_time(entry.at)]
            if entry.seconds is not None:
                details.insert(1, self.tr("{ms} ms").format(ms=round(entry.seconds * 1000)))
            item = QListWidgetItem(f"{request.method} {request.path}\n" + " · ".join(details))
            item.setData(_ENTRY_ROLE, entry)
            item.setToolTip(f"{request.method} {request.target}")
            self.addItem(item)

    @Slot(QListWidgetItem)
    def _on_item_chosen(self, item: QListWidgetItem) -> None:
        request = getattr(item.data(_ENTRY_ROLE), "request", None)
        if request is not None:
            self.load_requested.emit(request)


def _clock_time(timestamp: float) -> str:
    """The local time of day in the user's short format (history is for this run only)."""
    moment = QDateTime.fromMSecsSinceEpoch(round(timestamp * 1000)).time()
    return QLocale().toString(moment, QLocale.FormatType.ShortFormat)
