"""The window's small dialogs: confirm Disconnect, Kit's install question, About, Help."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from kit_desktop import __version__
from kit_desktop.ui.info_dialog import InfoDialog
from kit_desktop.ui.menus import SHORTCUT_CONNECT

_CONTEXT = "dialogs"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def _ask(
    parent: QWidget,
    question: str,
    explanation: str,
    icon: QMessageBox.Icon,
    act: tuple[str, str],
    keep: tuple[str, str],
) -> tuple[QMessageBox, QAbstractButton]:
    """Open (without blocking) a plain-text question whose safe answer is the default.

    Args:
        parent: The window.
        question: The title and the question.
        explanation: What acting does, in the creator's words.
        icon: The box's icon.
        act: The acting button's label and its screen-reader description.
        keep: The safe button's label and description: the default, and Esc's choice.

    Returns:
        The box and its acting button (only a click on it acts).
    """
    box = QMessageBox(parent)
    box.setWindowTitle(question)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setIcon(icon)
    box.setText(question)
    box.setInformativeText(explanation)
    buttons = []
    for (label, description), role in (
        (act, QMessageBox.ButtonRole.DestructiveRole),
        (keep, QMessageBox.ButtonRole.RejectRole),
    ):
        button = box.addButton(label, role)
        button.setAccessibleName(label)
        button.setAccessibleDescription(description)
        buttons.append(button)
    acting, safe = buttons
    box.setDefaultButton(safe)
    box.setEscapeButton(safe)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    safe.setFocus()
    return box, acting


def ask_disconnect(parent: QWidget) -> tuple[QMessageBox, QAbstractButton]:
    """Open (without blocking) the question before disconnecting.

    Returns the box and its "Disconnect" button: only a click on that button disconnects;
    "Cancel" (the default), Esc or closing the box leaves the connection as it is. The
    text is our own (no account name from the network), shown as plain text.
    """
    return _ask(
        parent,
        _tr("Disconnect from Kit?"),
        _tr(
            "Kit Desktop will forget the connection on this computer and ask Kit to end this "
            "app's access. Your Kit account itself is not changed, and you can connect again "
            "at any time."
        ),
        QMessageBox.Icon.Question,
        (
            _tr("Disconnect"),
            _tr("Forgets the connection on this computer and asks Kit to end this app's access."),
        ),
        (_tr("Cancel"), _tr("Keeps the connection as it is.")),
    )


def ask_quit_losing_connection(parent: QWidget) -> tuple[QMessageBox, QAbstractButton]:
    """Open (without blocking) the question before quitting with a connection kept in memory.

    Returns the box and its "Quit" button; "Keep open" is the default and Esc's choice.
    """
    return _ask(
        parent,
        _tr("Quit and lose the connection?"),
        _tr(
            "This computer's secure storage is not available, so your connection to Kit is "
            "kept only while Kit Desktop is open. If you quit now, you will need to connect "
            "again next time. To keep it, set up or unlock your system keyring, then click "
            "“Try again” on the storage warning before quitting."
        ),
        QMessageBox.Icon.Warning,
        (_tr("Quit"), _tr("Quits Kit Desktop; the connection is lost.")),
        (_tr("Keep open"), _tr("Keeps Kit Desktop open with the connection.")),
    )


def show_about(parent: QWidget) -> InfoDialog:
    """Open (without blocking) a small plain-text About box naming the version."""
    dialog = InfoDialog(
        _tr("About Kit Desktop"),
        _tr("Kit Desktop {version}").format(version=__version__),
        [
            _tr(
                "Connects your Kit (formerly ConvertKit) account to this computer. You sign "
                "in with Kit in your own browser; Kit Desktop never sees your password."
            )
        ],
        parent,
    )
    dialog.open()
    return dialog


def show_connect_help(parent: QWidget, *, practice: bool) -> InfoDialog:
    """Open (without blocking) the plain words on practice mode and on connecting a real account."""
    if practice:
        dialog = InfoDialog(
            _tr("Connecting your real Kit account"),
            _tr("Kit Desktop is in practice mode"),
            [
                _tr(
                    "In practice mode Kit Desktop connects to a built-in practice Kit with "
                    "sample data, not to Kit itself. Nothing you do here reaches your real "
                    "Kit account."
                ),
                _tr(
                    "It runs in practice mode because this copy of Kit Desktop has no Kit app "
                    "set up (or it was started with --sandbox, for practice)."
                ),
                _tr(
                    "To connect your real Kit account, you need a copy of Kit Desktop from a "
                    "publisher who has set up a Kit app for it (in Kit: Automate > Apps > "
                    "Build). Ask whoever gave you Kit Desktop for that copy."
                ),
                _tr(
                    "Publishing Kit Desktop yourself? The file docs/publishing.md in its source "
                    "explains the steps."
                ),
            ],
            parent,
        )
    else:
        dialog = InfoDialog(
            _tr("How connecting to Kit works"),
            _tr("How connecting to Kit works"),
            [
                _tr(
                    "Click Connect to Kit ({keys}). Kit opens in your browser: sign in to Kit "
                    "there if it asks, then click Allow. Kit Desktop never sees your password."
                ).format(keys=SHORTCUT_CONNECT.toString(QKeySequence.SequenceFormat.NativeText)),
                _tr(
                    "Kit Desktop keeps that access on this computer, in its secure storage when "
                    "it can, and renews it before it runs out unless you turn that off."
                ),
                _tr(
                    "Disconnect forgets the connection on this computer and asks Kit to end "
                    "this app's access. Your Kit account itself is not changed."
                ),
            ],
            parent,
        )
    dialog.open()
    return dialog


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
