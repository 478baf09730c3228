"""The card at the top: one plain sentence per phase, a countdown while waiting, one main button."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kit_desktop.state import AttemptView, Phase, SessionView
from kit_desktop.ui.badge import Badge
from kit_desktop.ui.format import format_countdown
from kit_desktop.ui.paste_box import PasteBox
from kit_desktop.ui.theme import plain_label, relative_font, set_muted

_CONNECT_PHASES = (Phase.NOT_CONNECTED, Phase.RECONNECT_NEEDED, Phase.FAILED)


def _restyle(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class ConnectionCard(QFrame):
    """Where the connection stands, and the one thing to do next.

    Signals:
        connect_requested(): The primary button in a not-connected, reconnect or failed phase.
        cancel_requested(): The primary button while an attempt runs.
        disconnect_requested(): The primary button while connected (not yet confirmed).
        reopen_requested(): "Open the page again" while waiting.
        link_copied(): "Copy link" put the authorization URL on the clipboard.
        paste_submitted(str): The creator pasted Kit's code or the redirected address.
    """

    connect_requested = Signal()
    cancel_requested = Signal()
    disconnect_requested = Signal()
    reopen_requested = Signal()
    link_copied = Signal()
    paste_submitted = Signal(str)

    def __init__(
        self, clock: Callable[[], float] = time.time, parent: QWidget | None = None
    ) -> None:
        """Build the card.

        Args:
            clock: Wall-clock time in seconds, for the countdown (tests pass their own).
            parent: The parent widget.
        """
        super().__init__(parent)
        self.setProperty("card", True)
        self.setAccessibleName(self.tr("Connection"))
        self._clock = clock
        self._view = SessionView()
        self._url = ""

        self._dot = Badge(parent=self)
        self._headline = plain_label(parent=self)
        self._headline.setObjectName("headline")
        self._headline.setFont(relative_font(self.font(), 1.35, bold=True))
        self._detail = plain_label(parent=self)
        self._detail.setObjectName("detail")
        self._countdown = plain_label(parent=self)
        self._countdown.setObjectName("countdown")
        set_muted(self._countdown)

        self._primary = QPushButton(self)
        self._primary.setObjectName("primary")
        self._reopen = self._link_button(
            self.tr("Open the page again"),
            self.tr("Opens Kit's page in your browser again, if you closed it or it did not open."),
        )
        self._copy_link = self._link_button(
            self.tr("Copy link"),
            self.tr("Copies the address of Kit's page, to paste into the browser you use."),
        )

        self._paste = PasteBox(self)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)

        text = QVBoxLayout()
        text.setSpacing(round(self.fontMetrics().height() * 0.35))
        text.addWidget(self._headline)
        text.addWidget(self._detail)
        text.addWidget(self._countdown)
        top = QHBoxLayout()
        top.setSpacing(self.fontMetrics().height())
        top.addWidget(self._dot, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(text, 1)
        actions = QHBoxLayout()
        actions.addWidget(self._reopen)
        actions.addWidget(self._copy_link)
        actions.addStretch(1)
        actions.addWidget(self._primary)
        outer = QVBoxLayout(self)
        margin = round(self.fontMetrics().height() * 1.2)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(margin)
        outer.addLayout(top)
        outer.addLayout(actions)
        outer.addWidget(self._paste)

        self._primary.clicked.connect(self._on_primary_clicked)
        self._reopen.clicked.connect(self._on_reopen_clicked)
        self._copy_link.clicked.connect(self._on_copy_link_clicked)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._paste.submitted.connect(self.paste_submitted)
        self.show_view(self._view)

    @property
    def primary_button(self) -> QPushButton:
        """The one primary button (Connect to Kit, Cancel, Reconnect, Try again, Disconnect…)."""
        return self._primary

    @property
    def reopen_button(self) -> QPushButton:
        """The "Open the page again" link (while waiting)."""
        return self._reopen

    @property
    def copy_link_button(self) -> QPushButton:
        """The "Copy link" link (while waiting)."""
        return self._copy_link

    @property
    def paste_box(self) -> PasteBox:
        """The paste field, shown while waiting for Kit's answer."""
        return self._paste

    def show_paste_error(self, text: str) -> None:
        """Say why a paste was not accepted."""
        self._paste.show_error(text)

    def primary_text(self, phase: Phase) -> str:
        """The primary button's label in ``phase``."""
        if phase.attempt_running:
            return self.tr("Cancel")
        if phase.has_tokens:
            return self.tr("Disconnect…")
        if phase is Phase.RECONNECT_NEEDED:
            return self.tr("Reconnect")
        if phase is Phase.FAILED:
            return self.tr("Try again")
        return self.tr("Connect to Kit")

    def trigger_primary(self) -> None:
        """Emit the intent of the primary button in the current phase."""
        phase = self._view.phase
        if phase.attempt_running:
            self.cancel_requested.emit()
        elif phase.has_tokens:
            self.disconnect_requested.emit()
        else:
            self.connect_requested.emit()

    def show_view(self, view: SessionView) -> None:
        """Show the phase sentence, detail, countdown and the fitting primary button."""
        announce = view.headline != self._view.headline
        self._view = view
        self._dot.show_phase(view.phase)
        self._headline.setText(view.headline)
        self._detail.setText(view.detail)
        self._detail.setVisible(bool(view.detail))
        self.setAccessibleDescription(f"{view.headline}\n{view.detail}".strip())

        self._primary.setText(self.primary_text(view.phase))
        filled = view.phase in _CONNECT_PHASES
        if self._primary.property("primary") != filled:
            self._primary.setProperty("primary", filled)
            _restyle(self._primary)
        self._primary.setAccessibleName(self._primary.text().rstrip("…"))
        self._primary.setAccessibleDescription(self._primary_description(view.phase))

        waiting = view.phase is Phase.WAITING
        if not waiting:
            self._paste.reset()
        self._paste.setVisible(waiting)
        self._reopen.setVisible(waiting)
        self._copy_link.setVisible(waiting)
        self._copy_link.setEnabled(bool(self._url))
        self._update_countdown()
        if announce and QAccessible.isActive():
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self, view.headline))

    def show_attempt(self, attempt: AttemptView | None) -> None:
        """Remember the current attempt's authorization URL for "Copy link"."""
        self._url = attempt.url if attempt is not None else ""
        self._copy_link.setEnabled(bool(self._url))

    def copy_link(self) -> None:
        """Put the current attempt's authorization URL on the clipboard, when there is one."""
        if self._url:
            QGuiApplication.clipboard().setText(self._url)
            self.link_copied.emit()

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order."""
        paste = self._paste
        return [
            self._reopen,
            self._copy_link,
            paste.toggle_button,
            paste.field,
            paste.continue_button,
            self._primary,
        ]

    def _link_button(self, text: str, description: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setProperty("link", True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setAccessibleName(text)
        button.setAccessibleDescription(description)
        return button

    def _primary_description(self, phase: Phase) -> str:
        if phase.attempt_running:
            return self.tr("Stops connecting. Nothing is saved.")
        if phase.has_tokens:
            return self.tr(
                "Asks first, then forgets the connection on this computer and asks Kit to end "
                "this app's access. Your Kit account itself is not changed."
            )
        return self.tr("Opens Kit in your browser so you can allow this app to connect.")

    def _update_countdown(self) -> None:
        until = self._view.waiting_until
        if self._view.phase is not Phase.WAITING or until is None:
            self._countdown.hide()
            self._timer.stop()
            return
        left = until - self._clock()
        text = self.tr("Time left: {countdown}").format(countdown=format_countdown(left))
        self._countdown.setText(text)
        self._countdown.setAccessibleName(text)
        self._countdown.show()
        if left > 0:
            # Wake just after the shown second changes; always re-read the wall clock.
            self._timer.start(round(((left % 1.0) or 1.0) * 1000) + 20)
        else:
            self._timer.stop()

    @Slot()
    def _on_primary_clicked(self) -> None:
        self.trigger_primary()

    @Slot()
    def _on_reopen_clicked(self) -> None:
        self.reopen_requested.emit()

    @Slot()
    def _on_copy_link_clicked(self) -> None:
        self.copy_link()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._update_countdown()
