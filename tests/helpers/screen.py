"""What a creator reads: the visible words of a widget, as tests check them."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget


def visible_text(root: QWidget) -> str:
    """Every label and button text visible in ``root``, one per line, in widget order."""
    lines: list[str] = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLabel | QAbstractButton) and widget.text():
            lines.append(widget.text())
    return "\n".join(lines)
