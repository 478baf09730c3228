"""The session's transitions: pure, typed functions from one :class:`SessionView` to the next.

Each function is one step the connection card can take, named for what happened ("the
browser opened", "renewing failed"). The session (``qt/session.py``) picks the step; the
step sets every field that step owns, with its words from ``words.py``. Nothing here knows
about Qt, threads or time: tests call these directly.
"""

from __future__ import annotations

from dataclasses import replace

from kit_desktop import words
from kit_desktop.api.account import Account
from kit_desktop.auth.attempt import AuthorizationAttempt
from kit_desktop.auth.pkce import METHOD
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.errors import KitError
from kit_desktop.state import (
    AccountView,
    AttemptView,
    Phase,
    SessionView,
    StorageView,
    TokenView,
)

# --- looking for the saved connection ----------------------------------------------------


def checking(view: SessionView) -> SessionView:
    """Start-up: the saved connection is being looked for (the phase stays as it is)."""
    return replace(view, headline=words.CHECKING)


def rechecking(view: SessionView) -> SessionView:
    """An install that replaced a connection ended: the saved one is being loaded again."""
    return replace(
        view, phase=Phase.NOT_CONNECTED, headline=words.CHECKING, detail="", waiting_until=None
    )


def nothing_saved(view: SessionView, storage: StorageView) -> SessionView:
    """No connection is saved: say how to make one."""
    return replace(
        view,
        phase=Phase.NOT_CONNECTED,
        headline=words.HEADLINES[Phase.NOT_CONNECTED],
        detail=words.CONNECT_HINT,
        storage=storage,
        tokens=None,
        account=None,
    )


def with_storage(view: SessionView, storage: StorageView) -> SessionView:
    """Where tokens are kept changed (or became known); nothing else did."""
    return replace(view, storage=storage)


def with_auto_renew(view: SessionView, enabled: bool) -> SessionView:
    """The creator turned automatic renewal on or off."""
    return replace(view, auto_renew=enabled)


# --- an attempt: browser, Allow, the exchange --------------------------------------------


def opening(view: SessionView) -> SessionView:
    """The browser is being opened on Kit's consent page."""
    return replace(
        view,
        phase=Phase.OPENING,
        headline=words.HEADLINES[Phase.OPENING],
        detail="",
        refreshing=False,
    )


def checking_kit(view: SessionView) -> SessionView:
    """Connect was clicked: first, check that Kit's sign-in page is within reach."""
    return replace(opening(view), headline=words.CHECKING_KIT)


def waiting(view: SessionView, *, opened: bool, until: float) -> SessionView:
    """The browser opened (or could not be): wait for Allow until ``until``."""
    return replace(
        view,
        phase=Phase.WAITING,
        headline=words.HEADLINES[Phase.WAITING],
        detail=words.BROWSER_OPEN if opened else words.BROWSER_NOT_OPENED,
        waiting_until=until,
    )


def install_waiting(view: SessionView, *, until: float) -> SessionView:
    """Kit's App Store started an install; the browser is already on Kit's page."""
    return replace(
        view,
        phase=Phase.WAITING,
        headline=words.INSTALL_WAITING,
        detail=words.INSTALL_BROWSER_OPEN,
        waiting_until=until,
        refreshing=False,
    )


def finishing(view: SessionView) -> SessionView:
    """Kit's answer arrived: the code is being exchanged and the tokens kept."""
    return replace(
        view,
        phase=Phase.FINISHING,
        headline=words.HEADLINES[Phase.FINISHING],
        detail="",
        waiting_until=None,
    )


def not_connected(view: SessionView, detail: str = "", *, code: str = "") -> SessionView:
    """No connection: an attempt ended (``detail`` says why) or nothing is saved."""
    changed = replace(
        view,
        phase=Phase.NOT_CONNECTED,
        headline=words.HEADLINES[Phase.NOT_CONNECTED],
        detail=detail,
        waiting_until=None,
    )
    return replace(changed, last_error_code=code) if code else changed


# --- connected, renewing, disconnecting --------------------------------------------------


def connected(
    view: SessionView,
    *,
    tokens: TokenView | None,
    storage: StorageView,
    account: AccountView | None,
    problem: KitError | None = None,
) -> SessionView:
    """A connection was kept or restored; ``problem`` is a non-fatal note (say, no account)."""
    account = account or view.account
    return replace(
        view,
        phase=Phase.CONNECTED,
        headline=words.connected_headline(account),
        detail="" if problem is None else problem.user_message,
        account=account,
        storage=storage,
        tokens=tokens,
        waiting_until=None,
        refreshing=False,
        refresh_error="",
    )


def refresh_started(view: SessionView) -> SessionView:
    """The creator clicked Refresh: the button spins, the last refresh error goes."""
    return replace(view, refreshing=True, refresh_error="")


def renewing(view: SessionView) -> SessionView:
    """Automatic renewal started (access is about to expire)."""
    return replace(
        view, phase=Phase.RENEWING, headline=words.HEADLINES[Phase.RENEWING], refreshing=True
    )


def renewed(view: SessionView, tokens: TokenView | None, storage: StorageView) -> SessionView:
    """A refresh or renewal worked: new tokens, still connected."""
    return replace(
        view,
        phase=Phase.CONNECTED,
        headline=words.connected_headline(view.account),
        refreshing=False,
        refresh_error="",
        tokens=tokens,
        storage=storage,
    )


def renew_failed(view: SessionView, error: KitError) -> SessionView:
    """A refresh or renewal failed for now (Kit unreachable, say): still connected, say why."""
    return replace(
        view,
        phase=Phase.CONNECTED,
        headline=words.connected_headline(view.account),
        refreshing=False,
        refresh_error=error.user_message,
        last_error_code=type(error).__name__,
    )


def disconnecting(view: SessionView) -> SessionView:
    """Disconnect was clicked: revoking at Kit, then forgetting here."""
    return replace(view, detail=words.DISCONNECTING)


def disconnected(view: SessionView, problem: KitError | None) -> SessionView:
    """The connection is gone from this computer; ``problem`` is why Kit was not told."""
    return replace(
        view,
        phase=Phase.NOT_CONNECTED,
        headline=words.HEADLINES[Phase.NOT_CONNECTED],
        detail=words.revoke_outcome(
            problem, None if view.tokens is None else view.tokens.expires_at
        ),
        tokens=None,
        account=None,
        refreshing=False,
        refresh_error="",
    )


# --- trouble -----------------------------------------------------------------------------


def reconnect_needed(
    view: SessionView, error: KitError, remembered: AccountView | None = None
) -> SessionView:
    """Kit no longer accepts the saved access: the creator must connect again.

    The headline names the account (the one shown, else ``remembered`` from an earlier
    run), so a creator with several Kit accounts knows which one to reconnect.
    """
    account = view.account or remembered
    return replace(
        view,
        phase=Phase.RECONNECT_NEEDED,
        headline=words.reconnect_headline(account),
        account=account,
        detail=error.user_message,
        tokens=None,
        refreshing=False,
        refresh_error="",
        last_error_code=type(error).__name__,
    )


def failed(view: SessionView, error: KitError) -> SessionView:
    """Connecting failed: what happened and what to do, in ``error``'s words."""
    return replace(
        view,
        phase=Phase.FAILED,
        headline=words.failed_headline(error),
        detail=error.user_message,
        waiting_until=None,
        refreshing=False,
        last_error_code=type(error).__name__,
    )


# --- what the core hands over, as the card shows it --------------------------------------


def attempt_view(attempt: AuthorizationAttempt, *, preview: bool = False) -> AttemptView:
    """One attempt's PKCE values for the Details section (``preview``: an example set)."""
    return AttemptView(
        attempt.verifier,
        attempt.challenge,
        METHOD,
        attempt.state,
        attempt.redirect_uri,
        attempt.url,
        preview,
    )


def token_view(tokens: TokenSet | None, last_renewed: float | None) -> TokenView | None:
    """The token panel's view of ``tokens`` (None when there are none)."""
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


def account_view(account: Account | None) -> AccountView | None:
    """Who is connected, as the card shows it."""
    return None if account is None else AccountView(account.name, account.email)
