"""The window's few colours, fonts and shared label helpers; everything else follows the palette."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from kit_desktop.state import Phase

#: The one accent: the filled primary button. White text on it is 5.2:1.
ACCENT = "#2563EB"
ACCENT_HOVER = "#1D4ED8"
ACCENT_PRESSED = "#1E40AF"


class Tone(Enum):
    """A status colour; each reads at 3:1 or more on both light and dark windows."""

    IDLE = "#8B8D98"
    BUSY = "#3B82F6"
    GOOD = "#2B9A66"
    ATTENTION = "#B86E00"
    BAD = "#E5484D"

    @property
    def color(self) -> QColor:
        """The tone as a QColor."""
        return QColor(self.value)

    def tint(self, alpha: float = 0.14) -> str:
        """A translucent stylesheet colour of this tone, for backgrounds on any palette."""
        color = self.color
        return f"rgba({color.red()}, {color.green()}, {color.blue()}, {alpha})"


PHASE_TONES: dict[Phase, Tone] = {
    Phase.NOT_CONNECTED: Tone.IDLE,
    Phase.OPENING: Tone.BUSY,
    Phase.WAITING: Tone.BUSY,
    Phase.FINISHING: Tone.BUSY,
    Phase.CONNECTED: Tone.GOOD,
    Phase.RENEWING: Tone.BUSY,
    Phase.RECONNECT_NEEDED: Tone.ATTENTION,
    Phase.FAILED: Tone.BAD,
}

_HALO = "rgba(37, 99, 235, 0.55)"

#: A card's border against the window and against the card's own base colour, at least.
BORDER_CONTRAST = 2.0


def contrast(one: QColor, other: QColor) -> float:
    """The WCAG contrast ratio of two opaque colours, from 1.0 (the same) to 21.0."""
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def border_color(palette: QPalette) -> QColor:
    """A card border that stands out from both the window and the card, in light or dark.

    The palette's own ``mid`` is nearly the window colour in many dark themes, so the
    border is the window colour moved towards the text colour just far enough.
    """
    window = palette.color(QPalette.ColorRole.Window)
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.WindowText)
    for step in range(2, 11):
        color = _mix(window, text, step / 10)
        if min(contrast(color, window), contrast(color, base)) >= BORDER_CONTRAST:
            return color
    return text


def style_sheet(palette: QPalette) -> str:
    """The window's style sheet, with the colours that are worked out from ``palette``."""
    return _STYLE_SHEET.replace("@border", border_color(palette).name())


def _luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def _mix(one: QColor, other: QColor, amount: float) -> QColor:
    return QColor.fromRgbF(
        one.redF() + (other.redF() - one.redF()) * amount,
        one.greenF() + (other.greenF() - one.greenF()) * amount,
        one.blueF() + (other.blueF() - one.blueF()) * amount,
    )


_STYLE_SHEET = f"""
QFrame[card="true"] {{
    background: palette(base);
    border: 1px solid @border;
    border-radius: 10px;
}}
QPushButton[primary="true"] {{
    background: {ACCENT};
    background-clip: padding;
    color: white;
    border: 2px solid transparent;
    border-radius: 8px;
    padding: 0.4em 1.4em;
    font-weight: 600;
}}
QPushButton[primary="true"]:hover {{ background: {ACCENT_HOVER}; }}
QPushButton[primary="true"]:pressed {{ background: {ACCENT_PRESSED}; }}
QPushButton[primary="true"]:focus {{ border-color: {_HALO}; }}
QPushButton[primary="true"]:disabled {{ background: palette(mid); }}
QPushButton[link="true"], QToolButton[link="true"] {{
    border: 2px solid transparent;
    border-radius: 5px;
    background: transparent;
    padding: 0.15em 0.3em;
}}
QPushButton[link="true"] {{ color: palette(link); }}
QPushButton[link="true"]:hover, QToolButton[link="true"]:hover {{ text-decoration: underline; }}
QPushButton[link="true"]:focus, QToolButton[link="true"]:focus {{ border-color: {_HALO}; }}
QFrame[notice="practice"] {{
    background: {Tone.BUSY.tint()};
    border: 1px solid {Tone.BUSY.value};
    border-radius: 8px;
}}
QFrame[notice="warning"] {{
    background: {Tone.ATTENTION.tint()};
    border: 1px solid {Tone.ATTENTION.value};
    border-radius: 8px;
}}
QFrame[notice] QLabel {{ background: transparent; border: none; }}
"""


def card_frame(parent: QWidget | None = None) -> QFrame:
    """A rounded panel on the palette's base colour that groups one section."""
    frame = QFrame(parent)
    frame.setProperty("card", True)
    return frame


def plain_label(text: str = "", parent: QWidget | None = None, *, wrap: bool = True) -> QLabel:
    """A label that never interprets markup, for any text that may come from the network.

    Args:
        text: The text, shown literally.
        parent: The parent widget.
        wrap: Whether long text wraps onto more lines.

    Returns:
        The label, with ``Qt.TextFormat.PlainText`` and selectable text.
    """
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(wrap)
    label.setText(text)
    return label


def relative_font(base: QFont, scale: float = 1.0, *, bold: bool = False) -> QFont:
    """A font scaled from ``base`` (so it follows the user's size and 200 % scaling)."""
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    else:
        font.setPixelSize(max(1, round(font.pixelSize() * scale)))
    font.setBold(bold)
    return font


def fixed_font(base: QFont) -> QFont:
    """The system monospace font at the size of ``base``, for codes and tokens."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF())
    return font


def set_muted(label: QLabel) -> None:
    """Draw a label in the palette's secondary text colour."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
