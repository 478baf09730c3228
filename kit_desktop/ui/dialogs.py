"""The window's small dialogs: confirm Disconnect, Kit's install request, About; plain text."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from kit_desktop import __version__

_CONTEXT = "dialogs"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def confirm_disconnect(parent: QWidget) -> bool:
    """Ask before disconnecting; ``True`` only when the creator says Yes.

    The text is our own (no account name from the network), so the static
    ``QMessageBox.question`` cannot be tricked into rendering markup.
    """
    answer = QMessageBox.question(
        parent,
        _tr("Disconnect from Kit?"),
        _tr(
            "Kit Desktop will sign out of your Kit account and forget its access on this "
            "computer. You can connect again at any time."
        ),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_about(parent: QWidget) -> QMessageBox:
    """Open (without blocking) a small plain-text About box naming the version."""
    box = QMessageBox(parent)
    box.setWindowTitle(_tr("About Kit Desktop"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(_tr("Kit Desktop {version}").format(version=__version__))
    box.setInformativeText(
        _tr(
            "Connects your Kit (formerly ConvertKit) account to this computer. You sign in "
            "with Kit in your own browser; Kit Desktop never sees your password."
        )
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def ask_install(
    parent: QWidget, question: str, agree: str, refuse: str
) -> tuple[QMessageBox, QAbstractButton]:
    """Open (without blocking) the question before Kit's install goes on (catalogue 71).

    Returns the box and its ``agree`` button: only a click on that button lets the install
    go on; ``refuse`` (the default), Esc or closing the box leaves everything as it is.
    The text is the session's own words and the account's e-mail, shown as plain text.
    """
    box = QMessageBox(parent)
    box.setWindowTitle(_tr("Kit asked to connect"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(question)
    accept = box.addButton(agree, QMessageBox.ButtonRole.AcceptRole)
    reject = box.addButton(refuse, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(reject)
    box.setEscapeButton(reject)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box, accept
