"""The "Export all to CSV" bar: how many rows are written, a Cancel button, how it ended."""

from __future__ import annotations

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from kit_desktop.lists import ExportOutcome, ExportProgress
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.theme import plain_label, set_muted


class ExportBar(QWidget):
    """Shows one export's progress and outcome. Passive: Cancel becomes an intent.

    Signals:
        cancel_requested(): "Cancel export".
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the bar, hidden."""
        super().__init__(parent)
        self._label = plain_label(parent=self)
        self._label.setObjectName("exportProgress")
        set_muted(self._label)
        self._bar = QProgressBar(self)
        self._bar.setTextVisible(False)
        self._bar.setMaximumHeight(round(self.fontMetrics().height() * 0.6))
        self._bar.setAccessibleName(self.tr("Export progress"))
        self._bar.setAccessibleDescription(self.tr("How many rows the export has written."))
        self._cancel = QPushButton(self.tr("Cancel export"), self)
        self._cancel.setAccessibleName(self.tr("Cancel export"))
        self._cancel.setAccessibleDescription(
            self.tr("Stops the export; the rows written so far stay in the .part file.")
        )
        self._done = Notice("info", parent=self)
        self._done.setObjectName("exportDone")
        self._stopped = Notice("warning", parent=self)
        self._stopped.setObjectName("exportStopped")
        row = QHBoxLayout()
        row.addWidget(self._label, 1)
        row.addWidget(self._cancel)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self._bar)
        column.addWidget(self._done)
        column.addWidget(self._stopped)
        self._cancel.clicked.connect(self.cancel_requested)
        self._running = False
        self.hide()

    @property
    def text(self) -> str:
        """The progress line, or how the export ended."""
        for notice in (self._done, self._stopped):
            if notice.isVisibleTo(self):
                return notice.text
        return self._label.text()

    @property
    def cancel_button(self) -> QPushButton:
        """Cancel export."""
        return self._cancel

    @property
    def progress_bar(self) -> QProgressBar:
        """Rows written of those Kit counted (busy when it did not count)."""
        return self._bar

    @property
    def running(self) -> bool:
        """Whether an export is shown as under way."""
        return self._running

    def show_started(self, path: str) -> None:
        """An export to ``path`` began."""
        self._running = True
        self._label.setText(self.tr("Exporting to {path}…").format(path=path))
        self._bar.setRange(0, 0)
        for widget in (self._label, self._bar, self._cancel):
            widget.show()
        self._cancel.setEnabled(True)
        self._done.hide()
        self._stopped.hide()
        self.show()

    def show_progress(self, progress: ExportProgress) -> None:
        """Rows written so far, and any wait under way."""
        locale = QLocale()
        written = locale.toString(progress.written)
        if progress.total:
            text = self.tr("{written} of {total} {noun} written…").format(
                written=written, total=locale.toString(progress.total), noun=progress.noun
            )
            self._bar.setRange(0, max(1, progress.total))
            self._bar.setValue(min(progress.written, progress.total))
        else:
            text = self.tr("{written} {noun} written…").format(written=written, noun=progress.noun)
        if progress.waiting > 0:
            text += " " + self.tr("Waiting {seconds} s: {why}.").format(
                seconds=int(-(-progress.waiting // 1)), why=progress.why
            )
        self._label.setText(text)

    def show_cancelling(self) -> None:
        """Cancel was pressed; the export stops after the request under way."""
        self._cancel.setEnabled(False)
        self._label.setText(self.tr("Cancelling…"))

    def show_finished(self, outcome: ExportOutcome) -> None:
        """How the export ended, in plain words."""
        self._running = False
        for widget in (self._label, self._bar, self._cancel):
            widget.hide()
        shown, other = (
            (self._done, self._stopped) if outcome.complete else (self._stopped, self._done)
        )
        shown.set_text(outcome.message)
        shown.show()
        other.hide()
        self.show()
