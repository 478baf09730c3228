"""A list answer as a sortable table: the model, the sorting proxy and the view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from kit_desktop.lists import AnswerTable, Cell

#: The role the proxy sorts by: each cell's rank in its column (an int, compared natively).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
#: Cells longer than this are cut in the view (the whole text is in the tooltip).
SHOWN_CHARS = 200

Index = QModelIndex | QPersistentModelIndex


def shown(value: Cell) -> str:
    """How a cell reads in the table: '' for none, Yes/No, numbers and text as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _order(value: Cell) -> tuple[int, float, str]:
    """Numbers (and Yes/No) first by value, then text without regard to case, then empty."""
    if value is None or value == "":
        return (2, 0.0, "")
    if isinstance(value, bool | int | float):
        return (0, float(value), "")
    return (1, 0.0, value.casefold())


class AnswerTableModel(QAbstractTableModel):
    """The rows of one :class:`AnswerTable`; read-only. Sort ranks are worked out on demand."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = AnswerTable("", (), ())
        self._ranks: dict[int, list[int]] = {}

    def set_table(self, table: AnswerTable | None) -> None:
        """Show ``table`` (nothing for ``None``)."""
        self.beginResetModel()
        self._table = table or AnswerTable("", (), ())
        self._ranks = {}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        """Rows: the items."""
        return 0 if parent.isValid() else len(self._table.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        """Columns: the fields chosen for this list."""
        return 0 if parent.isValid() else len(self._table.titles)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """A cell's text, its whole text as a tooltip, or its sort rank."""
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == SORT_ROLE:
            return self._rank(column)[row]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = shown(self._table.rows[row][column])
            if role == Qt.ItemDataRole.ToolTipRole:
                return text if len(text) > SHOWN_CHARS else None
            return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
        return None

    def headerData(  # noqa: N802 - Qt override
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles across; row numbers (Kit's order) down."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            titles = self._table.titles
            return titles[section] if 0 <= section < len(titles) else None
        return str(section + 1)

    def _rank(self, column: int) -> list[int]:
        ranks = self._ranks.get(column)
        if ranks is None:
            rows = self._table.rows
            ordered = sorted(range(len(rows)), key=lambda r: _order(rows[r][column]))
            ranks = [0] * len(rows)
            for rank, row in enumerate(ordered):
                ranks[row] = rank
            self._ranks[column] = ranks
        return ranks


class AnswerTableView(QTableView):
    """The table of a list answer: click a heading to sort by it (again for the other way)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = AnswerTableModel(self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self._model)
        self._proxy.setSortRole(SORT_ROLE)
        self.setModel(self._proxy)
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # Kit's order until a click
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        self.verticalHeader().setDefaultSectionSize(round(self.fontMetrics().height() * 1.5))
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setAccessibleName(self.tr("Answer as a table"))
        self.setAccessibleDescription(
            self.tr("The items of Kit's list, one a row. Click a column heading to sort.")
        )

    @property
    def source_model(self) -> AnswerTableModel:
        """The rows, in Kit's order."""
        return self._model

    @property
    def proxy(self) -> QSortFilterProxyModel:
        """The rows as sorted."""
        return self._proxy

    def show_table(self, table: AnswerTable | None) -> None:
        """Show ``table`` in Kit's order; column widths fit the heading and first rows."""
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self._model.set_table(table)
        em = self.fontMetrics().averageCharWidth()
        for column, title in enumerate(table.titles if table else ()):
            sample = [shown(row[column]) for row in table.rows[:50]] if table else []
            width = max([len(title) + 4, *(len(s) for s in sample)])
            self.setColumnWidth(column, min(40, width) * em + em * 2)

    def text_at(self, row: int, column: int) -> str:
        """The text shown at ``row``, ``column`` (as sorted)."""
        return str(self._proxy.index(row, column).data() or "")
