"""A tinted strip with a badge, a plain-text message and an optional action button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kit_desktop.ui.badge import Badge, Glyph
from kit_desktop.ui.theme import Tone, plain_label


class Notice(QFrame):
    """A message that stands out from the page: practice mode, a storage warning, an error.

    Signals:
        action_requested(): The action button was pressed.
    """

    action_requested = Signal()

    def __init__(
        self,
        kind: str,
        *,
        action: str = "",
        action_description: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """Build the notice.

        Args:
            kind: ``"practice"`` (informational) or ``"warning"``; picks tint and badge.
            action: The action button's label, or '' for none.
            action_description: The action button's accessible description.
            parent: The parent widget.
        """
        super().__init__(parent)
        self.setProperty("notice", kind)
        if kind == "warning":
            tone, glyph = Tone.ATTENTION, Glyph.ALERT
        else:
            tone, glyph = Tone.BUSY, Glyph.INFO
        self._badge = Badge(tone, glyph, lines=1.3, parent=self)
        self._label = plain_label(parent=self)
        self._button: QPushButton | None = None
        if action:
            self._button = QPushButton(action, self)
            self._button.setAccessibleName(action)
            self._button.setAccessibleDescription(action_description)
            self._button.clicked.connect(self._on_button_clicked)
        layout = QHBoxLayout(self)
        pad = round(self.fontMetrics().height() * 0.6)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(pad)
        layout.addWidget(self._badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._label, 1)
        if self._button is not None:
            layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignVCenter)

    @property
    def text(self) -> str:
        """The message shown."""
        return self._label.text()

    @property
    def label(self) -> QLabel:
        """The message label (plain text)."""
        return self._label

    @property
    def button(self) -> QPushButton | None:
        """The action button, when the notice has one."""
        return self._button

    def set_text(self, text: str) -> None:
        """Show ``text`` literally; the notice's accessible name follows it."""
        self._label.setText(text)
        self.setAccessibleName(text)

    @Slot()
    def _on_button_clicked(self) -> None:
        self.action_requested.emit()
