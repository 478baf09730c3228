"""The collapsible "Details" section: the PKCE values of the current connection attempt."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.state import AttemptView
from kit_desktop.ui.secret_field import SecretField
from kit_desktop.ui.theme import card_frame, plain_label, relative_font, set_muted

NO_VALUES = "No values yet: they are made when you connect."
NO_VALUES_CONNECTED = (
    "The values are made for each connection and used once; the current connection no "
    "longer needs them."
)
PREVIEW_NOTE = (
    "An example set, to look at: nothing was sent to Kit, and your next connection makes "
    "its own values."
)
USED_NOTE = (
    "The values the current connection was made with. They have been used and cannot be used again."
)


class PkcePanel(QWidget):
    """A closed-by-default section with the one-time security values of the current attempt.

    Signals:
        expanded_changed(bool): The section was opened or closed.
        generate_requested(): "Generate new values" (only offered when no attempt runs).
        copied(str): A value was copied; carries its name.
    """

    expanded_changed = Signal(bool)
    generate_requested = Signal()
    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the section, closed."""
        super().__init__(parent)
        self._attempt: AttemptView | None = None
        self._connected = False
        em = self.fontMetrics().height()
        self._toggle = QToolButton(self)
        self._toggle.setText(self.tr("Details"))
        self._toggle.setCheckable(True)
        self._toggle.setAutoRaise(True)
        self._toggle.setProperty("link", True)
        self._toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._toggle.setFont(relative_font(self.font(), 1.1, bold=True))
        self._toggle.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._toggle.setAccessibleName(self.tr("Details"))
        self._toggle.setAccessibleDescription(
            self.tr("Shows or hides the security values of the connection.")
        )

        self._body = card_frame(self)
        intro = plain_label(
            self.tr(
                "Kit Desktop makes these one-time security values (PKCE) for each connection. "
                "You only need them if someone helping you asks for them."
            ),
            self._body,
        )
        set_muted(intro)
        self._empty = plain_label(self.tr(NO_VALUES), self._body)
        set_muted(self._empty)
        self._note = plain_label(parent=self._body)
        set_muted(self._note)
        self._values = QWidget(self._body)
        self._verifier = SecretField(self.tr("Code verifier"), parent=self._values)
        self._challenge = SecretField(self.tr("Code challenge"), secret=False, parent=self._values)
        self._method = plain_label(parent=self._values)
        self._state = SecretField(self.tr("State"), secret=False, parent=self._values)
        self._redirect = SecretField(self.tr("Redirect URI"), secret=False, parent=self._values)
        self._url = SecretField(self.tr("Authorization URL"), secret=False, parent=self._values)
        self._generate = QPushButton(self.tr("Generate new values"), self._body)
        self._generate.setAccessibleName(self.tr("Generate new values"))
        self._generate.setAccessibleDescription(
            self.tr("Makes a fresh set of security values to look at. Nothing is sent.")
        )

        form = QFormLayout(self._values)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow(self._form_label(self._verifier.name, self._verifier), self._verifier)
        form.addRow(self._form_label(self._challenge.name, self._challenge), self._challenge)
        form.addRow(self._form_label(self.tr("Method"), self._method), self._method)
        form.addRow(self._form_label(self._state.name, self._state), self._state)
        form.addRow(self._form_label(self._redirect.name, self._redirect), self._redirect)
        form.addRow(self._form_label(self._url.name, self._url), self._url)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self._generate)
        body = QVBoxLayout(self._body)
        pad = round(em * 1.2)
        body.setContentsMargins(pad, pad, pad, pad)
        body.setSpacing(round(em * 0.75))
        body.addWidget(intro)
        body.addWidget(self._empty)
        body.addWidget(self._note)
        body.addWidget(self._values)
        body.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(em * 0.5))
        layout.addWidget(self._toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self._body)

        for field in self._fields():
            field.copied.connect(self.copied)
        self._toggle.toggled.connect(self._on_toggle_toggled)
        self._generate.clicked.connect(self._on_generate_clicked)
        self._apply_expanded(False)
        self.show_attempt(None)

    @property
    def toggle_button(self) -> QToolButton:
        """The "Details" header that opens and closes the section."""
        return self._toggle

    @property
    def generate_button(self) -> QPushButton:
        """The "Generate new values" button."""
        return self._generate

    @property
    def redirect_field(self) -> SecretField:
        """The redirect URI shown."""
        return self._redirect

    @property
    def note_label(self) -> QLabel:
        """What the values shown are (an example set, or the connection's used ones)."""
        return self._note

    @property
    def verifier_field(self) -> SecretField:
        """The masked code verifier."""
        return self._verifier

    @property
    def expanded(self) -> bool:
        """Whether the section is open."""
        return self._toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        """Open or close the section (emits ``expanded_changed`` when it changes)."""
        self._toggle.setChecked(expanded)

    def set_attempt_running(self, running: bool, connected: bool = False) -> None:
        """Offer "Generate new values" only while nothing is connecting or connected.

        While connected the values shown are the ones that connection was made with, and
        new ones would be used by nothing, so the button goes and the section says why.
        """
        self._connected = connected
        self._generate.setVisible(not (running or connected))
        self._empty.setText(self.tr(NO_VALUES_CONNECTED if connected else NO_VALUES))
        self._show_note()

    def show_attempt(self, attempt: AttemptView | None) -> None:
        """Show the values of ``attempt``, or say there are none yet."""
        self._attempt = attempt
        self._empty.setVisible(attempt is None)
        self._values.setVisible(attempt is not None)
        self._show_note()
        self._verifier.set_value(attempt.verifier if attempt else "")
        self._challenge.set_value(attempt.challenge if attempt else "")
        self._method.setText(attempt.method if attempt else "")
        self._state.set_value(attempt.state if attempt else "")
        self._redirect.set_value(attempt.redirect_uri if attempt else "")
        self._url.set_value(attempt.url if attempt else "")

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order."""
        chain: list[QWidget] = [self._toggle]
        for field in self._fields():
            chain.extend(field.focus_chain())
        chain.append(self._generate)
        return chain

    def _show_note(self) -> None:
        attempt = self._attempt
        if attempt is None:
            text = ""
        elif attempt.preview:
            text = self.tr(PREVIEW_NOTE)
        elif self._connected:
            text = self.tr(USED_NOTE)
        else:
            text = ""
        self._note.setText(text)
        self._note.setVisible(bool(text))

    def _fields(self) -> tuple[SecretField, ...]:
        return (self._verifier, self._challenge, self._state, self._redirect, self._url)

    def _form_label(self, text: str, buddy: QWidget) -> QLabel:
        label = plain_label(text, self._values, wrap=False)
        label.setBuddy(buddy)
        set_muted(label)
        return label

    def _apply_expanded(self, expanded: bool) -> None:
        self._toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self._body.setVisible(expanded)

    @Slot(bool)
    def _on_toggle_toggled(self, checked: bool) -> None:
        self._apply_expanded(checked)
        self.expanded_changed.emit(checked)

    @Slot()
    def _on_generate_clicked(self) -> None:
        self.generate_requested.emit()
