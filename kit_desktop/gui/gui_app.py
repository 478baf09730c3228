"""The running app: the window's sections, the sandbox, services and session, wired once."""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from kit_desktop import APP_NAME
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.qt.first_paint import AfterFirstPaint
from kit_desktop.ui.main_window import MainWindow

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from kit_desktop.qt.api_requests import ApiRequests
    from kit_desktop.qt.checkup import ComputerCheck
    from kit_desktop.qt.installs import InstallListener
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
        sandbox_client_id: The practice app's client ID (its tokens are kept under it).
        window: An already shown window to build into (default: a new one).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        practice: bool,
        opener: BrowserOpener = open_system_browser,
        backend: KeyringBackend | None = None,
        sandbox_client_id: str = SANDBOX_CLIENT_ID,
        window: MainWindow | None = None,
    ) -> None:
        super().__init__()
        self.sandbox_client_id = sandbox_client_id
        self.settings = settings
        self.practice = practice
        self.opener = opener
        self.backend = backend
        self.window = window if window is not None else MainWindow(deferred=True)
        self.session: KitSession | None = None
        self.api: ApiRequests | None = None
        self.sandbox: SandboxServer | None = None
        self.installs: InstallListener | None = None
        self.checkup: ComputerCheck | None = None
        self._built = False

    def show(self) -> None:
        """Show the window now; build the services right after its first paint.

        requests, keyring and the sandbox are imported only then, so the creator sees
        the window as early as a bare one. A window that never paints (minimised at
        start) still gets its services a second later.
        """
        AfterFirstPaint(self.window, self.build)
        self.window.show()

    @Slot()
    def build(self) -> None:
        """Build the window's sections, the sandbox, services and session (once)."""
        if self._built:
            return
        self._built = True
        self.window.build()
        from kit_desktop.qt.api_requests import ApiRequests
        from kit_desktop.qt.checkup import ComputerCheck
        from kit_desktop.qt.installs import start_install_listener
        from kit_desktop.qt.session import KitSession
        from kit_desktop.sandbox.practice import start_practice
        from kit_desktop.services import build_services

        settings = self.settings
        sandbox: SandboxServer | None = None
        if self.practice:
            sandbox, settings = start_practice(settings, self.sandbox_client_id)
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
        self.checkup = ComputerCheck(
            settings, practice=self.practice, backend=self.backend, parent=self
        )
        window.checkup_requested.connect(self.checkup.start)
        self.checkup.finished.connect(window.show_checkup)
        window.closing.connect(self._on_window_closing)
        session.changed.connect(window.show_view)
        session.attempt_changed.connect(window.show_attempt)
        session.attention_requested.connect(window.bring_to_front)
        session.notice.connect(window.show_notice)
        self.api = ApiRequests(services.api, parent=self)
        api = self.api
        window.api_panel_built.connect(lambda panel: wire_api(panel, api))
        if window.api_panel_ready:  # shown (or asked for) before the controller existed
            wire_api(window.api_panel, api)
        self.api.reconnect_needed.connect(session.report_reconnect_needed)
        window.paste_submitted.connect(session.paste_response)
        window.install_answered.connect(session.answer_install)
        session.install_question.connect(window.show_install_question)
        session.paste_rejected.connect(window.show_paste_error)
        self.installs = start_install_listener(
            settings.redirect_uris,
            session.start_install,
            app_hosts=settings.app_hosts,
            extra_origins=(sandbox.base_url,) if sandbox is not None else (),
            parent=self,
        )
        if sandbox is not None and self.installs is not None:
            sandbox.relay.note_app_port(self.installs.port, install=True)
            if not settings.uses_relay:
                sandbox.authorization_url = self.installs.url
            log.info("practice App Store: %s", sandbox.app_store_url)
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
        """Stop the install listener, check-up, session threads, API requests and sandbox.

        Idempotent.
        """
        installs, self.installs = self.installs, None
        if installs is not None:
            installs.stop()
        api, self.api = self.api, None
        if api is not None:
            api.shutdown()
        checkup, self.checkup = self.checkup, None
        if checkup is not None:
            checkup.shutdown()
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
    panel.export_requested.connect(api.export_all)
    panel.export_cancel_requested.connect(api.cancel_export)
    api.export_progressed.connect(panel.show_export_progress)
    api.export_finished.connect(panel.show_export_finished)


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


def finish_start(window: MainWindow, *, practice: bool) -> GuiApp | None:
    """Set up logging and settings, then build the app into the painted ``window``.

    Returns:
        The running app, or None when the settings are unusable (the creator was told).
    """
    from kit_desktop.config import load_settings
    from kit_desktop.errors import KitError
    from kit_desktop.log import level_from_environment, setup_logging

    setup_logging(level_from_environment())
    try:
        settings = load_settings()
    except KitError as exc:
        log.error("settings could not be loaded: %s", exc.detail)
        box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, "", parent=window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(exc.user_message)
        box.exec()
        return None
    sys.excepthook = _excepthook
    gui = GuiApp(settings, practice=practice or settings.practice_mode, window=window)
    gui.build()
    return gui
