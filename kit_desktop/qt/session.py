"""KitSession: the one connection state machine the widgets talk to."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal, Slot

from kit_desktop.api.account import Account
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.auth.install_entry import ASKING_CREATOR, InstallAnswer, InstallRefused
from kit_desktop.auth.loopback import AuthorizationResponse
from kit_desktop.auth.oauth import AuthorizationAttempt
from kit_desktop.auth.paste import code_from_paste
from kit_desktop.auth.pkce import METHOD
from kit_desktop.auth.tokenset import EXPIRY_MARGIN, TokenSet
from kit_desktop.connection import Connection, Snapshot
from kit_desktop.errors import (
    AuthorizationError,
    ConsentDeniedError,
    FlowCancelledError,
    KitError,
    NotConnectedError,
    PasteError,
    ReconnectNeededError,
    RelayPageMissingError,
)
from kit_desktop.qt.diagnostics import diagnostics_text
from kit_desktop.qt.loopback_thread import LoopbackThread
from kit_desktop.qt.workers import Task, Workers
from kit_desktop.sandbox import SandboxServer
from kit_desktop.services import Services
from kit_desktop.state import (
    AccountView,
    AttemptView,
    InstallQuestion,
    Phase,
    SessionView,
    StorageView,
    TokenView,
)

log = logging.getLogger(__name__)

FLOW_TIMEOUT = 300.0
RENEW_BACKOFF = (30.0, 60.0, 120.0, 300.0)
AUTO_RENEW_KEY = "session/auto_renew"
REPLACE_WAIT_MS = 5000


class KitSession(QObject):
    """Connects, restores, renews and disconnects; widgets only see :class:`SessionView`.

    Everything blocking (browser launch, keyring, token and API calls) runs in
    :class:`Workers`; the loopback receiver runs in a :class:`LoopbackThread`. All methods
    are called on the GUI thread.

    Signals:
        changed(object): A new :class:`SessionView`.
        attempt_changed(object): The current attempt's :class:`AttemptView`, or ``None``.
        attention_requested(): Kit's answer arrived: bring the window to the front.
        install_question(object): Kit asked to install, and the creator must agree first
            (an :class:`InstallQuestion`; answer with :meth:`answer_install`).
        notice(str): A short transient message for the status bar.
        paste_rejected(str): What was pasted is not Kit's answer; the reason, in words.

    Args:
        services: The core services (OAuth client, tokens, store, API).
        practice: Whether the built-in sandbox is in use.
        sandbox: The in-process sandbox in practice mode.
        opener: Opens the system browser (tests pass their own).
        settings_store: Where the auto-renew choice is kept.
        clock: Wall-clock time.
        flow_timeout: Seconds to wait for the browser.
    """

    changed = Signal(object)
    attempt_changed = Signal(object)
    attention_requested = Signal()
    install_question = Signal(object)
    notice = Signal(str)
    paste_rejected = Signal(str)

    def __init__(
        self,
        services: Services,
        *,
        practice: bool = False,
        sandbox: SandboxServer | None = None,
        opener: BrowserOpener = open_system_browser,
        settings_store: QSettings | None = None,
        clock: Callable[[], float] = time.time,
        flow_timeout: float = FLOW_TIMEOUT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.connection = Connection(services, sandbox)
        self.opener = opener
        self.clock = clock
        self.flow_timeout = flow_timeout
        self._qsettings = settings_store or QSettings()
        auto = self._qsettings.value(AUTO_RENEW_KEY, True, type=bool)
        self._view = SessionView(practice=practice, auto_renew=bool(auto))
        self._attempt: AuthorizationAttempt | None = None
        self._start_url = ""  # what the browser is opened on (never the authorization URL)
        self._thread: LoopbackThread | None = None
        self._exchange_task: Task | None = None
        self._refresh_task: Task | None = None
        self._disconnecting = False
        self._resume_tokens = False  # an install replaced a connection; reload it if it fails
        self._pending_install: str | None = None  # Kit's page, while the creator is asked
        self._checked = False  # the saved connection was looked for
        self._keeping = False  # new tokens are being saved (they may replace saved ones)
        self._reload_after_discard = False  # show the saved connection once those are undone
        self._last_renewed: float | None = None
        self._renew_failures = 0
        self._renew_not_before = 0.0
        self._workers = Workers(self)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick_timeout)

    # --- what widgets read ------------------------------------------------------------

    @property
    def view(self) -> SessionView:
        """The current snapshot."""
        return self._view

    @property
    def busy(self) -> bool:
        """Whether background work or a browser wait is under way."""
        return self._workers.busy or self._thread is not None

    @property
    def disconnecting(self) -> bool:
        """Whether a disconnect (revoke, then forget) is under way."""
        return self._disconnecting

    def diagnostics(self) -> str:
        """Versions, OS, storage and recent error codes; never a secret."""
        return diagnostics_text(self.services.settings, self._view)

    # --- intents ----------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Restore a saved connection (renewing it silently), then keep it renewed."""
        self._tick.start()
        self._set(headline=self.tr("Checking for a saved connection…"))
        self._workers.run(self.connection.load, self._on_loaded, self._on_load_failed)

    @Slot()
    def connect_to_kit(self) -> None:
        """Start a new attempt: bind the receiver, open the browser, wait for Allow."""
        if self._view.phase.attempt_running or self._view.phase.has_tokens:
            return
        attempt = self._begin_attempt()
        if isinstance(attempt, KitError):
            return
        self._set(phase=Phase.OPENING, headline=self.tr("Opening Kit in your browser…"), detail="")
        self._open_browser()

    def start_install(self, back_to: str, trusted: bool = True) -> InstallAnswer:
        """Kit's App Store asked to connect: start an attempt that ends back at ``back_to``.

        The browser is already on the app's install entry, so it is not opened again: the
        entry sends it to the returned authorization URL. Any web page can make a browser
        open that entry, so a running attempt or a saved connection is never replaced on
        its say-so, and nothing starts for a caller whose account cannot be told
        (catalogue 70, 71): then the creator is asked in the window
        (:attr:`install_question`) and :data:`ASKING_CREATOR` is returned; if they agree,
        the install goes on in a new browser tab (:meth:`answer_install`).

        Args:
            back_to: Kit's app page, already checked against the allowed hosts.
            trusted: Whether the request is known to come from this account's browser
                (False where the platform cannot tell).

        Returns:
            The new attempt's authorization URL, :data:`ASKING_CREATOR`, or an
            :class:`InstallRefused` saying why nothing could start.
        """
        if self._disconnecting:
            return InstallRefused(
                self.tr(
                    "Kit Desktop is disconnecting. Wait until it has finished, then go back to "
                    "Kit and click Install again."
                )
            )
        idle = self._checked and self._view.phase is Phase.NOT_CONNECTED
        if not (trusted and idle and self._thread is None and not self._holds_tokens()):
            self._pending_install = back_to
            self.install_question.emit(self._install_question())
            return ASKING_CREATOR
        attempt = self._begin_attempt(back_to=back_to)
        if isinstance(attempt, KitError):
            return InstallRefused(attempt.user_message)
        self.attention_requested.emit()
        self._set(
            phase=Phase.WAITING,
            headline=self.tr("Kit asked to connect this app"),
            detail=self.tr("Kit is open in your browser. Click Allow there to finish installing."),
            waiting_until=self.clock() + self.flow_timeout,
            refreshing=False,
        )
        return attempt.url

    @Slot(bool)
    def answer_install(self, agreed: bool) -> None:
        """The creator's answer to :attr:`install_question`: go on with Kit's install, or not.

        Going on ends a running attempt (and drops a renewal's result), keeps the saved
        connection in use until the new one is kept (and revokes it then), and opens the
        browser on the install's attempt.
        """
        back_to, self._pending_install = self._pending_install, None
        if back_to is None or self._disconnecting:
            return
        if self._keeping:
            self.notice.emit(
                self.tr(
                    "Kit Desktop was just saving a connection. Go back to Kit and click "
                    "Install again."
                )
            )
            return
        if not agreed:
            self.notice.emit(self.tr("Kit's install was not started. Nothing was changed."))
            return
        if self._thread is not None or self._view.phase.attempt_running:
            self._abandon_attempt()
        self._refresh_task = None  # a renewal in flight must not end the install's attempt
        self._resume_tokens = self._resume_tokens or self._holds_tokens()
        attempt = self._begin_attempt(back_to=back_to)
        if isinstance(attempt, KitError):
            return
        self._set(
            phase=Phase.OPENING,
            headline=self.tr("Opening Kit in your browser…"),
            detail="",
            refreshing=False,
        )
        self._open_browser()

    def _holds_tokens(self) -> bool:
        """Whether a connection is saved, working or not (the view shows none when broken)."""
        phase = self._view.phase
        return phase.has_tokens or phase is Phase.RECONNECT_NEEDED or self._view.tokens is not None

    def _install_question(self) -> InstallQuestion:
        account = self._view.account
        intro = self.tr("Kit asked to connect Kit Desktop (an install from Kit's App Store).")
        if self._thread is not None or self._view.phase.attempt_running:
            replaced = self.tr("the connection you started")
        elif self._holds_tokens():
            who = (account.email or account.name) if account is not None else ""
            replaced = (
                self.tr("your connection to %1").replace("%1", who)
                if who
                else self.tr("your current connection")
            )
        else:
            return InstallQuestion(
                intro
                + " "
                + self.tr(
                    "If you just clicked Install in Kit, choose “Continue”; otherwise choose "
                    "“Cancel”."
                ),
                self.tr("Continue"),
                self.tr("Cancel"),
            )
        return InstallQuestion(
            intro
            + " "
            + self.tr(
                "Choosing “Replace connection” replaces %1. If you did not just click Install "
                "in Kit, choose “Keep current connection”."
            ).replace("%1", replaced),
            self.tr("Replace connection"),
            self.tr("Keep current connection"),
        )

    @Slot(str)
    def paste_response(self, text: str) -> None:
        """Finish the waiting attempt with an address or code the creator pasted."""
        attempt = self._attempt
        if attempt is None or self._view.phase is not Phase.WAITING:
            return
        try:
            response = code_from_paste(text, attempt.state, self.services.settings.issuer)
        except (ConsentDeniedError, AuthorizationError) as exc:
            self._abandon_attempt()
            self._on_attempt_ended(exc)
            return
        except PasteError as exc:
            self.paste_rejected.emit(exc.user_message)
            return
        self._on_loopback_received(response)
        if self._thread is not None:
            self._thread.cancel()  # Kit's answer came by hand; the port is no longer needed

    def _begin_attempt(self, back_to: str | None = None) -> AuthorizationAttempt | KitError:
        try:
            receiver, attempt = self.connection.begin_attempt(
                timeout=self.flow_timeout, back_to=back_to
            )
        except KitError as exc:
            self._fail(exc)
            return exc
        self._attempt = attempt
        self._start_url = receiver.start_url
        self.attempt_changed.emit(_attempt_view(attempt))
        thread = LoopbackThread(receiver, self)
        thread.received.connect(self._on_loopback_received)
        thread.failed.connect(self._on_loopback_failed)
        thread.finished.connect(self._on_thread_finished)
        thread.finished.connect(thread.deleteLater)
        self._thread = thread
        thread.start()
        return attempt

    def _abandon_attempt(self) -> None:
        """Drop the running attempt without a word (a new one replaces it).

        The old receiver is stopped and its port freed before returning (it stops within a
        poll interval; the wait is capped at ``REPLACE_WAIT_MS``), so the new attempt can
        bind the same port.
        """
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.received.disconnect(self._on_loopback_received)
            thread.failed.disconnect(self._on_loopback_failed)
            if not thread.stop(REPLACE_WAIT_MS):
                log.warning("the previous attempt's listener did not stop in time")
        self._exchange_task = None
        self._end_attempt()

    @Slot()
    def reopen_browser(self) -> None:
        """Open the current attempt's page again."""
        if self._attempt is not None and self._view.phase is Phase.WAITING:
            self._open_browser()

    def _open_browser(self) -> None:
        """Open the browser on the receiver's start link (off the GUI thread).

        The start link answers with the authorization URL, so that URL never appears on
        the browser's command line, which other accounts can read (catalogue 70).
        """
        if self._thread is not None:
            self._thread.expect_browser()
        self._workers.run(
            functools.partial(self.opener, self._start_url),
            self._on_browser_opened,
            self._on_browser_failed,
        )

    @Slot()
    def cancel(self) -> None:
        """Cancel the running attempt (also while the exchange is in flight).

        While the new tokens are being saved (a hanging keyring, say) the saved connection
        they replace may be gone from the store already: it comes back once the new tokens
        are undone (:meth:`_on_kept`), and only then is it shown again.
        """
        if self._thread is not None:
            self._thread.cancel()
        if self._view.phase is Phase.FINISHING:
            keeping, self._keeping = self._keeping, False
            self._exchange_task = None
            self._end_attempt()
            if keeping and self._resume_tokens:
                self._resume_tokens = False
                self._reload_after_discard = True
                self.notice.emit(
                    self.tr("Connecting was cancelled. Your saved connection is still in use.")
                )
                self._set(
                    phase=Phase.NOT_CONNECTED,
                    headline=self.tr("Checking for a saved connection…"),
                    detail="",
                    waiting_until=None,
                )
                return
            if self._resume_saved(FlowCancelledError()):
                return
            self._set(
                phase=Phase.NOT_CONNECTED,
                headline=self.tr("Not connected"),
                detail=self.tr("Connecting was cancelled."),
            )

    @Slot()
    def refresh_now(self) -> None:
        """Renew the access token now."""
        if not self._view.phase.has_tokens or self._view.refreshing or self._disconnecting:
            return
        self._set(refreshing=True, refresh_error="")
        self._refresh_task = self._workers.run(
            self.connection.refresh, self._on_refreshed, self._on_refresh_failed
        )

    @Slot()
    def disconnect_account(self) -> None:
        """Revoke at Kit, forget locally whatever Kit says, and say honestly what happened."""
        if self._disconnecting or (
            not self._view.phase.has_tokens and self._view.phase is not Phase.RECONNECT_NEEDED
        ):
            return
        self._disconnecting = True
        self._set(detail=self.tr("Disconnecting…"))
        if self._refresh_task is None:
            self._start_disconnect()
        # else: a renewal is in flight; revoke after it, so its new tokens are revoked too

    @Slot(bool)
    def set_auto_renew(self, enabled: bool) -> None:
        """Turn automatic renewal on or off (remembered)."""
        self._qsettings.setValue(AUTO_RENEW_KEY, enabled)
        self._qsettings.sync()
        self._set(auto_renew=enabled)

    @Slot()
    def retry_storage(self) -> None:
        """Try the OS keyring again (after the creator unlocked it)."""
        self._workers.run(
            self.connection.retry_storage, self._on_storage_checked, self._on_load_failed
        )

    @Slot()
    def generate_values(self) -> None:
        """Show fresh PKCE values (a preview; every attempt makes its own)."""
        if self._view.phase.attempt_running:
            return
        uri = self.services.settings.redirect_uris[0]
        self.attempt_changed.emit(_attempt_view(self.services.oauth.new_attempt(uri)))

    @Slot(object)
    def report_reconnect_needed(self, error: object) -> None:
        """Kit refused the saved access during an API request: show Reconnect needed."""
        if self._view.phase.has_tokens:
            self._reconnect_needed(_kit_error(error))

    def shutdown(self) -> None:
        """Stop the receiver thread and background work (window closing)."""
        self._tick.stop()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
        self._attempt = None
        self._workers.shutdown()

    # --- results (GUI thread) ------------------------------------------------------------

    @Slot(object)
    def _on_loaded(self, result: object) -> None:
        if not isinstance(result, Snapshot):
            return
        self._checked = True
        if self._view.phase.attempt_running:  # the creator clicked Connect meanwhile
            self._set(storage=result.storage)
            return
        if result.tokens is None and self.services.settings.relay_missing:
            # A build for Kit without its relay page: say so now, not after a click.
            self._set(storage=result.storage)
            self._fail(RelayPageMissingError(detail=self.services.settings.route_summary))
            return
        if result.tokens is None:
            self._set(
                phase=Phase.NOT_CONNECTED,
                headline=self.tr("Not connected"),
                detail=self.tr(
                    "Click “Connect to Kit”. Kit opens in your browser; sign in if asked, "
                    "click Allow, and come back here."
                ),
                storage=result.storage,
                tokens=None,
                account=None,
            )
            return
        self._show_connected(result)

    @Slot(object)
    def _on_load_failed(self, error: object) -> None:
        self._checked = True
        exc = _kit_error(error)
        if self._view.phase.attempt_running:  # the running attempt decides what to show
            log.info("saved connection not restored: %s", exc.detail or type(exc).__name__)
            return
        self._fail(exc)

    @Slot(object)
    def _on_browser_opened(self, opened: object) -> None:
        if self._view.phase not in (Phase.OPENING, Phase.WAITING):
            return
        detail = (
            self.tr("Kit is open in your browser. Click Allow there, then come back here.")
            if opened
            else self.tr(
                "Your browser could not be opened. Click “Copy link” and open the link in "
                "your browser."
            )
        )
        until = self._view.waiting_until or self.clock() + self.flow_timeout
        self._set(
            phase=Phase.WAITING,
            headline=self.tr("Waiting for you to click Allow in Kit"),
            detail=detail,
            waiting_until=until,
        )

    @Slot(object)
    def _on_browser_failed(self, error: object) -> None:
        self._on_browser_opened(False)

    @Slot(object)
    def _on_loopback_received(self, response: object) -> None:
        attempt = self._attempt
        if not isinstance(response, AuthorizationResponse) or attempt is None:
            return
        self.attention_requested.emit()
        self._set(
            phase=Phase.FINISHING, headline=self.tr("Finishing…"), detail="", waiting_until=None
        )
        self._exchange_task = self._workers.run(
            functools.partial(self.connection.exchange, response.code, attempt),
            self._on_exchanged,
            self._on_finish_failed,
        )

    @Slot(object)
    def _on_exchanged(self, tokens: object) -> None:
        if not isinstance(tokens, TokenSet):
            return
        if self._workers.current_task is not self._exchange_task:
            log.info("an exchange finished after cancel; revoking its tokens")
            self._discard(tokens)
            return
        self._keeping = True
        self._exchange_task = self._workers.run(
            functools.partial(self.connection.keep, tokens), self._on_kept, self._on_finish_failed
        )

    @Slot(object)
    def _on_kept(self, result: object) -> None:
        if not isinstance(result, Snapshot):
            return
        if self._workers.current_task is not self._exchange_task:
            if result.tokens is not None:
                log.info("tokens were saved after cancel; revoking them")
                self._discard(result.tokens, result.replaced)
            return
        self._exchange_task = None
        self._keeping = False
        if result.replaced:  # revoked only now that the new connection is settled (case 76)
            self._workers.run(
                functools.partial(self.connection.retire, result.replaced, result.tokens),
                self._on_retired,
                self._on_retired,
            )
        if self._thread is not None:  # always: the browser's /done page waits for this
            self._thread.finish(
                True,
                self.tr("Connected to Kit.")
                if result.account is None
                else self.tr("Connected as %1.").replace("%1", result.account.who),
            )
        self._end_attempt()
        self._resume_tokens = False
        self._last_renewed = None
        self._show_connected(result)

    @Slot(object)
    def _on_finish_failed(self, error: object) -> None:
        if self._workers.current_task is not self._exchange_task:
            return
        self._exchange_task = None
        self._keeping = False  # a failed save leaves the saved connection in place
        exc = _kit_error(error)
        if self._thread is not None:
            self._thread.finish(False, exc.user_message)
        self._end_attempt()
        if not self._resume_saved(exc):
            self._fail(exc)

    @Slot(object)
    def _on_loopback_failed(self, error: object) -> None:
        if self._view.phase not in (Phase.OPENING, Phase.WAITING):
            return
        self._on_attempt_ended(_kit_error(error))

    def _on_attempt_ended(self, exc: KitError) -> None:
        """Show why the attempt ended; after an install, go back to the saved connection."""
        self._end_attempt()
        if self._resume_saved(exc):
            return
        if isinstance(exc, FlowCancelledError | ConsentDeniedError):
            detail = (
                self.tr("Connecting was cancelled.")
                if isinstance(exc, FlowCancelledError)
                else exc.user_message
            )
            self._set(
                phase=Phase.NOT_CONNECTED,
                headline=self.tr("Not connected"),
                detail=detail,
                waiting_until=None,
                last_error_code=type(exc).__name__,
            )
            return
        self._fail(exc)

    @Slot(object)
    def _on_refreshed(self, result: object) -> None:
        if self._workers.current_task is not self._refresh_task or not isinstance(result, Snapshot):
            return
        self._refresh_task = None
        if self._disconnecting:
            self._start_disconnect()
            return
        self._last_renewed = self.clock()
        self._renew_failures = 0
        self._set(
            phase=Phase.CONNECTED,
            headline=self._connected_headline(self._view.account),
            refreshing=False,
            refresh_error="",
            tokens=_token_view(result.tokens, self._last_renewed),
            storage=result.storage,
        )

    @Slot(object)
    def _on_refresh_failed(self, error: object) -> None:
        if self._workers.current_task is not self._refresh_task:
            return
        self._refresh_task = None
        if self._disconnecting:
            self._start_disconnect()
            return
        exc = _kit_error(error)
        if isinstance(exc, ReconnectNeededError | NotConnectedError):
            self._reconnect_needed(exc)
            return
        self._renew_not_before = (
            self.clock() + RENEW_BACKOFF[min(self._renew_failures, len(RENEW_BACKOFF) - 1)]
        )
        self._renew_failures += 1
        self._set(
            phase=Phase.CONNECTED,
            headline=self._connected_headline(self._view.account),
            refreshing=False,
            refresh_error=exc.user_message,
            last_error_code=type(exc).__name__,
        )

    @Slot(object)
    def _on_disconnected(self, problem: object) -> None:
        self._disconnecting = False
        detail = self.tr("Kit cancelled this app's access, and it was removed from this computer.")
        if isinstance(problem, KitError):
            detail = self.tr(
                "Removed from this computer. Kit could not be reached to cancel the access, so "
                "it may keep working until it expires. %1"
            ).replace("%1", problem.user_message)
        self._set(
            phase=Phase.NOT_CONNECTED,
            headline=self.tr("Not connected"),
            detail=detail,
            tokens=None,
            account=None,
            refreshing=False,
            refresh_error="",
        )

    @Slot(object)
    def _on_disconnect_failed(self, error: object) -> None:
        self._disconnecting = False
        self._fail(_kit_error(error))

    @Slot(object)
    def _on_retired(self, outcome: object) -> None:
        if isinstance(outcome, Exception) and not isinstance(outcome, KitError):
            log.warning("revoking the replaced connection failed (%s)", type(outcome).__name__)

    @Slot(object)
    def _on_discarded(self, outcome: object) -> None:
        if isinstance(outcome, KitError):
            log.info("tokens not revoked: %s", outcome.detail or type(outcome).__name__)
        if self._reload_after_discard:  # the saved connection is back in the store now
            self._reload_after_discard = False
            self._workers.run(self.connection.load, self._on_loaded, self._on_load_failed)

    @Slot(object)
    def _on_storage_checked(self, storage: object) -> None:
        if isinstance(storage, StorageView):
            self._set(storage=storage)
            if storage.secure:
                self.notice.emit(self.tr("Saved securely in %1.").replace("%1", storage.location))

    @Slot()
    def _on_tick_timeout(self) -> None:
        view = self._view
        tokens = view.tokens if view.phase is Phase.CONNECTED else None
        now = self.clock()
        if (
            tokens is None
            or tokens.expires_at is None
            or not view.auto_renew
            or view.refreshing
            or self._disconnecting
            or now < self._renew_not_before
            or now < tokens.expires_at - EXPIRY_MARGIN
        ):
            return
        self._set(phase=Phase.RENEWING, headline=self.tr("Renewing access…"), refreshing=True)
        self._refresh_task = self._workers.run(
            self.connection.renew, self._on_refreshed, self._on_refresh_failed
        )

    @Slot()
    def _on_thread_finished(self) -> None:
        if self.sender() is self._thread:
            self._thread = None

    # --- helpers ---------------------------------------------------------------------------

    def _show_connected(self, result: Snapshot) -> None:
        account = _account_view(result.account) or self._view.account
        detail = "" if result.problem is None else result.problem.user_message
        self._set(
            phase=Phase.CONNECTED,
            headline=self._connected_headline(account),
            detail=detail,
            account=account,
            storage=result.storage,
            tokens=_token_view(result.tokens, self._last_renewed),
            waiting_until=None,
            refreshing=False,
            refresh_error="",
        )

    def _connected_headline(self, account: AccountView | None) -> str:
        if account is None:
            return self.tr("Connected to Kit")
        who = (
            f"{account.name} ({account.email})"
            if account.name and account.email
            else (account.name or account.email)
        )
        return self.tr("Connected as %1").replace("%1", who)

    def _reconnect_needed(self, exc: KitError) -> None:
        self._set(
            phase=Phase.RECONNECT_NEEDED,
            headline=self.tr("Reconnect needed"),
            detail=exc.user_message,
            tokens=None,
            refreshing=False,
            refresh_error="",
            last_error_code=type(exc).__name__,
        )

    def _fail(self, exc: KitError) -> None:
        log.info("session error: %s", exc.detail or type(exc).__name__)
        if isinstance(exc, ReconnectNeededError):
            self._reconnect_needed(exc)
            return
        if isinstance(exc, NotConnectedError):
            self._set(phase=Phase.NOT_CONNECTED, headline=self.tr("Not connected"), detail="")
            return
        self._set(
            phase=Phase.FAILED,
            headline=self.tr("Kit Desktop can't connect to Kit yet")
            if isinstance(exc, RelayPageMissingError)
            else self.tr("Could not connect"),
            detail=exc.user_message,
            waiting_until=None,
            refreshing=False,
            last_error_code=type(exc).__name__,
        )

    def _start_disconnect(self) -> None:
        self._workers.run(
            self.connection.disconnect, self._on_disconnected, self._on_disconnect_failed
        )

    def _discard(self, tokens: TokenSet, restore: tuple[TokenSet, ...] = ()) -> None:
        self._workers.run(
            functools.partial(self.connection.discard, tokens, restore),
            self._on_discarded,
            self._on_discarded,
        )

    def _end_attempt(self) -> None:
        self._attempt = None

    def _resume_saved(self, exc: KitError) -> bool:
        """After a failed install attempt that replaced a connection, show the saved one."""
        if not self._resume_tokens:
            return False
        self._resume_tokens = False
        message = (
            self.tr("Connecting was cancelled.")
            if isinstance(exc, FlowCancelledError)
            else exc.user_message
        )
        self.notice.emit(
            self.tr("{message} Your saved connection is still in use.").format(message=message)
        )
        self._set(
            phase=Phase.NOT_CONNECTED,
            headline=self.tr("Checking for a saved connection…"),
            detail="",
            waiting_until=None,
        )
        self._workers.run(self.connection.load, self._on_loaded, self._on_load_failed)
        return True

    def _set(self, **changes: object) -> None:
        self._view = dataclasses.replace(self._view, **changes)  # type: ignore[arg-type]
        self.changed.emit(self._view)


def _kit_error(error: object) -> KitError:
    return error if isinstance(error, KitError) else KitError(detail=repr(type(error)))


def _attempt_view(attempt: AuthorizationAttempt) -> AttemptView:
    return AttemptView(
        attempt.verifier,
        attempt.challenge,
        METHOD,
        attempt.state,
        attempt.redirect_uri,
        attempt.url,
    )


def _token_view(tokens: TokenSet | None, last_renewed: float | None) -> TokenView | None:
    if tokens is None:
        return None
    return TokenView(
        tokens.access_token,
        tokens.token_type,
        tokens.scope,
        tokens.received_at,
        tokens.expires_at,
        last_renewed,
    )


def _account_view(account: Account | None) -> AccountView | None:
    return None if account is None else AccountView(account.name, account.email)
