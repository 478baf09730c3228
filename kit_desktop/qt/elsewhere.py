"""What reaches the session from outside its card, on behalf of :class:`KitSession`.

- **Kit's App Store** opens the app's install entry (``qt/installs.py`` runs it); the
  entry asks the session to start an attempt that ends back on Kit's page (:func:`start`).
  Any web page can make a browser open that entry, so nothing is replaced on its say-so
  (catalogue 70, 71): then the creator is asked in the window, and :func:`answer` carries
  out what they chose.
- **A pasted answer** (the relay page's copy-the-code fallback) finishes the waiting
  attempt with every check the loopback makes (:func:`paste`).
- **Another copy of the app** (a second window, the command line) changed the saved
  connection: the window shows what is saved now (:func:`follow_store`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit_desktop import transitions as step
from kit_desktop import words
from kit_desktop.auth.install_entry import ASKING_CREATOR, InstallAnswer, InstallRefused
from kit_desktop.auth.paste import code_from_paste
from kit_desktop.connection import Snapshot
from kit_desktop.errors import AuthorizationError, ConsentDeniedError, KitError, PasteError
from kit_desktop.state import Phase

if TYPE_CHECKING:
    from kit_desktop.qt.session import KitSession


def start(session: KitSession, back_to: str, trusted: bool = True) -> InstallAnswer:
    """Kit's App Store asked to connect: start an attempt that ends back at ``back_to``.

    The browser is already on the app's install entry, so it is not opened again: the
    entry sends it to the returned authorization URL. A running attempt or a saved
    connection is never replaced without the creator, and nothing starts for a caller
    whose account cannot be told: then the creator is asked in the window
    (``session.install_question``) and :data:`ASKING_CREATOR` is returned; if they agree,
    the install goes on in a new browser tab (:func:`answer`).

    Args:
        session: The session to start the attempt in.
        back_to: Kit's app page, already checked against the allowed hosts.
        trusted: Whether the request is known to come from this account's browser
            (False where the platform cannot tell).

    Returns:
        The new attempt's authorization URL, :data:`ASKING_CREATOR`, or an
        :class:`InstallRefused` saying why nothing could start.
    """
    if session.renewer.disconnecting:
        return InstallRefused(words.INSTALL_WHILE_DISCONNECTING)
    view = session.view
    listening = session.attempts.listening
    idle = session._checked and view.phase is Phase.NOT_CONNECTED
    if not (trusted and idle and not listening and not view.holds_tokens):
        session._pending_install = back_to
        session.install_question.emit(
            words.install_question(
                attempt_running=listening or view.phase.attempt_running,
                holds_tokens=view.holds_tokens,
                account=view.account,
            )
        )
        return ASKING_CREATOR
    attempt = session._begin_attempt(back_to=back_to)
    if isinstance(attempt, KitError):
        return InstallRefused(attempt.user_message)
    session.attention_requested.emit()
    session._show(step.install_waiting(session.view, until=session.clock() + session.flow_timeout))
    return attempt.url


def answer(session: KitSession, agreed: bool) -> None:
    """The creator's answer to ``session.install_question``: go on with Kit's install, or not.

    Going on ends a running attempt (and drops a renewal's result), keeps the saved
    connection in use until the new one is kept (and revokes it then), and opens the
    browser on the install's attempt.
    """
    back_to, session._pending_install = session._pending_install, None
    if back_to is None or session.renewer.disconnecting:
        return
    if session.finisher.keeping:
        session.notice.emit(words.INSTALL_WHILE_SAVING)
        return
    if not agreed:
        session.notice.emit(words.INSTALL_NOT_STARTED)
        return
    if session.attempts.listening or session.view.phase.attempt_running:
        session._abandon_attempt()
    session.renewer.drop()  # a renewal in flight must not end the install's attempt
    session._resume_tokens = session._resume_tokens or session.view.holds_tokens
    if isinstance(session._begin_attempt(back_to=back_to), KitError):
        return
    session._show(step.opening(session.view))
    session.attempts.open_browser()


def paste(session: KitSession, text: str) -> None:
    """Finish the waiting attempt with an address or code the creator pasted."""
    attempt = session.attempts.attempt
    if attempt is None or session.view.phase is not Phase.WAITING:
        return
    try:
        response = code_from_paste(text, attempt.state, session.services.settings.issuer)
    except (ConsentDeniedError, AuthorizationError) as exc:
        session._abandon_attempt()
        session._on_attempt_ended(exc)
        return
    except PasteError as exc:
        session.paste_rejected.emit(exc.user_message)
        return
    session._on_loopback_received(response)
    session.attempts.cancel(answered=True)  # Kit's answer came by hand: no port needed


def follow_store(session: KitSession) -> None:
    """Another copy of the app changed the saved connection: show what is saved now.

    While this window is connecting, renewing, disconnecting or already reading the store,
    its own outcome comes first: the change is looked at as soon as it is settled
    (``session.follow_pending``, checked on every change of the card).
    """
    view = session.view
    busy = view.phase.attempt_running or view.refreshing or session.renewer.disconnecting
    if busy or view.phase not in FOLLOWING or session._rereading:
        session.follow_pending = True
        return
    session.follow_pending = False
    session._rereading = True
    session._workers.run(
        session.connection.reread,
        lambda result: _show_reread(session, result),
        lambda error: _reread_failed(session, error),
    )


#: The phases in which the window shows what another copy saved.
FOLLOWING = (Phase.CONNECTED, Phase.NOT_CONNECTED, Phase.RECONNECT_NEEDED, Phase.FAILED)


def _reread_failed(session: KitSession, error: KitError) -> None:
    session._rereading = False
    session._on_load_failed(error)


def _show_reread(session: KitSession, result: Snapshot | None) -> None:
    """Show what another copy saved (or that it disconnected); nothing if unchanged."""
    session._rereading = False
    view = session.view
    if result is None or view.phase.attempt_running or session.renewer.disconnecting:
        return
    session.attempt_changed.emit(None)  # Details' values belong to no connection shown now
    if result.tokens is None:
        session.accounts.forget()
        session._show(step.not_connected(view, words.DISCONNECTED_ELSEWHERE))
    else:
        session.notice.emit(words.CHANGED_ELSEWHERE)
        session._show_connected(result)
