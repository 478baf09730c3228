"""While waiting: "Paste the code or the address from your browser".

For when Kit's answer cannot reach the app by itself: the relay page could not forward
it, or the browser runs on another computer.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kit_desktop.ui.notice import Notice


class PasteBox(QWidget):
    """A link that opens a one-line field and a Continue button.

    Signals:
        submitted(str): The pasted text (stripped, non-empty).
    """

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._toggle = QPushButton(self.tr("Paste the code or the address from your browser"), self)
        self._toggle.setProperty("link", True)
        self._toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        self._toggle.setAccessibleName(self._toggle.text())
        self._toggle.setAccessibleDescription(
            self.tr(
                "If your browser shows a code, or Kit Desktop did not notice that you clicked "
                "Allow, paste the code or the whole address from the address bar here."
            )
        )
        self._field = QLineEdit(self)
        self._field.setPlaceholderText(self.tr("Paste here"))
        self._field.setAccessibleName(self.tr("Code or address from your browser"))
        self._field_description = self.tr(
            "Paste the code Kit Desktop's page showed, or the whole address."
        )
        self._field.setAccessibleDescription(self._field_description)
        self._continue = QPushButton(self.tr("Continue"), self)
        self._continue.setEnabled(False)
        self._continue.setAccessibleName(self.tr("Continue"))
        self._continue.setAccessibleDescription(
            self.tr("Finishes connecting with what you pasted.")
        )
        self._error = Notice("warning", parent=self)
        self._error.label.setObjectName("pasteError")
        self._error.setAccessibleDescription(self.tr("Why what you pasted was not accepted."))
        self._error.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._field, 1)
        row.addWidget(self._continue)
        self._form = QWidget(self)
        form = QVBoxLayout(self._form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addLayout(row)
        form.addWidget(self._error)
        self._form.hide()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(self._form)

        self._toggle.clicked.connect(self._on_toggle_clicked)
        self._field.textChanged.connect(self._on_field_text_changed)
        self._field.returnPressed.connect(self._on_continue_clicked)
        self._continue.clicked.connect(self._on_continue_clicked)

    @property
    def field(self) -> QLineEdit:
        """Where the creator pastes."""
        return self._field

    @property
    def continue_button(self) -> QPushButton:
        """Sends what was pasted."""
        return self._continue

    @property
    def toggle_button(self) -> QPushButton:
        """Opens the field."""
        return self._toggle

    @property
    def error(self) -> Notice:
        """Why the paste was not accepted (a warning notice, hidden when there is none)."""
        return self._error

    def reset(self) -> None:
        """Close the field and forget what was pasted (a new attempt, or not waiting)."""
        self._field.clear()
        self._hide_error()
        self._form.hide()

    def show_error(self, text: str) -> None:
        """Say why the paste was not accepted; the field keeps its text for correcting."""
        self._form.show()
        self._error.set_text(text)
        self._error.show()
        # A screen reader hears the problem with the field, and at once.
        self._field.setAccessibleDescription(f"{text}\n{self._field_description}")
        self._field.setFocus()
        self._field.selectAll()
        if QAccessible.isActive():
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self._error, text))

    def _hide_error(self) -> None:
        self._error.hide()
        self._field.setAccessibleDescription(self._field_description)

    @Slot()
    def _on_toggle_clicked(self) -> None:
        self._form.setVisible(not self._form.isVisible())
        if self._form.isVisible():
            self._field.setFocus()

    @Slot(str)
    def _on_field_text_changed(self, text: str) -> None:
        self._continue.setEnabled(bool(text.strip()))
        self._hide_error()

    @Slot()
    def _on_continue_clicked(self) -> None:
        text = self._field.text().strip()
        if text:
            self.submitted.emit(text)
