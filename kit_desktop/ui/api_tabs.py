"""Tabs as the window uses them: flat, named for screen readers, every button described."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QToolButton, QWidget


def page_tabs(name: str, parent: QWidget | None = None) -> QTabWidget:
    """A document-mode tab widget called ``name``, whose tab bar never needs scroll buttons.

    Qt still creates the tab bar's scroll buttons; they get a description like every other
    control, so screen readers never meet an unexplained button.
    """
    tabs = QTabWidget(parent)
    tabs.setDocumentMode(True)
    tabs.setUsesScrollButtons(False)
    tabs.setAccessibleName(name)
    for button in tabs.tabBar().findChildren(QToolButton):
        if not button.accessibleName():
            button.setAccessibleName(tabs.tr("Scroll the tabs"))
        button.setAccessibleDescription(tabs.tr("Shows tabs that do not fit."))
    return tabs
