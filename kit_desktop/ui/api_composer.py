"""Composing a request: a ready-made start, method, path with completion, query, body, headers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kit_desktop.ui.api_body_editor import BODY_METHODS, BodyEditor
from kit_desktop.ui.api_pairs import Pairs, PairsTable
from kit_desktop.ui.api_path import EndpointLike, PathField, join_path, split_path
from kit_desktop.ui.api_tabs import page_tabs
from kit_desktop.ui.theme import Tone, plain_label, set_muted

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ApiComposer(QWidget):
    """Where a request is put together. Passive: the panel reads it and wires the buttons.

    Enter in the path field sends, as in a browser's address bar, unless a suggestion is
    highlighted: then it picks that one. After Send the focus stays in (or returns to) the
    path field, so Enter sends again.

    Signals:
        send_requested(): Send (the button, or Enter in the path field).
        cancel_requested(): Cancel while a request runs.
        curl_requested(): "Copy as curl".
    """

    send_requested = Signal()
    cancel_requested = Signal()
    curl_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the composer (Kit's endpoints arrive later with :meth:`set_endpoints`)."""
        super().__init__(parent)
        self._presets: list[EndpointLike] = []
        self._syncing = False
        self._running = False
        self._reason = ""

        self._preset = QComboBox(self)
        self._preset.setAccessibleName(self.tr("Start from"))
        self._preset.setAccessibleDescription(self.tr("Fills in a ready-made request."))
        self._method = QComboBox(self)
        self._method.addItems(METHODS)
        self._method.setAccessibleName(self.tr("Method"))
        self._method.setAccessibleDescription(self.tr("GET reads; POST, PUT and PATCH change."))
        self._path = PathField(self)
        self._send = self._button(self.tr("Send"), self.tr("Sends the request to Kit."))
        self._send.setProperty("primary", True)
        self._send.setAutoDefault(True)  # Enter on the focused button sends, on every platform
        self._cancel = self._button(self.tr("Cancel"), self.tr("Stops waiting for the answer."))
        self._curl = self._button(
            self.tr("Copy as curl"),
            self.tr(
                "Copies a curl command for this request; it names your access, never shows it."
            ),
        )
        self._curl.setProperty("link", True)
        self._hint = plain_label(parent=self)
        self._hint.setObjectName("hint")
        set_muted(self._hint)

        self._query = PairsTable(
            self.tr("Name"),
            self.tr("Value"),
            self.tr("Query parameters; they stay in step with the path."),
            self,
        )
        self._query.setAccessibleName(self.tr("Query parameters"))
        self._body = BodyEditor(self)
        self._headers = PairsTable(
            self.tr("Header"),
            self.tr("Value"),
            self.tr("Extra request headers. Your Kit access is added by the app."),
            self,
        )
        self._headers.setAccessibleName(self.tr("Headers"))
        self._tabs = page_tabs(self.tr("Request details"), self)
        self._build_layout()

        self._preset.activated.connect(self._on_preset_activated)
        self._method.currentTextChanged.connect(self._on_method_changed)
        self._path.textChanged.connect(self._on_path_changed)
        self._path.endpoint_chosen.connect(self._on_path_endpoint_chosen)
        self._path.returnPressed.connect(self._on_path_return_pressed)
        self._query.edited.connect(self._on_query_edited)
        self._send.clicked.connect(self._on_send_clicked)
        self._cancel.clicked.connect(self.cancel_requested)
        self._curl.clicked.connect(self.curl_requested)
        self._on_method_changed(self.method)
        self.set_running(False)

    # --- what the panel reads -------------------------------------------------------------

    @property
    def method(self) -> str:
        """The chosen method."""
        return self._method.currentText()

    @property
    def path(self) -> str:
        """The path without its query."""
        return self._path.base

    @property
    def query(self) -> Pairs:
        """The query pairs, as in the table."""
        return self._query.pairs()

    @property
    def body_text(self) -> str:
        """The body as typed ('' when the method sends none)."""
        return self._body.text

    @property
    def headers(self) -> Pairs:
        """The extra headers."""
        return self._headers.pairs()

    @property
    def preset_box(self) -> QComboBox:
        """The "Start from" box: ready-made requests."""
        return self._preset

    @property
    def send_button(self) -> QPushButton:
        """Send."""
        return self._send

    @property
    def cancel_button(self) -> QPushButton:
        """Cancel."""
        return self._cancel

    @property
    def curl_button(self) -> QPushButton:
        """Copy as curl."""
        return self._curl

    @property
    def path_field(self) -> PathField:
        """The path field."""
        return self._path

    @property
    def body_editor(self) -> QPlainTextEdit:
        """The JSON body editor."""
        return self._body.editor

    @property
    def body_status(self) -> QLabel:
        """Whether the body is valid JSON, with line and column when not."""
        return self._body.status

    @property
    def query_table(self) -> PairsTable:
        """The query parameters."""
        return self._query

    @property
    def hint(self) -> QLabel:
        """The line under the path: what the endpoint does, or why Send is off."""
        return self._hint

    @property
    def completer(self) -> QCompleter:
        """The path completion."""
        return self._path.completer()

    # --- what the panel shows -------------------------------------------------------------

    def set_endpoints(
        self, endpoints: Sequence[EndpointLike], presets: Sequence[EndpointLike]
    ) -> None:
        """Offer ``endpoints`` for completion and ``presets`` as ready-made requests."""
        self._path.set_endpoints(endpoints)
        self._presets = list(presets)
        self._preset.clear()
        self._preset.addItem(self.tr("Choose a ready-made request…"))
        for preset in self._presets:
            self._preset.addItem(preset.summary)
        self._show_hint()

    def load(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]],
        body_text: str = "",
        headers: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Fill in a request (from a preset, the history or a page button)."""
        self._method.setCurrentText(method)
        self._path.setText(join_path(path, query))
        if method in BODY_METHODS:
            self._body.set_text(body_text)
        if headers is not None:
            self._headers.set_pairs(headers)

    def set_running(self, running: bool) -> None:
        """Show Cancel while a request runs, Send otherwise.

        A button that hides while it has the focus hands it to the path field (Qt would pass
        it on to "Copy as curl", where Enter would copy instead of sending again).
        """
        self._running = running
        leaving = self._send if running else self._cancel
        if leaving.hasFocus():
            self._path.setFocus(Qt.FocusReason.OtherFocusReason)
        self._send.setVisible(not running)
        self._cancel.setVisible(running)

    def set_send_enabled(self, enabled: bool, reason: str) -> None:
        """Turn Send on or off; ``reason`` says why it is off, under the path."""
        self._send.setEnabled(enabled)
        self._send.setToolTip(reason)
        self._reason = "" if enabled else reason
        self._show_hint()

    # --- helpers ---------------------------------------------------------------------------

    def _button(self, text: str, description: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setAccessibleName(text)
        button.setAccessibleDescription(description)
        return button

    def _build_layout(self) -> None:
        em = self.fontMetrics().height()
        start = QHBoxLayout()
        start_label = QLabel(self.tr("Start from"), self)
        start_label.setBuddy(self._preset)
        start.addWidget(start_label)
        start.addWidget(self._preset, 1)
        line = QHBoxLayout()
        line.setSpacing(round(em * 0.4))
        line.addWidget(self._method)
        line.addWidget(self._path, 1)
        line.addWidget(self._send)
        line.addWidget(self._cancel)
        self._tabs.addTab(self._query, self.tr("Query parameters"))
        self._tabs.addTab(self._body, self.tr("Body"))
        self._tabs.addTab(self._headers, self.tr("Headers"))
        self._tabs.setMinimumHeight(em * 6)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(round(em * 0.5))
        outer.addLayout(start)
        outer.addLayout(line)
        under_line = QHBoxLayout()
        under_line.addWidget(self._hint, 1)
        under_line.addWidget(self._curl, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(under_line)
        outer.addWidget(self._tabs, 1)

    def _show_hint(self) -> None:
        if self._reason:
            text = self._reason
        else:
            endpoint = self._path.endpoint_for(self.method)
            text = endpoint.summary if endpoint is not None else ""
            if endpoint is not None and "{" in self.path:
                text += " " + self.tr("(replace the part in braces, like {id}, first)")
        self._hint.setText(text)
        # Why Send is off stands out; what the endpoint does stays quiet.
        self._hint.setStyleSheet(f"color: {Tone.ATTENTION.value};" if self._reason else "")
        self._show_preset()

    def _show_preset(self) -> None:
        """Name the ready-made request only while the request is still it (paging changes it)."""
        base, pairs = split_path(self._path.text().strip())
        index = next(
            (
                number
                for number, preset in enumerate(self._presets, start=1)
                if (preset.method, preset.path) == (self.method, base) and not pairs
            ),
            0,
        )
        if self._preset.count() > index:
            self._preset.setCurrentIndex(index)

    @Slot(int)
    def _on_preset_activated(self, index: int) -> None:
        if 1 <= index <= len(self._presets):
            preset = self._presets[index - 1]
            self.load(preset.method, preset.path, [], preset.example_body)
            self._tabs.setCurrentIndex(1 if preset.example_body else 0)
            self._path.setFocus()

    @Slot(object)
    def _on_path_endpoint_chosen(self, endpoint: EndpointLike) -> None:
        self._method.setCurrentText(endpoint.method)
        if endpoint.method in BODY_METHODS and not self._body.editor.toPlainText().strip():
            self._body.set_text(endpoint.example_body)

    @Slot(str)
    def _on_method_changed(self, method: str) -> None:
        self._body.set_method(method)
        self._tabs.setTabEnabled(1, method in BODY_METHODS)
        self._show_hint()

    @Slot(str)
    def _on_path_changed(self, text: str) -> None:
        if not self._syncing:
            self._syncing = True
            try:
                self._query.set_pairs(split_path(text.strip())[1])
            finally:
                self._syncing = False
        self._show_hint()

    @Slot()
    def _on_query_edited(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self._path.setText(join_path(self.path, self._query.pairs()))
        finally:
            self._syncing = False

    @Slot()
    def _on_path_return_pressed(self) -> None:
        # Qt tells the field of an Enter meant for the suggestions before it picks one.
        popup = self._path.completer().popup()
        if popup is not None and popup.isVisible() and popup.currentIndex().isValid():
            return
        self._on_send_clicked()

    @Slot()
    def _on_send_clicked(self) -> None:
        if self._send.isEnabled() and not self._running:
            self.send_requested.emit()
