"""Kit's answer: status, time and size, Kit's errors in plain words, the body, raw text, headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.lists import AnswerTable, ExportOutcome, ExportProgress
from kit_desktop.ui.api_export import ExportBar
from kit_desktop.ui.api_table import AnswerTableView
from kit_desktop.ui.api_tabs import page_tabs
from kit_desktop.ui.api_text import ChunkedText, FindBar, OneLine
from kit_desktop.ui.api_words import meta_line, meta_notes, status_tone
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.theme import plain_label, relative_font, set_muted
from kit_desktop.words import api_problem

if TYPE_CHECKING:
    from kit_desktop.qt.api_requests import ApiResult

#: Above this size "Show all" leaves the colours out: highlighting every line takes seconds.
HIGHLIGHT_ALL_CHARS = 2_000_000


class ApiResponseView(QWidget):
    """Shows one answer (or why there is none). Passive: buttons become intents.

    Signals:
        next_requested(): "Next page".
        previous_requested(): "Previous page".
        save_requested(): "Save to file…" (the panel asks where).
        export_requested(): "Export all to CSV…" (the panel asks where).
        export_cancel_requested(): "Cancel export".
    """

    next_requested = Signal()
    previous_requested = Signal()
    save_requested = Signal()
    export_requested = Signal()
    export_cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the view, empty."""
        super().__init__(parent)
        em = self.fontMetrics().height()
        self._full_text = ""
        self._highlight = False
        self._loading_all = False
        self._raw_pending: str | None = None

        self._status = plain_label(parent=self, wrap=False)
        self._status.setObjectName("status")
        self._status.setFont(relative_font(self.font(), 1.1, bold=True))
        self._meta = OneLine(self)
        self._meta.setObjectName("meta")
        set_muted(self._meta)
        self._pages = OneLine(self)
        self._pages.setObjectName("pages")
        set_muted(self._pages)
        self._previous = self._button(
            self.tr("Previous page"), self.tr("Asks Kit for the page before.")
        )
        self._next = self._button(self.tr("Next page"), self.tr("Asks Kit for the page after."))
        self._save = self._button(
            self.tr("Save to file…"), self.tr("Saves Kit's answer exactly as it was received.")
        )
        self._export = self._button(
            self.tr("Export all to CSV…"),
            self.tr("Saves every page of this list to a CSV file, from the first page on."),
        )
        self._export_bar = ExportBar(self)
        self._message = Notice("warning", parent=self)
        self._message.setObjectName("kitErrors")
        self._note = plain_label(parent=self)
        self._note.setObjectName("note")
        set_muted(self._note)
        self._show_all = self._button(
            self.tr("Show all"), self.tr("Loads the whole answer into the view, bit by bit.")
        )

        self._body = ChunkedText(
            self.tr("Answer"), self.tr("Kit's answer, laid out neatly. Plain text only."), self
        )
        self._raw = ChunkedText(
            self.tr("Raw answer"),
            self.tr("Kit's answer exactly as received. Plain text only."),
            self,
        )
        self._headers = QTableWidget(0, 2, self)
        self._headers.setHorizontalHeaderLabels([self.tr("Header"), self.tr("Value")])
        self._headers.horizontalHeader().setStretchLastSection(True)
        self._headers.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self._headers.verticalHeader().hide()
        self._headers.setCornerButtonEnabled(False)
        self._headers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._headers.setAccessibleName(self.tr("Response headers"))
        self._headers.setAccessibleDescription(self.tr("The headers Kit sent with its answer."))
        self._tabs = page_tabs(self.tr("Answer views"), self)
        self._table = AnswerTableView(self)
        self._table_page = QWidget(self)
        table_top = QHBoxLayout()
        table_top.addStretch(1)
        table_top.addWidget(self._export)
        table_column = QVBoxLayout(self._table_page)
        table_column.setContentsMargins(0, round(em * 0.3), 0, 0)
        table_column.addLayout(table_top)
        table_column.addWidget(self._table, 1)
        self._tabs.addTab(self._body, self.tr("Answer"))
        self._tabs.addTab(self._table_page, self.tr("Table"))
        self._tabs.addTab(self._raw, self.tr("Raw"))
        self._tabs.addTab(self._headers, self.tr("Headers"))
        self._find = FindBar(self)
        self._find.set_view(self._body)

        # Status, time and size on one line, however narrow the window; paging on its own.
        top = QHBoxLayout()
        top.setSpacing(round(em * 0.6))
        top.addWidget(self._status)
        top.addWidget(self._meta, 1)
        top.addWidget(self._save)
        paging = QHBoxLayout()
        paging.setSpacing(round(em * 0.6))
        paging.addWidget(self._previous)
        paging.addWidget(self._next)
        paging.addWidget(self._pages, 1)
        cut = QHBoxLayout()
        cut.addWidget(self._note, 1)
        cut.addWidget(self._show_all)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(round(em * 0.5))
        outer.addLayout(top)
        outer.addLayout(paging)
        outer.addWidget(self._export_bar)
        outer.addWidget(self._message)
        outer.addLayout(cut)
        outer.addWidget(self._tabs, 1)
        outer.addWidget(self._find)

        self._previous.clicked.connect(self.previous_requested)
        self._next.clicked.connect(self.next_requested)
        self._save.clicked.connect(self.save_requested)
        self._export.clicked.connect(self.export_requested)
        self._export_bar.cancel_requested.connect(self._on_export_cancel_requested)
        self._show_all.clicked.connect(self._on_show_all_clicked)
        self._body.filled.connect(self._on_body_filled)
        self._tabs.currentChanged.connect(self._on_tabs_current_changed)
        self.show_empty(self.tr("Send a request to see Kit's answer here."))

    # --- what tests and the panel read ------------------------------------------------------

    @property
    def status_text(self) -> str:
        """The status shown (``200 OK``), or ''."""
        return self._status.text() if self._status.isVisibleTo(self) else ""

    @property
    def meta_label(self) -> OneLine:
        """Time taken and size, on one line."""
        return self._meta

    @property
    def pages_label(self) -> OneLine:
        """Which request "Next page" and "Previous page" ask for."""
        return self._pages

    @property
    def message(self) -> Notice:
        """Kit's errors, or why the request was not sent."""
        return self._message

    @property
    def body_view(self) -> ChunkedText:
        """The formatted answer."""
        return self._body

    @property
    def raw_view(self) -> ChunkedText:
        """The answer as received (filled when its tab is first shown)."""
        return self._raw

    @property
    def headers_table(self) -> QTableWidget:
        """The response headers."""
        return self._headers

    @property
    def table_view(self) -> AnswerTableView:
        """A list answer as a table."""
        return self._table

    @property
    def table_page(self) -> QWidget:
        """The Table tab: Export all to CSV… above the table."""
        return self._table_page

    @property
    def export_button(self) -> QPushButton:
        """Export all to CSV…."""
        return self._export

    @property
    def export_bar(self) -> ExportBar:
        """An export's progress, Cancel, and how it ended."""
        return self._export_bar

    @property
    def tabs(self) -> QTabWidget:
        """Answer, Raw and Headers."""
        return self._tabs

    @property
    def find_bar(self) -> FindBar:
        """Find in the answer."""
        return self._find

    @property
    def next_button(self) -> QPushButton:
        """Next page."""
        return self._next

    @property
    def previous_button(self) -> QPushButton:
        """Previous page."""
        return self._previous

    @property
    def show_all_button(self) -> QPushButton:
        """Show all (for a long answer)."""
        return self._show_all

    @property
    def save_button(self) -> QPushButton:
        """Save to file…."""
        return self._save

    # --- what the panel shows ---------------------------------------------------------------

    def show_empty(self, text: str, *, problem: bool = False) -> None:
        """No answer to show: ``text`` says why (as a warning when ``problem``)."""
        self._full_text, self._raw_pending, self._loading_all = "", None, False
        self._status.hide()
        self._meta.hide()
        for widget in (
            self._previous,
            self._next,
            self._pages,
            self._save,
            self._show_all,
        ):
            widget.hide()
        self._show_table(None)
        self._note.setText("" if problem else text)
        self._note.setVisible(not problem)
        self._message.set_text(text)
        self._message.setVisible(problem)
        self._body.show_text("")
        self._raw.show_text("")
        self._headers.setRowCount(0)

    def show_result(self, result: ApiResult) -> None:
        """Show an answer: status, time, size, Kit's errors, body, raw text and headers."""
        response, body = result.response, result.body
        tone = status_tone(response.status)
        self._status.setText(f"{response.status} {response.reason}".strip())
        self._status.setStyleSheet(
            f"color: {tone.value}; background: {tone.tint()}; border-radius: 6px; padding: 2px 8px;"
        )
        self._status.setAccessibleName(
            self.tr("Status {status}").format(status=self._status.text())
        )
        self._status.show()
        self._meta.set_line(meta_line(result))
        self._meta.show()
        problem = api_problem(response.status, result.errors)
        self._message.set_text(problem)
        self._message.setVisible(bool(problem))
        self._previous.setVisible(
            result.previous_query is not None or result.next_query is not None
        )
        self._next.setVisible(self._previous.isVisibleTo(self))
        self._pages.setVisible(self._previous.isVisibleTo(self))
        request = result.request
        self._pages.set_line(
            self.tr("Pages of {request}").format(request=f"{request.method} {request.path}")
        )
        self._previous.setEnabled(result.previous_query is not None)
        self._next.setEnabled(result.next_query is not None)
        self._save.setVisible(bool(response.body))
        self._show_table(result.table if request.method == "GET" else None)
        self._full_text, self._loading_all = result.full_text, False
        self._highlight = body.kind == "json"
        self._show_note(result)
        self._body.show_text(body.text, highlight=self._highlight)
        self._raw_pending = result.raw_text
        if result.raw_truncated:
            self._raw_pending += "\n\n" + self.tr(
                "[Only the start is shown here. “Save to file…” keeps the whole answer.]"
            )
        self._raw.show_text("")
        if self._tabs.currentWidget() is self._raw:
            self._fill_raw()
        self._show_headers(response.headers)

    def show_export_started(self, path: str) -> None:
        """An export to ``path`` began: Export is off until it ends."""
        self._export.setEnabled(False)
        self._export_bar.show_started(path)

    def show_export_progress(self, progress: ExportProgress) -> None:
        """Rows written so far."""
        if self._export_bar.running:
            self._export_bar.show_progress(progress)

    def show_export_finished(self, outcome: ExportOutcome) -> None:
        """How the export ended, in plain words."""
        self._export.setEnabled(True)
        self._export_bar.show_finished(outcome)

    def start_find(self) -> None:
        """Ctrl+F: show the formatted answer and focus the find field."""
        self._tabs.setCurrentWidget(self._body)
        self._find.start()

    # --- helpers ------------------------------------------------------------------------------

    def _button(self, text: str, description: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text)
        button.setAccessibleDescription(description)
        return button

    def _show_note(self, result: ApiResult) -> None:
        body = result.body
        notes = meta_notes(result)
        notes += [body.error] if body.error else []
        if body.kind in ("text", "binary") and result.response.body:
            notes.append(self.tr("Shown as plain text; nothing in it is opened or run."))
        if body.truncated_view:
            locale = QLocale()
            shown = body.text.count("\n") + 1
            notes.append(
                self.tr("Showing the first {shown} of {lines} lines.").format(
                    shown=locale.toString(shown), lines=locale.toString(body.lines)
                )
                if self._full_text
                else self.tr("This answer is too long to show here; save it to a file to read it.")
            )
        self._note.setText(" ".join(notes))
        self._note.setVisible(bool(notes))
        self._show_all.setVisible(bool(self._full_text))
        self._show_all.setEnabled(True)

    def _show_headers(self, headers: Mapping[str, str]) -> None:
        self._headers.setRowCount(len(headers))
        for row, (name, value) in enumerate(sorted(headers.items(), key=lambda kv: kv[0].lower())):
            self._headers.setItem(row, 0, QTableWidgetItem(name))
            self._headers.setItem(row, 1, QTableWidgetItem(value))

    def _show_table(self, table: AnswerTable | None) -> None:
        index = self._tabs.indexOf(self._table_page)
        if table is None and self._tabs.currentWidget() is self._table_page:
            self._tabs.setCurrentWidget(self._body)
        self._tabs.setTabVisible(index, table is not None)
        self._table.show_table(table)
        self._export.setEnabled(not self._export_bar.running)

    @Slot()
    def _on_export_cancel_requested(self) -> None:
        self._export_bar.show_cancelling()
        self.export_cancel_requested.emit()

    def _fill_raw(self) -> None:
        if self._raw_pending is not None:
            text, self._raw_pending = self._raw_pending, None
            self._raw.show_text(text)

    @Slot()
    def _on_show_all_clicked(self) -> None:
        if self._full_text:
            text, self._full_text = self._full_text, ""
            self._show_all.setEnabled(False)
            self._note.setText(self.tr("Loading the whole answer…"))
            self._loading_all = True
            highlight = self._highlight and len(text) <= HIGHLIGHT_ALL_CHARS
            self._body.show_text(text, highlight=highlight)

    @Slot()
    def _on_body_filled(self) -> None:
        if self._loading_all:
            self._loading_all = False
            self._show_all.hide()
            self._note.setText(self.tr("Showing the whole answer."))

    @Slot(int)
    def _on_tabs_current_changed(self, index: int) -> None:
        if self._tabs.widget(index) is self._raw:
            self._fill_raw()
