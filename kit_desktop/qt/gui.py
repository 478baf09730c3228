"""Start the window: one instance, paint first, then the sandbox, services and session."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from kit_desktop import APP_NAME, __version__
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.config import Settings
from kit_desktop.qt.single_instance import SingleInstance
from kit_desktop.ui.main_window import MainWindow

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from kit_desktop.qt.api_requests import ApiRequests
    from kit_desktop.qt.session import KitSession
    from kit_desktop.sandbox import SandboxServer
    from kit_desktop.ui.api_panel import ApiPanel

log = logging.getLogger(__name__)


class GuiApp(QObject):
    """Owns the window, the session and (in practice mode) the sandbox; wires them once.

    Args:
        settings: The configured Kit app.
        practice: Start the built-in sandbox and use it.
        opener: Opens the system browser.
        backend: The keyring backend (default: the system's).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        practice: bool,
        opener: BrowserOpener = open_system_browser,
        backend: KeyringBackend | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.practice = practice
        self.opener = opener
        self.backend = backend
        self.window = MainWindow()
        self.session: KitSession | None = None
        self.api: ApiRequests | None = None
        self.sandbox: SandboxServer | None = None

    def show(self) -> None:
        """Show the window now; build the services right after the first paint."""
        self.window.show()
        QTimer.singleShot(0, self._build)

    @Slot()
    def _build(self) -> None:
        from kit_desktop.qt.api_requests import ApiRequests
        from kit_desktop.qt.session import KitSession
        from kit_desktop.sandbox import SandboxServer
        from kit_desktop.services import build_services

        settings = self.settings
        sandbox: SandboxServer | None = None
        if self.practice:
            sandbox = SandboxServer(loopback_any_port=True).start()
            settings = settings.with_sandbox(sandbox.base_url)
            self.sandbox = sandbox
        services = build_services(settings, backend=self.backend)
        session = KitSession(
            services,
            practice=self.practice,
            sandbox=sandbox,
            opener=self.opener,
            parent=self,
        )
        self.session = session
        window = self.window
        window.connect_requested.connect(session.connect_to_kit)
        window.cancel_requested.connect(session.cancel)
        window.disconnect_requested.connect(session.disconnect_account)
        window.reopen_requested.connect(session.reopen_browser)
        window.refresh_requested.connect(session.refresh_now)
        window.auto_renew_toggled.connect(session.set_auto_renew)
        window.generate_requested.connect(session.generate_values)
        window.retry_storage_requested.connect(session.retry_storage)
        window.diagnostics_requested.connect(self._on_window_diagnostics_requested)
        window.closing.connect(self._on_window_closing)
        session.changed.connect(window.show_view)
        session.attempt_changed.connect(window.show_attempt)
        session.attention_requested.connect(window.bring_to_front)
        session.notice.connect(window.show_notice)
        self.api = ApiRequests(services.api, parent=self)
        wire_api(window.api_panel, self.api)
        self.api.reconnect_needed.connect(session.report_reconnect_needed)
        window.show_view(session.view)
        session.start()

    @Slot()
    def _on_window_diagnostics_requested(self) -> None:
        if self.session is not None:
            QGuiApplication.clipboard().setText(self.session.diagnostics())
            self.window.show_notice(self.tr("Diagnostics copied. Paste them into your message."))

    @Slot()
    def _on_window_closing(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the session's threads, API requests and the sandbox (idempotent)."""
        api, self.api = self.api, None
        if api is not None:
            api.shutdown()
        session, self.session = self.session, None
        if session is not None:
            session.shutdown()
        sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            sandbox.stop()


def wire_api(panel: ApiPanel, api: ApiRequests) -> None:
    """Connect the API requests page to its controller (the one place they meet)."""
    panel.set_endpoints(api.endpoints(), api.presets())
    panel.show_meter(0, api.limit)
    panel.send_requested.connect(api.send)
    panel.cancel_requested.connect(api.cancel)
    panel.curl_requested.connect(api.copy_as_curl)
    panel.save_requested.connect(api.save_body)
    api.started.connect(panel.show_started)
    api.finished.connect(panel.show_result)
    api.failed.connect(panel.show_error)
    api.cancelled.connect(panel.show_cancelled)
    api.rate_limited.connect(panel.show_rate_limited)
    api.meter_changed.connect(panel.show_meter)
    api.history_changed.connect(panel.show_history)
    api.curl_ready.connect(panel.show_curl)
    api.notice.connect(panel.show_notice)


def _excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """Log an unexpected error and tell the creator plainly, with a way to get help."""
    log.critical("unexpected error", exc_info=(kind, error, tb))
    if QApplication.instance() is None:
        return
    box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, "")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        "Something unexpected went wrong. Your saved connection is safe. "
        "If it keeps happening, use Help > Copy diagnostics and send them to the publisher."
    )
    box.exec()


def run_gui(settings: Settings, *, practice: bool) -> int:
    """Run the window until it is closed; return the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    instance = SingleInstance()
    if not instance.claim():
        return 0
    sys.excepthook = _excepthook
    gui = GuiApp(settings, practice=practice)
    instance.activated.connect(gui.window.bring_to_front)
    gui.show()
    try:
        return app.exec()
    finally:
        gui.shutdown()
        instance.release()
