"""The JSON body editor: checked as you type (where a problem is, in plain words), with Format."""

from __future__ import annotations

import json

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from kit_desktop.ui.api_words import json_words
from kit_desktop.ui.theme import Tone, fixed_font, plain_label

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_CHECK_MS = 150


class BodyEditor(QWidget):
    """Where the JSON body is typed; says at once whether it is valid, and where it is not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the editor (for GET until :meth:`set_method` says otherwise)."""
        super().__init__(parent)
        self._method = "GET"
        self._editor = QPlainTextEdit(self)
        self._editor.setFont(fixed_font(self.font()))
        self._editor.setTabChangesFocus(True)
        self._editor.setPlaceholderText('{"name": "Completed"}')
        self._editor.setAccessibleName(self.tr("Body"))
        self._editor.setAccessibleDescription(self.tr("The JSON sent with POST, PUT and PATCH."))
        self._format = QPushButton(self.tr("Format"), self)
        self._format.setAccessibleName(self.tr("Format"))
        self._format.setAccessibleDescription(self.tr("Lays the JSON out neatly."))
        self._status = plain_label(parent=self)
        self._status.setObjectName("bodyStatus")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_CHECK_MS)

        em = self.fontMetrics().height()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, round(em * 0.3), 0, 0)
        column.addWidget(self._editor, 1)
        under = QHBoxLayout()
        under.addWidget(self._status, 1)
        under.addWidget(self._format)
        column.addLayout(under)

        self._editor.textChanged.connect(self._timer.start)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._format.clicked.connect(self._on_format_clicked)
        self.set_method(self._method)

    @property
    def editor(self) -> QPlainTextEdit:
        """The text editor."""
        return self._editor

    @property
    def status(self) -> QLabel:
        """Whether the body is valid JSON, with the line and column of a problem."""
        return self._status

    @property
    def text(self) -> str:
        """The body as typed ('' when the method sends none)."""
        return self._editor.toPlainText() if self._method in BODY_METHODS else ""

    def set_text(self, text: str) -> None:
        """Replace the body."""
        self._editor.setPlainText(text)

    def set_method(self, method: str) -> None:
        """Only POST, PUT and PATCH send a body; the editor is off for the others."""
        self._method = method
        self._editor.setEnabled(method in BODY_METHODS)
        self.check()

    def check(self) -> None:
        """Say now whether the body is valid JSON (typing checks it a moment later)."""
        text = self._editor.toPlainText()
        tone: Tone | None = None
        if self._method not in BODY_METHODS:
            message = self.tr("{method} requests have no body.").format(method=self._method)
        elif not text.strip():
            message = self.tr("No body will be sent.")
        else:
            message, tone = self.tr("Valid JSON"), Tone.GOOD
            try:
                json.loads(text)
            except json.JSONDecodeError as exc:
                message = self._not_valid(exc.lineno, exc.colno, json_words(exc.msg, text, exc.pos))
                tone = Tone.BAD
            except RecursionError:
                message = self._not_valid(1, 1, json_words("Nested too deeply", text, 0))
                tone = Tone.BAD
            except ValueError:
                message, tone = self._not_valid(1, 1, json_words("", text, 0)), Tone.BAD
        self._status.setText(message)
        self._status.setAccessibleName(message)
        self._status.setStyleSheet("" if tone is None else f"color: {tone.value};")
        self._format.setEnabled(tone is Tone.GOOD)

    def _not_valid(self, line: int, column: int, words: str) -> str:
        return self.tr("The body is not valid JSON: line {line}, column {column}: {words}").format(
            line=line, column=column, words=words
        )

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.check()

    @Slot()
    def _on_format_clicked(self) -> None:
        try:
            data = json.loads(self._editor.toPlainText())
        except (ValueError, RecursionError):
            return
        self._editor.setPlainText(json.dumps(data, indent=2, ensure_ascii=False))
