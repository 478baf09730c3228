"""KitSession: the one connection state machine the widgets talk to.

How to read it: the *intents* (``start``, ``connect_to_kit``, ``cancel``…) are what the
window asks for; each starts blocking work in :class:`Workers` or the loopback thread and
returns at once. The *results* (``_on_*``) arrive later on the GUI thread and pick the next
step. Every change the card sees goes through :meth:`KitSession._show` with a named, pure
transition from ``kit_desktop/transitions.py``, whose words live in ``kit_desktop/words.py``.
When access is renewed is decided by :class:`RenewalSchedule`. The whole flow, with its
thread hops, is drawn in ``docs/architecture.md``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal, Slot

from kit_desktop import transitions as step
from kit_desktop import words
from kit_desktop.auth.attempt import AuthorizationAttempt, PracticeKit
from kit_desktop.auth.browser import BrowserOpener, open_system_browser
from kit_desktop.auth.install_entry import InstallAnswer
from kit_desktop.auth.loopback import AuthorizationResponse
from kit_desktop.auth.token_store import profile_key
from kit_desktop.connection import Connection, Snapshot
from kit_desktop.errors import (
    ConsentDeniedError,
    FlowCancelledError,
    FlowTimeoutError,
    KitError,
    NotConnectedError,
    ReconnectNeededError,
    RelayPageMissingError,
    as_kit_error,
)
from kit_desktop.qt import elsewhere
from kit_desktop.qt.account_memory import AccountMemory
from kit_desktop.qt.attempt_runner import AttemptRunner
from kit_desktop.qt.diagnostics import diagnostics_text
from kit_desktop.qt.finisher import Finisher
from kit_desktop.qt.renewal import RenewalSchedule
from kit_desktop.qt.renewer import Renewer
from kit_desktop.qt.store_watch import StoreWatch
from kit_desktop.qt.workers import Workers
from kit_desktop.reach import check_reachable
from kit_desktop.services import Services
from kit_desktop.state import Phase, SessionView, StorageView

log = logging.getLogger(__name__)

FLOW_TIMEOUT = 300.0


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
        sandbox: Practice mode's in-process Kit (the sandbox server), if any.
        opener: Opens the system browser (tests pass their own).
        settings_store: Where the auto-renew choice is kept.
        clock: Wall-clock time.
        flow_timeout: Seconds to wait for the browser.
        reach: Raises ``KitUnreachableError`` when Kit's sign-in page cannot be reached
            (:func:`kit_desktop.reach.check_reachable`; called off the GUI thread).
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
        sandbox: PracticeKit | None = None,
        opener: BrowserOpener = open_system_browser,
        settings_store: QSettings | None = None,
        clock: Callable[[], float] = time.time,
        flow_timeout: float = FLOW_TIMEOUT,
        reach: Callable[[str], None] = check_reachable,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.connection = Connection(services, sandbox)
        self.clock = clock
        self.flow_timeout = flow_timeout
        self.reach = reach
        self._view = SessionView(practice=practice)
        self._resume_tokens = False  # an install replaced a connection; reload it if it fails
        self._pending_install: str | None = None  # Kit's page, while the creator is asked
        self._checked = False  # the saved connection was looked for
        self._reload_after_discard = False  # show the saved connection once those are undone
        self._reach_ticket = 0  # which "can Kit be reached?" check counts (Cancel drops it)
        self.follow_pending = False  # another copy changed the saved connection while busy
        self._rereading = False  # the store is being read again for another copy's change
        self._workers = Workers(self)
        self.attempts = AttemptRunner(self.connection, opener, self._workers, parent=self)
        self.attempts.received.connect(self._on_loopback_received)
        self.attempts.failed.connect(self._on_loopback_failed)
        self.attempts.browser_opened.connect(self._on_browser_opened)
        self.finisher = Finisher(self.connection, self._workers, parent=self)
        self.finisher.kept.connect(self._on_kept)
        self.finisher.failed.connect(self._on_finish_failed)
        self.finisher.undone.connect(self._on_undone)
        self.renewer = Renewer(self.connection, self._workers, parent=self)
        self.renewer.renewed.connect(self._on_refreshed)
        self.renewer.renew_failed.connect(self._on_refresh_failed)
        self.renewer.disconnected.connect(self._on_disconnected)
        self.renewer.disconnect_failed.connect(self._fail)
        settings_store = settings_store or QSettings()
        self.renewal = RenewalSchedule(
            clock,
            lambda: self._view,
            lambda: self.renewer.disconnecting,
            settings_store,
            parent=self,
        )
        profile = profile_key(services.settings.token_url, services.oauth.client_id)
        self.accounts = AccountMemory(settings_store, profile)
        self.renewal.due.connect(self._renew)
        self._view = step.with_auto_renew(self._view, self.renewal.remembered())
        changes = services.tokens.changes
        self.store_watch = None if changes is None else StoreWatch(changes, parent=self)
        if self.store_watch is not None:
            self.store_watch.changed.connect(self.follow_store)

    # --- what widgets read ------------------------------------------------------------

    @property
    def view(self) -> SessionView:
        """The current snapshot."""
        return self._view

    @property
    def opener(self) -> BrowserOpener:
        """What opens the system browser."""
        return self.attempts.opener

    @opener.setter
    def opener(self, opener: BrowserOpener) -> None:
        self.attempts.opener = opener

    @property
    def busy(self) -> bool:
        """Whether background work or a browser wait is under way."""
        return self._workers.busy or self.attempts.listening

    @property
    def disconnecting(self) -> bool:
        """Whether a disconnect (revoke, then forget) is under way."""
        return self.renewer.disconnecting

    def diagnostics(self) -> str:
        """Versions, OS, storage and recent error codes; never a secret."""
        return diagnostics_text(self.services.settings, self._view)

    # --- intents ----------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Restore a saved connection (renewing it silently), then keep it renewed."""
        self.renewal.start()
        self._show(step.checking(self._view))
        self._load()

    @Slot()
    def connect_to_kit(self) -> None:
        """Start a new attempt: check Kit can be reached, bind, open the browser, wait."""
        if self._view.phase.attempt_running or self._view.phase.has_tokens:
            return
        settings = self.services.settings
        if settings.relay_missing:  # nothing to check: the build cannot send anyone to Kit
            self._fail(RelayPageMissingError(detail=settings.route_summary))
            return
        self._reach_ticket += 1
        ticket = self._reach_ticket
        self._show(step.checking_kit(self._view))
        self._workers.run(
            functools.partial(self.reach, settings.authorize_url),
            lambda _none: self._on_kit_reached(ticket),
            lambda error: self._on_kit_unreached(ticket, error),
        )

    def start_install(self, back_to: str, trusted: bool = True) -> InstallAnswer:
        """Kit's App Store asked to connect: :func:`kit_desktop.qt.elsewhere.start`."""
        return elsewhere.start(self, back_to, trusted)

    @Slot(bool)
    def answer_install(self, agreed: bool) -> None:
        """The creator's answer to :attr:`install_question`: :func:`elsewhere.answer`."""
        elsewhere.answer(self, agreed)

    @Slot(str)
    def paste_response(self, text: str) -> None:
        """Finish the waiting attempt with what the creator pasted: :func:`elsewhere.paste`."""
        elsewhere.paste(self, text)

    @Slot()
    def reopen_browser(self) -> None:
        """Open the current attempt's page again."""
        if self.attempts.attempt is not None and self._view.phase is Phase.WAITING:
            self.attempts.open_browser()

    @Slot()
    def cancel(self) -> None:
        """Cancel the running attempt (also while the exchange is in flight).

        While the new tokens are being saved (a hanging keyring, say) the saved connection
        they replace may be gone from the store already: it comes back once the new tokens
        are undone (:meth:`_on_kept`), and only then is it shown again.
        """
        self.attempts.cancel()
        if self._view.phase is Phase.OPENING and not self.attempts.listening:
            self._reach_ticket += 1  # still checking that Kit can be reached: drop the answer
            self._show(step.not_connected(self._view, words.CANCELLED))
            return
        if self._view.phase is not Phase.FINISHING:
            return  # the loopback thread reports the cancel (_on_loopback_failed)
        keeping = self.finisher.cancel()
        self.attempts.end()
        if keeping and self._resume_tokens:
            self._resume_tokens = False
            self._reload_after_discard = True
            self.notice.emit(words.STILL_IN_USE.format(message=words.CANCELLED))
            self._show(step.rechecking(self._view))
        elif not self._resume_saved(FlowCancelledError()):
            self._show(step.not_connected(self._view, words.CANCELLED))

    @Slot()
    def refresh_now(self) -> None:
        """Renew the access token now."""
        view = self._view
        if not view.phase.has_tokens or view.refreshing or self.renewer.disconnecting:
            return
        self._show(step.refresh_started(view))
        self.renewer.refresh()

    @Slot()
    def disconnect_account(self) -> None:
        """Revoke at Kit, forget locally whatever Kit says, and say honestly what happened."""
        phase = self._view.phase
        if self.renewer.disconnecting or not (phase.has_tokens or phase is Phase.RECONNECT_NEEDED):
            return
        self._show(step.disconnecting(self._view))
        self.renewer.disconnect_account()

    @Slot(bool)
    def set_auto_renew(self, enabled: bool) -> None:
        """Turn automatic renewal on or off (remembered)."""
        self.renewal.remember(enabled)
        self._show(step.with_auto_renew(self._view, enabled))

    @Slot()
    def retry_storage(self) -> None:
        """Try the OS keyring again (after the creator unlocked it)."""
        self._workers.run(
            self.connection.retry_storage, self._on_storage_checked, self._on_load_failed
        )

    @Slot()
    def generate_values(self) -> None:
        """Show an example set of PKCE values, as the next attempt would make them.

        The redirect URI is the one the next attempt sends Kit: the relay page on Kit's
        road, else the first loopback address. Not while connecting or connected.
        """
        if self._view.phase.attempt_running or self._view.phase.has_tokens:
            return
        settings = self.services.settings
        uri = settings.relay_url if settings.uses_relay and settings.relay_url else None
        attempt = self.services.oauth.new_attempt(uri or settings.redirect_uris[0])
        self.attempt_changed.emit(step.attempt_view(attempt, preview=True))

    @Slot()
    def follow_store(self) -> None:
        """Another copy changed the saved connection: :func:`elsewhere.follow_store`."""
        elsewhere.follow_store(self)

    @Slot(object)
    def report_reconnect_needed(self, error: object) -> None:
        """Kit refused the saved access during an API request: show Reconnect needed."""
        if self._view.phase.has_tokens:
            self._show(step.reconnect_needed(self._view, as_kit_error(error)))

    def shutdown(self) -> None:
        """Stop the receiver thread and background work (window closing)."""
        self.renewal.stop()
        self.attempts.stop()
        self._workers.shutdown()

    # --- the attempt -------------------------------------------------------------------

    def _begin_attempt(self, back_to: str | None = None) -> AuthorizationAttempt | KitError:
        """Bind the receiver and start waiting; the error (also shown) if it can't."""
        self._reach_ticket += 1  # a reachability check still out no longer decides anything
        try:
            attempt = self.attempts.begin(timeout=self.flow_timeout, back_to=back_to)
        except KitError as exc:
            self._fail(exc)
            return exc
        self.attempt_changed.emit(step.attempt_view(attempt))
        return attempt

    def _abandon_attempt(self) -> None:
        """Drop the running attempt without a word (a new one replaces it)."""
        self.attempts.abandon()
        self.finisher.cancel()

    # --- results (GUI thread) ------------------------------------------------------------

    def _on_loaded(self, result: Snapshot) -> None:
        self._checked = True
        if self._view.phase.attempt_running:  # the creator clicked Connect meanwhile
            self._show(step.with_storage(self._view, result.storage))
        elif result.tokens is None and self._view.headline != words.CHECKING:
            # The creator acted meanwhile (Connect, then Cancel): keep what that said.
            self._show(step.with_storage(self._view, result.storage))
        elif result.tokens is None and self.services.settings.relay_missing:
            # A build for Kit without its relay page: say so now, not after a click.
            self._show(step.with_storage(self._view, result.storage))
            self._fail(RelayPageMissingError(detail=self.services.settings.route_summary))
        elif result.tokens is None:
            self._show(step.nothing_saved(self._view, result.storage))
        else:
            self._show_connected(result)

    def _on_load_failed(self, error: KitError) -> None:
        self._checked = True
        if self._view.phase.attempt_running:  # the running attempt decides what to show
            log.info("saved connection not restored: %s", error.detail or type(error).__name__)
            return
        self._fail(error)

    def _on_kit_reached(self, ticket: int) -> None:
        if ticket != self._reach_ticket or self._view.phase is not Phase.OPENING:
            return  # cancelled meanwhile
        if isinstance(self._begin_attempt(), KitError):
            return
        self.attempts.open_browser()

    def _on_kit_unreached(self, ticket: int, error: KitError) -> None:
        if ticket == self._reach_ticket and self._view.phase is Phase.OPENING:
            self._fail(error)

    def _on_browser_opened(self, opened: bool) -> None:
        if self._view.phase not in (Phase.OPENING, Phase.WAITING):
            return
        until = self._view.waiting_until or self.clock() + self.flow_timeout
        self._show(step.waiting(self._view, opened=opened, until=until))

    @Slot(object)
    def _on_loopback_received(self, response: object) -> None:
        attempt = self.attempts.attempt
        if not isinstance(response, AuthorizationResponse) or attempt is None:
            return
        self.attention_requested.emit()
        self._show(step.finishing(self._view))
        self.finisher.start(response.code, attempt)

    def _on_kept(self, result: Snapshot) -> None:
        who = None if result.account is None else result.account.who
        self.attempts.finish(True, words.done_page(who))  # always: the /done page waits on it
        self.attempts.end()
        self._resume_tokens = False
        self.renewal.policy.new_connection()
        self._show_connected(result)

    def _on_finish_failed(self, error: KitError) -> None:
        self.attempts.finish(False, error.user_message)
        self.attempts.end()
        if not self._resume_saved(error):
            self._fail(error)

    @Slot(object)
    def _on_loopback_failed(self, error: object) -> None:
        if self._view.phase in (Phase.OPENING, Phase.WAITING):
            self._on_attempt_ended(as_kit_error(error))

    def _on_attempt_ended(self, exc: KitError) -> None:
        """Show why the attempt ended; after an install, go back to the saved connection."""
        self.attempts.end()
        if not isinstance(exc, FlowCancelledError | FlowTimeoutError):  # the browser answered
            self.attention_requested.emit()  # (Deny, or an error): come forward, as for Allow
        if self._resume_saved(exc):
            return
        if isinstance(exc, FlowCancelledError | ConsentDeniedError):  # not failures
            self._show(
                step.not_connected(self._view, words.why_ended(exc), code=type(exc).__name__)
            )
        else:
            self._fail(exc)

    def _on_refreshed(self, result: Snapshot) -> None:
        policy = self.renewal.policy
        policy.succeeded(self.clock())
        tokens = step.token_view(result.tokens, policy.last_renewed)
        self._show(step.renewed(self._view, tokens, result.storage))

    def _on_refresh_failed(self, error: KitError) -> None:
        if isinstance(error, ReconnectNeededError | NotConnectedError):
            self._show(step.reconnect_needed(self._view, error))
        else:
            self.renewal.policy.failed(self.clock())
            self._show(step.renew_failed(self._view, error))

    def _on_disconnected(self, problem: KitError | None) -> None:
        self.accounts.forget()
        self._show(step.disconnected(self._view, problem))

    def _on_undone(self) -> None:
        if self._reload_after_discard:  # the saved connection is back in the store now
            self._reload_after_discard = False
            self._load()

    def _on_storage_checked(self, storage: StorageView) -> None:
        self._show(step.with_storage(self._view, storage))
        if storage.secure:
            self.notice.emit(words.SAVED_IN.format(location=storage.location))

    @Slot()
    def _renew(self) -> None:
        """The schedule says access expires soon: renew it in the background."""
        self._show(step.renewing(self._view))
        self.renewer.renew()

    def _load(self) -> None:
        self._workers.run(self.connection.load, self._on_loaded, self._on_load_failed)

    def _show_connected(self, result: Snapshot) -> None:
        account = step.account_view(result.account)
        if account is not None:
            self.accounts.remember(account)
        self._show(
            step.connected(
                self._view,
                tokens=step.token_view(result.tokens, self.renewal.policy.last_renewed),
                storage=result.storage,
                account=account,
                problem=result.problem,
            )
        )

    def _fail(self, exc: KitError) -> None:
        log.info("session error: %s", exc.detail or type(exc).__name__)
        if isinstance(exc, ReconnectNeededError):
            self._show(step.reconnect_needed(self._view, exc, self.accounts.recall()))
        elif isinstance(exc, NotConnectedError):
            self._show(step.not_connected(self._view))
        else:
            self._show(step.failed(self._view, exc))

    def _resume_saved(self, exc: KitError) -> bool:
        """After a failed install attempt that replaced a connection, show the saved one."""
        if not self._resume_tokens:
            return False
        self._resume_tokens = False
        self.notice.emit(words.STILL_IN_USE.format(message=words.why_ended(exc)))
        self.attempt_changed.emit(None)  # the ended attempt's values made no connection
        self._show(step.rechecking(self._view))
        self._load()
        return True

    def _show(self, view: SessionView) -> None:
        """The one way the card changes: keep ``view`` and tell the widgets.

        A change another copy made while this window was busy is looked at once it is not.
        """
        self._view = view
        self.changed.emit(view)
        if self.follow_pending:
            elsewhere.follow_store(self)
