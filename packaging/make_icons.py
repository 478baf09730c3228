"""Render the app icon from resources/icons/kit-desktop.svg into PNG, ICO and ICNS.

Run with the dev environment: ``.venv/bin/python packaging/make_icons.py``. The results
are committed, so builds never need this script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """Return the icon drawn at ``size`` pixels square."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    """Write kit-desktop.png (256 px), kit-desktop-64.png, .ico and .icns."""
    app = QGuiApplication(sys.argv)
    renderer = QSvgRenderer(str(ICONS / "kit-desktop.svg"))
    if not renderer.isValid():
        print("the SVG icon could not be read", file=sys.stderr)
        return 1
    large, small = render(renderer, 256), render(renderer, 64)
    written = [
        large.save(str(ICONS / "kit-desktop.png"), b"PNG"),
        small.save(str(ICONS / "kit-desktop-64.png"), b"PNG"),
        large.save(str(ICONS / "kit-desktop.ico"), b"ICO"),
        render(renderer, 512).save(str(ICONS / "kit-desktop.icns"), b"ICNS"),
    ]
    del app
    return 0 if all(written) else 1


if __name__ == "__main__":
    sys.exit(main())
