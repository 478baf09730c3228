"""Colours for pretty-printed JSON: keys, strings, numbers and true/false/null."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QPalette, QSyntaxHighlighter, QTextCharFormat, QTextDocument

# One pass per line; a key is a string followed by a colon. Strings may hold escaped quotes.
_TOKEN = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))'
    r'|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<number>-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)"
    r"|(?P<literal>\b(?:true|false|null)\b)"
)

#: Above this many lines a palette switch leaves the old colours (rehighlighting would stall).
REHIGHLIGHT_LINES = 20_000

#: Colours that read on light and dark windows alike: (light palette, dark palette).
_COLOURS: dict[str, tuple[str, str]] = {
    "key": ("#1D4ED8", "#7AB0FF"),
    "string": ("#17804F", "#5BD49A"),
    "number": ("#9A5B00", "#F0B45A"),
    "literal": ("#8E4EC6", "#C9A2F2"),
}


class JsonHighlighter(QSyntaxHighlighter):
    """Highlights one line at a time, so large documents can be filled in chunks.

    Multi-line strings do not occur in pretty-printed JSON, so no state crosses lines.
    """

    def __init__(self, document: QTextDocument, palette: QPalette) -> None:
        """Attach to ``document``, with colours suited to ``palette``."""
        super().__init__(document)
        self._formats: dict[str, QTextCharFormat] = {}
        self.set_palette(palette)

    def set_palette(self, palette: QPalette) -> None:
        """Pick the light or dark colours for ``palette`` and highlight again."""
        dark = palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5
        formats: dict[str, QTextCharFormat] = {}
        for name, (light_colour, dark_colour) in _COLOURS.items():
            char_format = QTextCharFormat()
            char_format.setForeground(QColor(dark_colour if dark else light_colour))
            formats[name] = char_format
        changed = formats != self._formats
        self._formats = formats
        document = self.document()
        if changed and document is not None and 0 < document.blockCount() <= REHIGHLIGHT_LINES:
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        """Colour the tokens of one line."""
        if len(text) > 10_000:  # a giant line: leave it plain rather than stall the window
            return
        formats = self._formats
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind is not None:
                self.setFormat(match.start(), match.end() - match.start(), formats[kind])
