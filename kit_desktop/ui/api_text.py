"""A text view that fills big texts a slice per event-loop turn; a find bar; a one-line label."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent, QShowEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from kit_desktop.ui.json_highlighter import JsonHighlighter
from kit_desktop.ui.theme import fixed_font, plain_label, set_muted

#: Characters inserted at a time; each slice lands on a line end when there is one near.
SLICE_CHARS = 8_000
#: Time spent filling per event-loop turn, so the window keeps repainting and answering.
BUDGET_SECONDS = 0.008


class ChunkedText(QPlainTextEdit):
    """Shows text as plain text only (never rendered), filling large texts in slices.

    Signals:
        filled(): The whole text given to :meth:`show_text` is in the view.
    """

    filled = Signal()

    def __init__(self, name: str, description: str, parent: QWidget | None = None) -> None:
        """Build the view.

        Args:
            name: The accessible name.
            description: The accessible description.
            parent: The parent widget.
        """
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setFont(fixed_font(self.font()))
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setAccessibleName(name)
        self.setAccessibleDescription(description)
        self._highlighter = JsonHighlighter(self.document(), self.palette())
        self._highlighter.setDocument(None)
        self._text = ""
        self._at = 0
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def filling(self) -> bool:
        """Whether slices are still being added."""
        return self._timer.isActive()

    def show_text(self, text: str, *, highlight: bool = False) -> None:
        """Replace the content with ``text``; large texts arrive over the next moments."""
        self._timer.stop()
        self._highlighter.setDocument(None)
        self.clear()
        if highlight:
            self._highlighter.setDocument(self.document())
        self._text, self._at = text, 0
        self._fill(budget=0.0)  # one slice now; the rest on the next turns of the event loop
        if self._at < len(self._text):
            self._timer.start()
        else:
            self.filled.emit()

    def find_text(self, needle: str, *, backward: bool = False) -> bool:
        """Select the next (or previous) match of ``needle``, wrapping around; False if none."""
        if not needle:
            return False
        flags = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        if self.find(needle, flags):
            return True
        cursor = self.textCursor()
        start = QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
        cursor.movePosition(start)
        self.setTextCursor(cursor)
        return self.find(needle, flags)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Follow a light/dark switch with the JSON colours."""
        if event.type() == QEvent.Type.PaletteChange:
            self._highlighter.set_palette(self.palette())
        super().changeEvent(event)

    def _fill(self, budget: float = BUDGET_SECONDS) -> None:
        started = time.perf_counter()
        text, end = self._text, len(self._text)
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        while self._at < end:
            stop = min(end, self._at + SLICE_CHARS)
            if stop < end:
                newline = text.rfind("\n", self._at, stop)
                stop = newline + 1 if newline > self._at else stop
            cursor.insertText(text[self._at : stop])
            self._at = stop
            if time.perf_counter() - started >= budget:
                break

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._fill()
        if self._at >= len(self._text):
            self._timer.stop()
            self._text = ""
            self.filled.emit()


class FindBar(QWidget):
    """Find in the answer: type, then Enter or "Find next"; "Find previous" goes back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the bar; point it at a view with :meth:`set_view`."""
        super().__init__(parent)
        self._view: ChunkedText | None = None
        self._field = QLineEdit(self)
        self._field.setPlaceholderText(self.tr("Find in the answer (Ctrl+F)"))
        self._field.setAccessibleName(self.tr("Find"))
        self._field.setAccessibleDescription(
            self.tr("Type a word and press Enter to find it in the answer.")
        )
        self._previous = self._button(
            self.tr("Find previous"), self.tr("Finds the previous match.")
        )
        self._next = self._button(self.tr("Find next"), self.tr("Finds the next match."))
        self._result = plain_label(parent=self, wrap=False)
        set_muted(self._result)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._field, 1)
        row.addWidget(self._previous)
        row.addWidget(self._next)
        row.addWidget(self._result)
        self._field.returnPressed.connect(self._on_next_clicked)
        self._next.clicked.connect(self._on_next_clicked)
        self._previous.clicked.connect(self._on_previous_clicked)
        self._field.textChanged.connect(self._on_field_text_changed)

    @property
    def field(self) -> QLineEdit:
        """The search field."""
        return self._field

    @property
    def result_label(self) -> str:
        """'' after a match, "Not found" otherwise."""
        return self._result.text()

    def set_view(self, view: ChunkedText) -> None:
        """Search ``view`` from now on."""
        self._view = view

    def start(self) -> None:
        """Focus the field with its text selected (Ctrl+F)."""
        self._field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._field.selectAll()

    def find_next(self, *, backward: bool = False) -> bool:
        """Find the field's text in the view; say so when it is not there."""
        found = self._view is not None and self._view.find_text(
            self._field.text(), backward=backward
        )
        self._result.setText("" if found or not self._field.text() else self.tr("Not found"))
        return found

    def _button(self, text: str, description: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text)
        button.setAccessibleDescription(description)
        return button

    @Slot()
    def _on_next_clicked(self) -> None:
        self.find_next()

    @Slot()
    def _on_previous_clicked(self) -> None:
        self.find_next(backward=True)

    @Slot(str)
    def _on_field_text_changed(self, text: str) -> None:
        self._result.setText("")


class OneLine(QLabel):
    """Plain text on one line that never widens its row: it ends in "…" when space is short.

    The whole text stays the accessible name and, when cut, the tooltip.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the empty line."""
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    @property
    def full_text(self) -> str:
        """The whole text, cut or not."""
        return self._full

    def set_line(self, text: str) -> None:
        """Show ``text`` (line breaks become spaces), cut to the width available."""
        self._full = " ".join(text.split())
        self.setAccessibleName(self._full)
        self.updateGeometry()
        self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """As wide as the whole text, one line high."""
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """Room for a few letters and the "…"."""
        return QSize(self.fontMetrics().horizontalAdvance("MMM…"), super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Cut the text again to the new width."""
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        """Cut the text to the width it is shown at (it may have changed while hidden)."""
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        self.setText(shown)
        self.setToolTip(self._full if shown != self._full else "")
