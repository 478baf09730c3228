"""Help > "Check this computer…": a small plain dialog with the check-up's lines, Copy and Close."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.doctor_report import Checkup, blocked, summary
from kit_desktop.ui.theme import plain_label, relative_font

CHECKING = "Checking this computer…"


class CheckupDialog(QDialog):
    """Shows "Checking…" until :meth:`show_results`, then one line per check.

    Passive: it is given plain results; the checks run elsewhere, off the GUI thread.

    Args:
        parent: The window it belongs to.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = self.tr("Check this computer")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        em = self.fontMetrics().height()
        self._heading = plain_label("", self)
        self._heading.setObjectName("heading")
        self._heading.setFont(relative_font(self.font(), 1.15, bold=True))
        self._lines = QPlainTextEdit(self)
        self._lines.setReadOnly(True)
        self._lines.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self._lines.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._lines.setAccessibleName(self.tr("Check-up results"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setAccessibleDescription(
            self.tr("Copies the results, to paste into a message to whoever helps you.")
        )
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleDescription(self.tr("Closes this window."))
        self.copy_button.clicked.connect(self._on_copy_clicked)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        pad = round(em * 1.2)
        layout.setContentsMargins(pad, pad, pad, pad)
        layout.setSpacing(round(em * 0.75))
        layout.addWidget(self._heading)
        layout.addWidget(self._lines, 1)
        layout.addWidget(buttons)
        self.resize(em * 44, em * 26)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._report = ""
        self.show_running()

    @property
    def heading(self) -> str:
        """The bold first line: "Checking…", then the summary."""
        return self._heading.text()

    @property
    def text(self) -> str:
        """What the dialog shows (after :meth:`show_results`, what Copy copies)."""
        return self._lines.toPlainText()

    @property
    def running(self) -> bool:
        """Whether the dialog waits for results."""
        return not self._report

    def show_running(self) -> None:
        """Say the checks are running; Copy waits for results."""
        self._report = ""
        self._heading.setText(self.tr(CHECKING))
        self._lines.setPlainText(
            self.tr(
                "Checking the ports, this computer's loopback address, secure storage, the "
                "clock, network settings, the browser and Kit's servers. This takes a few "
                "seconds; you can keep using the window."
            )
        )
        self.copy_button.setEnabled(False)
        self.copy_button.setText(self.tr("Copy"))

    def show_results(self, checkup: Checkup) -> None:
        """Show the check-up's lines (plain text) and its summary as the heading."""
        self._report = checkup.text
        self._heading.setText(summary(checkup.results))
        self._heading.setProperty("blocked", blocked(checkup.results))
        self._lines.setPlainText(self._report)
        self.copy_button.setEnabled(True)
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setDefault(True)

    @Slot()
    def _on_copy_clicked(self) -> None:
        if self._report:
            QGuiApplication.clipboard().setText(self._report)
            self.copy_button.setText(self.tr("Copied"))
