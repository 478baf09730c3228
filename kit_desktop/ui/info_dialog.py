"""A small plain dialog: a heading, a few wrapped paragraphs and Close (About, Help)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from kit_desktop.ui.theme import plain_label, relative_font

#: Width in text lines: wide enough that a paragraph reads as lines, not a column of words.
MIN_WIDTH_LINES = 26
WIDTH_LINES = 32


class InfoDialog(QDialog):
    """A non-blocking, plain-text dialog that explains one thing and closes.

    Args:
        title: The window title.
        heading: The first line, in bold.
        paragraphs: The text, one label per paragraph, shown literally and wrapped.
        parent: The window it belongs to.
    """

    def __init__(
        self,
        title: str,
        heading: str,
        paragraphs: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setAccessibleDescription(heading)
        em = self.fontMetrics().height()
        self._heading = plain_label(heading, self)
        self._heading.setObjectName("heading")
        self._heading.setFont(relative_font(self.font(), 1.15, bold=True))
        self._paragraphs = [plain_label(text, self) for text in paragraphs]
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(close.text().replace("&", ""))
        close.setAccessibleDescription(self.tr("Closes this window."))
        close.setDefault(True)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        pad = round(em * 1.2)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(round(em * 0.75))
        layout.addWidget(self._heading)
        for label in self._paragraphs:
            layout.addWidget(label)
        layout.addSpacing(round(em * 0.25))
        layout.addWidget(buttons)
        self.setMinimumWidth(em * MIN_WIDTH_LINES)
        self.resize(em * WIDTH_LINES, self.heightForWidth(em * WIDTH_LINES))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    @property
    def heading(self) -> str:
        """The bold first line."""
        return self._heading.text()

    @property
    def paragraphs(self) -> list[QLabel]:
        """The labels holding the text, in order."""
        return list(self._paragraphs)

    @property
    def text(self) -> str:
        """Everything the dialog says, heading first, one paragraph a line."""
        return "\n".join([self.heading, *(label.text() for label in self._paragraphs)])
