"""A round status badge: a coloured disc with a simple glyph, sized from the font."""

from __future__ import annotations

from enum import Enum, auto

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from kit_desktop.state import Phase
from kit_desktop.ui.theme import PHASE_TONES, Tone


class Glyph(Enum):
    """What is drawn inside the disc."""

    RING = auto()  # an empty ring: nothing going on
    DOTS = auto()  # three dots: under way
    TICK = auto()  # done, all well
    ALERT = auto()  # an exclamation mark: needs attention
    INFO = auto()  # an "i": for your information


_PHASE_GLYPHS: dict[Phase, Glyph] = {
    Phase.NOT_CONNECTED: Glyph.RING,
    Phase.OPENING: Glyph.DOTS,
    Phase.WAITING: Glyph.DOTS,
    Phase.FINISHING: Glyph.DOTS,
    Phase.CONNECTED: Glyph.TICK,
    Phase.RENEWING: Glyph.DOTS,
    Phase.RECONNECT_NEEDED: Glyph.ALERT,
    Phase.FAILED: Glyph.ALERT,
}


class Badge(QWidget):
    """A decorative status mark; the text next to it carries the meaning for screen readers."""

    def __init__(
        self,
        tone: Tone = Tone.IDLE,
        glyph: Glyph = Glyph.RING,
        *,
        lines: float = 2.0,
        parent: QWidget | None = None,
    ) -> None:
        """Build the badge.

        Args:
            tone: Its colour.
            glyph: What is drawn inside.
            lines: Its diameter in text lines, so it scales with the font.
            parent: The parent widget.
        """
        super().__init__(parent)
        self._tone = tone
        self._glyph = glyph
        self._lines = lines
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @property
    def tone(self) -> Tone:
        """The colour being shown."""
        return self._tone

    @property
    def glyph(self) -> Glyph:
        """The glyph being shown."""
        return self._glyph

    def set_badge(self, tone: Tone, glyph: Glyph) -> None:
        """Draw ``glyph`` on a disc of ``tone``."""
        if (tone, glyph) != (self._tone, self._glyph):
            self._tone, self._glyph = tone, glyph
            self.update()

    def show_phase(self, phase: Phase) -> None:
        """Draw the badge that stands for ``phase``."""
        self.set_badge(PHASE_TONES[phase], _PHASE_GLYPHS[phase])

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """``lines`` text lines across."""
        side = max(8, round(self.fontMetrics().height() * self._lines))
        return QSize(side, side)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Paint the disc and its glyph."""
        del event
        side = min(self.width(), self.height()) - 2.0
        disc = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        u = side / 10
        if self._glyph is Glyph.RING:
            painter.setPen(QPen(self._tone.color, max(1.5, u)))
            painter.drawEllipse(disc.adjusted(u, u, -u, -u))
            painter.end()
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._tone.color)
        painter.drawEllipse(disc)
        pen = QPen(QColor("white"), max(1.5, u * 1.1))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        c = disc.center()
        if self._glyph is Glyph.TICK:
            tick = QPainterPath(QPointF(c.x() - 2.3 * u, c.y() + 0.1 * u))
            tick.lineTo(c.x() - 0.7 * u, c.y() + 1.7 * u)
            tick.lineTo(c.x() + 2.4 * u, c.y() - 1.6 * u)
            painter.drawPath(tick)
        elif self._glyph is Glyph.ALERT:
            painter.drawLine(QPointF(c.x(), c.y() - 2.5 * u), QPointF(c.x(), c.y() + 0.6 * u))
            painter.drawPoint(QPointF(c.x(), c.y() + 2.5 * u))
        elif self._glyph is Glyph.INFO:
            painter.drawPoint(QPointF(c.x(), c.y() - 2.5 * u))
            painter.drawLine(QPointF(c.x(), c.y() - 0.6 * u), QPointF(c.x(), c.y() + 2.5 * u))
        elif self._glyph is Glyph.DOTS:
            pen.setWidthF(max(2.0, u * 1.6))
            painter.setPen(pen)
            for dx in (-2.4 * u, 0.0, 2.4 * u):
                painter.drawPoint(QPointF(c.x() + dx, c.y()))
        painter.end()
