"""The access section: time left, renewing, where the tokens are kept, and the token itself."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.state import SessionView, StorageView, TokenView
from kit_desktop.ui.badge import Badge, Glyph
from kit_desktop.ui.format import format_exact_time, format_local_time, format_remaining
from kit_desktop.ui.notice import Notice
from kit_desktop.ui.secret_field import SecretField
from kit_desktop.ui.theme import Tone, card_frame, plain_label, relative_font, set_muted

_BAR_STEPS = 1000


class TokenPanel(QWidget):
    """How long access lasts, with Refresh now, Renew automatically and the storage status.

    Signals:
        refresh_requested(): "Refresh now".
        auto_renew_toggled(bool): The creator changed "Renew automatically".
        retry_storage_requested(): "Try again" on the storage warning.
        copied(str): A value was copied; carries its name.
    """

    refresh_requested = Signal()
    auto_renew_toggled = Signal(bool)
    retry_storage_requested = Signal()
    copied = Signal(str)

    def __init__(
        self, clock: Callable[[], float] = time.time, parent: QWidget | None = None
    ) -> None:
        """Build the panel.

        Args:
            clock: Wall-clock time in seconds, for the countdown (tests pass their own).
            parent: The parent widget.
        """
        super().__init__(parent)
        self._clock = clock
        self._view = SessionView()
        em = self.fontMetrics().height()

        heading = plain_label(self.tr("Access to your Kit account"), self)
        heading.setFont(relative_font(self.font(), 1.1, bold=True))
        self._card = card_frame(self)
        self._empty = plain_label(
            self.tr("Once you are connected, you can see here how long access lasts."), self._card
        )
        set_muted(self._empty)

        self._status = QWidget(self._card)
        self._remaining = plain_label(parent=self._status, wrap=False)
        self._remaining.setObjectName("remaining")
        self._remaining.setFont(relative_font(self.font(), 1.15, bold=True))
        self._busy = QProgressBar(self._status)
        self._busy.setRange(0, 0)
        self._busy.setTextVisible(False)
        self._busy.setMaximumWidth(em * 4)
        self._busy.setMaximumHeight(round(em * 0.6))
        self._busy.setAccessibleName(self.tr("Renewing access"))
        self._busy.setAccessibleDescription(self.tr("Shown while access is being renewed."))
        self._refresh = QPushButton(self.tr("Refresh now"), self._status)
        self._refresh.setAccessibleName(self.tr("Refresh now"))
        self._refresh.setAccessibleDescription(self.tr("Renews access to your Kit account now."))
        self._lifetime = QProgressBar(self._status)
        self._lifetime.setRange(0, _BAR_STEPS)
        self._lifetime.setTextVisible(False)
        self._lifetime.setMaximumHeight(round(em * 0.5))
        self._lifetime.setAccessibleName(self.tr("Time left before access expires"))
        self._lifetime.setAccessibleDescription(self.tr("How much of the access time is left."))
        self._refresh_error = Notice("warning", parent=self._status)
        self._renewed = plain_label(parent=self._status)
        set_muted(self._renewed)
        self._auto = QCheckBox(self.tr("Renew automatically"), self._status)
        self._auto.setAccessibleName(self.tr("Renew automatically"))
        self._auto.setAccessibleDescription(
            self.tr("Renews access before it runs out, so you stay connected.")
        )

        self._stored = QWidget(self._card)
        self._stored_badge = Badge(Tone.GOOD, Glyph.TICK, lines=1.1, parent=self._stored)
        self._stored_label = plain_label(parent=self._stored)
        self._storage_warning = Notice(
            "warning",
            action=self.tr("Try again"),
            action_description=self.tr("Tries again to save your access in secure storage."),
            parent=self._card,
        )

        self._form = QWidget(self._card)
        self._token = SecretField(self.tr("Access token"), parent=self._form)
        self._type = plain_label(parent=self._form)
        self._scope = plain_label(parent=self._form)
        self._issued = plain_label(parent=self._form)
        self._expires = plain_label(parent=self._form)

        top = QHBoxLayout()
        top.addWidget(self._remaining, 1)
        top.addWidget(self._busy)
        top.addWidget(self._refresh)
        status = QVBoxLayout(self._status)
        status.setContentsMargins(0, 0, 0, 0)
        status.setSpacing(round(em * 0.5))
        status.addLayout(top)
        status.addWidget(self._lifetime)
        status.addWidget(self._renewed)
        status.addWidget(self._refresh_error)
        status.addWidget(self._auto)
        stored = QHBoxLayout(self._stored)
        stored.setContentsMargins(0, 0, 0, 0)
        stored.addWidget(self._stored_badge)
        stored.addWidget(self._stored_label, 1)
        form = QFormLayout(self._form)
        form.setContentsMargins(0, round(em * 0.5), 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for name, field in (
            (self.tr("Access token"), self._token),
            (self.tr("Type"), self._type),
            (self.tr("Scope"), self._scope),
            (self.tr("Issued"), self._issued),
            (self.tr("Expires"), self._expires),
        ):
            form.addRow(self._form_label(name, field), field)
        rule = QFrame(self._card)
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        self._rule = rule
        inner = QVBoxLayout(self._card)
        pad = round(em * 1.2)
        inner.setContentsMargins(pad, pad, pad, pad)
        inner.setSpacing(round(em * 0.6))
        inner.addWidget(self._empty)
        inner.addWidget(self._status)
        inner.addWidget(self._stored)
        inner.addWidget(self._storage_warning)
        inner.addWidget(rule)
        inner.addWidget(self._form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(em * 0.6))
        layout.addWidget(heading)
        layout.addWidget(self._card)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._refresh.clicked.connect(self._on_refresh_clicked)
        self._auto.toggled.connect(self._on_auto_toggled)
        self._storage_warning.action_requested.connect(self._on_storage_warning_action_requested)
        self._token.copied.connect(self.copied)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.show_view(self._view)

    @property
    def refresh_button(self) -> QPushButton:
        """The "Refresh now" button."""
        return self._refresh

    @property
    def auto_renew_box(self) -> QCheckBox:
        """The "Renew automatically" checkbox."""
        return self._auto

    @property
    def token_field(self) -> SecretField:
        """The masked access token."""
        return self._token

    @property
    def can_refresh(self) -> bool:
        """Whether "Refresh now" is available (tokens held, no refresh running)."""
        return self._view.phase.has_tokens and not self._view.refreshing

    def show_view(self, view: SessionView) -> None:
        """Show the tokens, the refresh state and the storage of ``view``."""
        self._view = view
        tokens = view.tokens
        self._empty.setVisible(tokens is None)
        self._status.setVisible(tokens is not None)
        self._form.setVisible(tokens is not None)
        self._rule.setVisible(tokens is not None)
        self._refresh.setEnabled(self.can_refresh)
        self._busy.setVisible(view.refreshing)
        self._refresh_error.set_text(view.refresh_error)
        self._refresh_error.setVisible(bool(view.refresh_error))
        self._auto.blockSignals(True)
        self._auto.setChecked(view.auto_renew)
        self._auto.blockSignals(False)
        self._show_storage(view.storage, connected=tokens is not None)
        if tokens is None:
            self._token.set_value("")
        else:
            self._show_tokens(tokens)
        self._update_remaining()

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order."""
        chain: list[QWidget] = [self._refresh, self._auto]
        if self._storage_warning.button is not None:
            chain.append(self._storage_warning.button)
        return [*chain, *self._token.focus_chain()]

    def _form_label(self, text: str, buddy: QWidget) -> QLabel:
        label = plain_label(text, self._form, wrap=False)
        label.setBuddy(buddy)
        set_muted(label)
        return label

    def _show_storage(self, storage: StorageView | None, *, connected: bool) -> None:
        secure = storage is not None and storage.secure
        self._stored.setVisible(secure)
        self._storage_warning.setVisible(storage is not None and not storage.secure)
        if storage is None:
            return
        if storage.secure:
            text = (
                self.tr("Saved securely in {location}")
                if connected
                else self.tr("Your connection will be saved securely in {location}")
            )
            self._stored_label.setText(text.format(location=storage.location))
        else:
            self._storage_warning.set_text(
                storage.warning
                or self.tr("Not saved securely ({location}).").format(location=storage.location)
            )

    def _show_tokens(self, tokens: TokenView) -> None:
        if tokens.access_token != self._token.value:
            self._token.set_value(tokens.access_token)
        now = self._clock()
        self._type.setText(tokens.token_type)
        self._scope.setText(tokens.scope or self.tr("(not stated)"))
        self._issued.setText(format_local_time(tokens.issued_at, now=now))
        self._issued.setToolTip(format_exact_time(tokens.issued_at))
        if tokens.expires_at is None:
            self._expires.setText(self.tr("Does not expire"))
            self._expires.setToolTip("")
        else:
            self._expires.setText(format_local_time(tokens.expires_at, now=now))
            self._expires.setToolTip(format_exact_time(tokens.expires_at))
        if tokens.last_renewed is None:
            self._renewed.setText(self.tr("Not renewed yet"))
        else:
            self._renewed.setText(
                self.tr("Last renewed {when}").format(
                    when=format_local_time(tokens.last_renewed, now=now)
                )
            )

    def _update_remaining(self) -> None:
        tokens = self._view.tokens
        if tokens is None or tokens.expires_at is None:
            self._timer.stop()
            self._remaining.setText(self.tr("Does not expire") if tokens else "")
            self._lifetime.hide()
            return
        left = tokens.expires_at - self._clock()
        text = format_remaining(left)
        self._remaining.setText(text)
        self._remaining.setAccessibleName(text)
        total = tokens.expires_at - tokens.issued_at
        fraction = min(1.0, max(0.0, left / total)) if total > 0 else 0.0
        self._lifetime.setValue(round(fraction * _BAR_STEPS))
        self._lifetime.setAccessibleDescription(text)
        self._lifetime.show()
        if left > 0:
            # Re-read the wall clock every second, so the text is right after sleep too.
            self._timer.start(round(((left % 1.0) or 1.0) * 1000) + 20)
        else:
            self._timer.stop()

    @Slot()
    def _on_refresh_clicked(self) -> None:
        self.refresh_requested.emit()

    @Slot(bool)
    def _on_auto_toggled(self, checked: bool) -> None:
        self.auto_renew_toggled.emit(checked)

    @Slot()
    def _on_storage_warning_action_requested(self) -> None:
        self.retry_storage_requested.emit()

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._update_remaining()
