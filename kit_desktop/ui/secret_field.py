"""A read-only value with a Copy button, and for secrets a Show/Hide toggle (masked by default)."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from kit_desktop.ui.theme import fixed_font


class SecretField(QWidget):
    """One value the creator may copy; a secret one stays masked until they choose to see it.

    Signals:
        copied(str): The value was put on the clipboard; carries the field's name, not the value.
    """

    copied = Signal(str)

    def __init__(self, name: str, *, secret: bool = True, parent: QWidget | None = None) -> None:
        """Build the field.

        Args:
            name: What the value is, in words ("Access token"); used in accessible names.
            secret: Whether the value is masked until revealed.
            parent: The parent widget.
        """
        super().__init__(parent)
        self._name = name
        self._secret = secret
        self._edit = QLineEdit(self)
        self._edit.setReadOnly(True)
        self._edit.setFont(fixed_font(self.font()))
        self._edit.setAccessibleName(name)
        self._edit.setAccessibleDescription(
            self.tr("Read-only. Use Copy to put it on the clipboard.")
            if not secret
            else self.tr("Read-only and hidden. Use Show to see it, or Copy to copy it.")
        )
        self._edit.setPlaceholderText("—")
        self._reveal = QPushButton(self.tr("Show"), self)
        self._reveal.setCheckable(True)
        self._reveal.setAccessibleName(self.tr("Show {name}").format(name=name))
        self._reveal.setAccessibleDescription(
            self.tr("Shows or hides this value. It stays hidden unless you choose to see it.")
        )
        self._reveal.setVisible(secret)
        self._copy = QPushButton(self.tr("Copy"), self)
        self._copy.setAccessibleName(self.tr("Copy {name}").format(name=name))
        self._copy.setAccessibleDescription(self.tr("Puts this value on the clipboard."))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._edit, 1)
        layout.addWidget(self._reveal)
        layout.addWidget(self._copy)
        self._reveal.toggled.connect(self._on_reveal_toggled)
        self._copy.clicked.connect(self._on_copy_clicked)
        self.set_value("")

    @property
    def name(self) -> str:
        """What the value is, in words."""
        return self._name

    @property
    def value(self) -> str:
        """The full value (never the masked form)."""
        return self._edit.text()

    @property
    def revealed(self) -> bool:
        """Whether a secret value is currently shown in clear."""
        return not self._secret or self._reveal.isChecked()

    @property
    def line_edit(self) -> QLineEdit:
        """The read-only line edit that displays the value."""
        return self._edit

    @property
    def reveal_button(self) -> QPushButton:
        """The Show/Hide toggle (hidden for values that are not secret)."""
        return self._reveal

    @property
    def copy_button(self) -> QPushButton:
        """The Copy button."""
        return self._copy

    def set_value(self, value: str) -> None:
        """Show a new value; a secret one is masked again."""
        if self._secret:
            self._reveal.setChecked(False)
        self._edit.setText(value)
        self._edit.setCursorPosition(0)
        self._copy.setEnabled(bool(value))
        self._reveal.setEnabled(bool(value))
        self._apply_mask()

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order."""
        return [self._edit, self._reveal, self._copy]

    def _apply_mask(self) -> None:
        mode = QLineEdit.EchoMode.Normal if self.revealed else QLineEdit.EchoMode.Password
        self._edit.setEchoMode(mode)
        self._edit.setCursorPosition(0)
        self._reveal.setText(self.tr("Hide") if self._reveal.isChecked() else self.tr("Show"))

    @Slot(bool)
    def _on_reveal_toggled(self, checked: bool) -> None:
        del checked
        self._apply_mask()

    @Slot()
    def _on_copy_clicked(self) -> None:
        if self.value:
            QGuiApplication.clipboard().setText(self.value)
            self.copied.emit(self._name)
