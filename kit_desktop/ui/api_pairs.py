"""An editable name/value table (query parameters, headers) that always ends in an empty row."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

Pairs = list[tuple[str, str]]


class PairsTable(QTableWidget):
    """Name/value rows; type in the last (empty) row to add one, clear both cells to remove it.

    Signals:
        edited(): The creator changed a cell (not emitted by :meth:`set_pairs`).
    """

    edited = Signal()

    def __init__(
        self, name_title: str, value_title: str, description: str, parent: QWidget | None = None
    ) -> None:
        """Build the table.

        Args:
            name_title: The first column's heading.
            value_title: The second column's heading.
            description: What the rows are for (the accessible description).
            parent: The parent widget.
        """
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels([name_title, value_title])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        self.setColumnWidth(0, self.fontMetrics().averageCharWidth() * 22)
        self.verticalHeader().hide()
        self.setCornerButtonEnabled(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers
            & ~QAbstractItemView.EditTrigger.CurrentChanged
        )
        self.setTabKeyNavigation(False)  # Tab leaves the table, as everywhere else on the page
        self.setAccessibleDescription(description)
        self._filling = False
        self.set_pairs([])
        self.itemChanged.connect(self._on_item_changed)

    def pairs(self) -> Pairs:
        """The rows with a name, in order."""
        rows: Pairs = []
        for row in range(self.rowCount()):
            name, value = self._cell(row, 0), self._cell(row, 1)
            if name.strip():
                rows.append((name.strip(), value))
        return rows

    def set_pairs(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Show ``pairs`` (plus the empty row) without emitting ``edited``."""
        wanted = [*pairs, ("", "")]
        current = [(self._cell(row, 0), self._cell(row, 1)) for row in range(self.rowCount())]
        if current == wanted:
            return
        self._filling = True
        try:
            self.setRowCount(len(wanted))
            for row, (name, value) in enumerate(wanted):
                self._set_cell(row, 0, name)
                self._set_cell(row, 1, value)
        finally:
            self._filling = False

    def _cell(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""

    def _set_cell(self, row: int, column: int, text: str) -> None:
        item = self.item(row, column)
        if item is None:
            self.setItem(row, column, QTableWidgetItem(text))
        elif item.text() != text:
            item.setText(text)

    @Slot(QTableWidgetItem)
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        rows = [(self._cell(r, 0), self._cell(r, 1)) for r in range(self.rowCount())]
        kept = [pair for pair in rows if pair[0] or pair[1]]
        self.set_pairs(kept)  # tidy: drop emptied rows, keep one empty row at the end
        self.edited.emit()
