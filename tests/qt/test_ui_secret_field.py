"""SecretField: masked until revealed, copied on request, masked again for a new value."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from kit_desktop.ui.secret_field import SecretField

SECRET = "kit-access-token-5ecret-value"


def make(qtbot: QtBot, *, secret: bool = True) -> SecretField:
    field = SecretField("Access token", secret=secret)
    qtbot.addWidget(field)
    field.set_value(SECRET)
    return field


def test_masked_by_default(qtbot: QtBot) -> None:
    field = make(qtbot)
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Password
    assert field.line_edit.displayText() != SECRET
    assert SECRET not in field.line_edit.displayText()
    assert not field.revealed


def test_reveal_shows_and_hides(qtbot: QtBot) -> None:
    field = make(qtbot)
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Normal
    assert field.line_edit.displayText() == SECRET
    assert field.reveal_button.text() == "Hide"
    QTest.mouseClick(field.reveal_button, Qt.MouseButton.LeftButton)
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Password
    assert field.reveal_button.text() == "Show"


def test_a_new_value_is_masked_again(qtbot: QtBot) -> None:
    field = make(qtbot)
    field.reveal_button.click()
    field.set_value("another-secret")
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Password


def test_copy_puts_the_value_on_the_clipboard(qtbot: QtBot) -> None:
    field = make(qtbot)
    QGuiApplication.clipboard().clear()
    with qtbot.waitSignal(field.copied, timeout=1000) as blocker:
        QTest.mouseClick(field.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == SECRET
    assert blocker.args == ["Access token"]


def test_nothing_to_copy_when_empty(qtbot: QtBot) -> None:
    field = SecretField("Code verifier")
    qtbot.addWidget(field)
    assert not field.copy_button.isEnabled()
    assert not field.reveal_button.isEnabled()


def test_a_plain_value_has_no_reveal(qtbot: QtBot) -> None:
    field = make(qtbot, secret=False)
    assert field.reveal_button.isHidden()
    assert field.line_edit.echoMode() == QLineEdit.EchoMode.Normal
    assert field.line_edit.displayText() == SECRET


def test_buttons_have_accessible_names(qtbot: QtBot) -> None:
    field = make(qtbot)
    assert field.reveal_button.accessibleName() == "Show Access token"
    assert field.copy_button.accessibleName() == "Copy Access token"
    assert field.line_edit.accessibleName() == "Access token"
