"""Connection steps shared by the window and the command line (blocking; run them off the GUI)."""

from __future__ import annotations

import dataclasses
import hmac
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from kit_desktop.api.account import Account, fetch_account
from kit_desktop.auth.attempt import AuthorizationAttempt, PracticeKit, begin_attempt
from kit_desktop.auth.loopback import DEFAULT_TIMEOUT, LoopbackReceiver
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.errors import (
    KitError,
    NotConnectedError,
    ReconnectNeededError,
)
from kit_desktop.services import Services
from kit_desktop.status import StorageInfo

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """The outcome of a step: tokens, who is connected, storage, a non-fatal problem.

    After :meth:`Connection.keep`, ``replaced`` holds the tokens the new ones replaced,
    still to be revoked (:meth:`Connection.retire`).
    """

    tokens: TokenSet | None
    account: Account | None
    storage: StorageInfo
    problem: KitError | None = None
    replaced: tuple[TokenSet, ...] = ()


class Connection:
    """The blocking steps of connecting, restoring, renewing and disconnecting.

    Args:
        services: The core services.
        practice: Practice mode's in-process Kit, or None against a real server.
    """

    def __init__(self, services: Services, practice: PracticeKit | None = None) -> None:
        self.services = services
        self.practice = practice

    def storage(self) -> StorageInfo:
        """Where tokens are kept now (may query the keyring: call off the GUI thread)."""
        store = self.services.store
        warning = store.warning or self.services.tokens.warning
        return StorageInfo(
            store.location, store.is_secure, None if warning is None else warning.user_message
        )

    def load(self) -> Snapshot:
        """Restore saved tokens (renewing them silently) and ask Kit who is connected.

        Raises:
            ReconnectNeededError: The saved access no longer works.
        """
        if self.share_with_practice() is None:
            return Snapshot(None, None, self.storage())
        return self._with_account()

    def reread(self) -> Snapshot | None:
        """Read the saved connection again (another copy changed it); None if unchanged.

        Raises:
            ReconnectNeededError: The connection saved now no longer works.
        """
        tokens = self.services.tokens
        before = tokens.tokens
        after = tokens.reload()
        if after is None:
            return None if before is None else Snapshot(None, None, self.storage())
        if before is not None and _same(before, after):
            return None
        if self.practice is not None:
            self.practice.recognise(after)
        return self._with_account()

    def share_with_practice(self) -> TokenSet | None:
        """Load the saved tokens; in practice mode, make the new practice Kit recognise them."""
        tokens = self.services.tokens.tokens
        if tokens is not None and self.practice is not None:
            self.practice.recognise(tokens)
        return tokens

    def begin_attempt(
        self, *, timeout: float = DEFAULT_TIMEOUT, back_to: str | None = None
    ) -> tuple[LoopbackReceiver, AuthorizationAttempt]:
        """Bind the loopback receiver and make a new attempt: :func:`auth.attempt.begin_attempt`.

        Open the browser on ``receiver.start_url``, never on ``attempt.url`` (catalogue 70).
        """
        return begin_attempt(
            self.services.settings, self.practice, timeout=timeout, back_to=back_to
        )

    def exchange(self, code: str, attempt: AuthorizationAttempt) -> TokenSet:
        """Trade the code for tokens (nothing is stored yet)."""
        return self.services.oauth.exchange(code, attempt.verifier, attempt.redirect_uri)

    def keep(self, tokens: TokenSet) -> Snapshot:
        """Store freshly issued tokens, then ask Kit who is connected.

        The snapshot names the tokens these replace (:attr:`Snapshot.replaced`): once the
        caller has settled on the new connection, it revokes them with :meth:`retire`.
        """
        replaced = self.services.tokens.replace(tokens)
        try:
            snapshot = self._with_account()
        except KitError:  # Kit refused the new tokens at once: back to the saved connection
            self._revoke(tokens)
            if replaced:
                self.services.tokens.adopt(replaced[0])
            else:
                self.services.tokens.forget()
            raise
        return dataclasses.replace(snapshot, replaced=tuple(replaced))

    def retire(self, replaced: Sequence[TokenSet], kept: TokenSet | None) -> KitError | None:
        """Revoke tokens a new connection replaced (catalogue 76); return Kit's problem if any.

        Replaced tokens are revoked at Kit, not just forgotten: nothing on this computer could
        use or cancel them afterwards. A token value that the kept connection also holds
        (a server may hand out the same refresh token again) is never revoked.
        """
        keep = set() if kept is None else {kept.access_token, kept.refresh_token}
        problem: KitError | None = None
        for old in replaced:
            problem = self._revoke(old, spare=keep) or problem
        if problem is not None:
            _log.warning(
                "a replaced connection could not be revoked: %s",
                problem.detail or type(problem).__name__,
            )
        elif replaced:
            _log.info("revoked the tokens of the replaced connection")
        return problem

    def discard(self, tokens: TokenSet, restore: Sequence[TokenSet] = ()) -> KitError | None:
        """Revoke tokens that will not be kept (an attempt cancelled mid-exchange).

        If they were already stored (cancelled while saving), they give way to the saved
        connection they replaced (the first of ``restore``), or are forgotten, unless newer
        tokens have replaced them meanwhile.
        """
        problem = self._revoke(tokens)
        current = self.services.tokens.tokens
        if current is not None and _same(current, tokens):
            if restore:
                self.services.tokens.adopt(restore[0])
            else:
                self.services.tokens.forget()
        return problem

    def refresh(self) -> Snapshot:
        """Renew the access token now."""
        return Snapshot(self.services.tokens.refresh(), None, self.storage())

    def renew(self) -> Snapshot:
        """Renew the access token if it is due."""
        return Snapshot(self.services.tokens.valid_tokens(), None, self.storage())

    def disconnect(self) -> KitError | None:
        """Revoke at Kit, then forget locally whatever Kit said; return Kit's problem if any.

        The problem is a ``NetworkError`` when Kit could not be reached, else what Kit
        answered (``RevokeRefusedError``, ``TokenEndpointRedirectError``): the words for
        each are :func:`kit_desktop.words.revoke_problem`.
        """
        tokens = self.services.tokens.tokens
        problem = None if tokens is None else self._revoke(tokens)
        self.services.tokens.forget()
        return problem

    def retry_storage(self) -> StorageInfo:
        """Try the OS keyring again (after the creator unlocked it)."""
        self.services.store.retry()
        return self.storage()

    def _with_account(self) -> Snapshot:
        try:
            account = fetch_account(self.services.api)
        except (ReconnectNeededError, NotConnectedError):
            raise
        except KitError as exc:
            return Snapshot(self.services.tokens.tokens, None, self.storage(), exc)
        return Snapshot(self.services.tokens.tokens, account, self.storage())

    def _revoke(self, tokens: TokenSet, spare: Collection[str | None] = ()) -> KitError | None:
        problem: KitError | None = None
        pairs = (("refresh_token", tokens.refresh_token), ("access_token", tokens.access_token))
        for hint, token in pairs:
            if not token or token in spare:
                continue
            try:
                self.services.oauth.revoke(token, hint)
            except KitError as exc:
                problem = problem or exc
        return problem


def _same(one: TokenSet, other: TokenSet) -> bool:
    """Whether two token sets hold the same access token (compared in constant time)."""
    return hmac.compare_digest(one.access_token.encode(), other.access_token.encode())
