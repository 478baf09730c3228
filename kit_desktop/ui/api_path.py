"""The path field: ``/v4/...`` with Kit's endpoints suggested as you type, and its query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol
from urllib.parse import unquote_plus, urlencode

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter, QLineEdit, QStyle, QTreeView, QWidget

from kit_desktop.ui.api_pairs import Pairs
from kit_desktop.ui.theme import fixed_font

_ENDPOINT_ROLE = Qt.ItemDataRole.UserRole + 1


class EndpointLike(Protocol):
    """What the page reads of one of Kit's endpoints."""

    @property
    def method(self) -> str:
        """GET, POST..."""

    @property
    def path(self) -> str:
        """``/v4/...``; ``{name}`` marks a part to fill in."""

    @property
    def summary(self) -> str:
        """A short plain description."""

    @property
    def example_body(self) -> str:
        """A JSON body to start from ('' for none)."""


def split_path(text: str) -> tuple[str, Pairs]:
    """Split what is in the path field into the path and its query pairs (decoded once).

    The same reading as the core's ``paging.split_query`` (widgets do not import the core's
    API package); what is sent is split again by the core.
    """
    base, sep, query = text.partition("?")
    pairs: Pairs = []
    for piece in query.split("&") if sep else []:
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
    return base, pairs


def join_path(base: str, pairs: Iterable[tuple[str, str]]) -> str:
    """The path field's text for ``base`` and ``pairs`` (the inverse of :func:`split_path`)."""
    query = urlencode(list(pairs))
    return f"{base}?{query}" if query else base


def fits(template: str, path: str) -> bool:
    """Whether ``path`` is ``template`` with its ``{name}`` parts filled in (or left as is)."""
    wanted, given = template.split("/"), path.split("/")
    return len(wanted) == len(given) and all(
        w == g or (w.startswith("{") and w.endswith("}") and g)
        for w, g in zip(wanted, given, strict=True)
    )


class PathField(QLineEdit):
    """A monospace field that suggests Kit's endpoints (path, method and what it does).

    The suggestions are as wide as whole paths and their descriptions need (within the
    screen), not cut to the field's width.

    Signals:
        endpoint_chosen(object): A suggestion was picked; carries the endpoint.
    """

    endpoint_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        """Build the field; the suggestions arrive with :meth:`set_endpoints`."""
        super().__init__(parent)
        self._endpoints: list[EndpointLike] = []
        self._popup_width = 0
        # An instruction, not an example that looks typed (an empty path is not sent).
        self.setPlaceholderText(self.tr("Type a path, for example /v4/account"))
        self.setFont(fixed_font(self.font()))
        self.setAccessibleName(self.tr("Path"))
        self.setAccessibleDescription(
            self.tr("The address in Kit's API, starting with /v4/. Suggestions appear as you type.")
        )
        completer = QCompleter(self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(10)
        popup = self._popup = QTreeView()
        popup.setRootIsDecorated(False)
        popup.setHeaderHidden(True)
        popup.setAllColumnsShowFocus(True)
        popup.setAccessibleName(self.tr("Suggested paths"))
        completer.setPopup(popup)
        popup.header().setStretchLastSection(True)
        popup.installEventFilter(self)
        # The QModelIndex overload tells which row was chosen (two methods share a path).
        completer.activated[QModelIndex].connect(  # type: ignore[index]
            self._on_completer_activated
        )
        self.setCompleter(completer)

    @property
    def base(self) -> str:
        """The path without its query."""
        return split_path(self.text().strip())[0]

    def set_endpoints(self, endpoints: Sequence[EndpointLike]) -> None:
        """Suggest ``endpoints``: their path, then method and summary."""
        self._endpoints = list(endpoints)
        model = QStandardItemModel(0, 2, self)
        details = [f"{e.method}  ·  {e.summary}" for e in self._endpoints]
        for index, (endpoint, detail) in enumerate(zip(self._endpoints, details, strict=True)):
            path = QStandardItem(endpoint.path)
            path.setData(index, _ENDPOINT_ROLE)
            model.appendRow([path, QStandardItem(detail)])
        self.completer().setModel(model)
        popup, metrics = self._popup, self._popup.fontMetrics()
        pad = metrics.height() * 2  # the item's own margins, and air between the columns
        paths = max((metrics.horizontalAdvance(e.path) for e in self._endpoints), default=0)
        rest = max((metrics.horizontalAdvance(detail) for detail in details), default=0)
        popup.setColumnWidth(0, paths + pad)
        scroll = popup.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self._popup_width = paths + rest + 2 * pad + scroll + 2 * popup.frameWidth()

    def endpoint_for(self, method: str) -> EndpointLike | None:
        """The endpoint the field's path (and ``method``) names, if any."""
        path = self.base.rstrip("/")
        return next((e for e in self._endpoints if e.method == method and fits(e.path, path)), None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Keep the suggestions wide enough whenever the completer places them."""
        if event.type() in (QEvent.Type.Show, QEvent.Type.Resize) and isinstance(
            watched, QTreeView
        ):
            self._widen(watched)
        return super().eventFilter(watched, event)

    def _widen(self, popup: QTreeView) -> None:
        """Widen ``popup`` (placed at the field's width) to whole paths, within the screen."""
        screen = self.screen().availableGeometry()
        width = min(max(self._popup_width, self.width()), screen.width())
        if popup.width() >= width:
            return
        left = min(popup.x(), screen.right() + 1 - width)
        popup.setGeometry(max(left, screen.left()), popup.y(), width, popup.height())

    @Slot(QModelIndex)
    def _on_completer_activated(self, index: QModelIndex) -> None:
        number = index.siblingAtColumn(0).data(_ENDPOINT_ROLE)
        if isinstance(number, int) and 0 <= number < len(self._endpoints):
            self.endpoint_chosen.emit(self._endpoints[number])
