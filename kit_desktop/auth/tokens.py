"""TokenManager: a valid access token on demand, with single-flight refresh and safe storage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from kit_desktop.auth.change_stamp import ChangeStamp
from kit_desktop.auth.refresh_lock import ProcessLock
from kit_desktop.auth.token_store import TokenStore
from kit_desktop.auth.tokenset import EXPIRY_MARGIN, TokenSet
from kit_desktop.errors import (
    KitError,
    NotConnectedError,
    ReconnectNeededError,
    StorageError,
)
from kit_desktop.log import register_secret

__all__ = ["TokenManager", "TokenSet"]

log = logging.getLogger(__name__)


class Refresher(Protocol):
    """What the manager needs from the OAuth client."""

    def refresh(self, refresh_token: str) -> TokenSet:
        """Renew access with ``refresh_token``."""
        ...


class TokenManager:
    """Owns the current tokens: loads, saves, refreshes (one at a time) and forgets them.

    Args:
        client: Refreshes tokens (an :class:`~kit_desktop.auth.oauth.OAuthClient`).
        store: Where tokens are kept (keyring, or memory for this run).
        clock: Wall-clock time.
        margin: Refresh this many seconds before the access token expires.
        process_lock: Held around every network refresh, shared with other app processes
            using the same stored tokens (see :mod:`kit_desktop.auth.refresh_lock`).
        changes: Rewritten after every save or forget, so other copies can follow
            (see :mod:`kit_desktop.auth.change_stamp`).

    Attributes:
        warning: The last storage problem (for the window to show), or ``None``.
        refresh_count: How many refreshes went to the network (for diagnostics and tests).
    """

    def __init__(
        self,
        client: Refresher,
        store: TokenStore,
        *,
        clock: Callable[[], float] = time.time,
        margin: float = EXPIRY_MARGIN,
        process_lock: ProcessLock | None = None,
        changes: ChangeStamp | None = None,
    ) -> None:
        self.client = client
        self.process_lock = process_lock
        self.changes = changes
        self.store = store
        self.clock = clock
        self.margin = margin
        self._warning: KitError | None = None
        self.refresh_count = 0
        self._lock = threading.RLock()
        self._tokens: TokenSet | None = None
        self._loaded = False

    @property
    def warning(self) -> KitError | None:
        """The last storage problem (the store's own, or a corrupt entry), or None."""
        return self._warning or self.store.warning

    @property
    def tokens(self) -> TokenSet | None:
        """The current tokens, loading them from the store on first use."""
        with self._lock:
            if not self._loaded:
                self._tokens = self._read_store()
                self._loaded = True
            return self._tokens

    def reload(self) -> TokenSet | None:
        """Read the store again (another process changed it); return what is saved now.

        When the store cannot be read, the tokens in memory are kept and returned.
        """
        with self._lock:
            try:
                payload = self.store.load()
                fresh = None if payload is None else TokenSet.from_payload(payload)
            except StorageError as exc:
                log.info("saved connection not re-read: %s", exc.detail or type(exc).__name__)
                return self._tokens
            if fresh is not None:
                _register(fresh)
            self._tokens, self._loaded = fresh, True
            return fresh

    def adopt(self, tokens: TokenSet) -> None:
        """Keep freshly issued tokens: stored first, then handed out."""
        with self._lock:
            self._save(tokens)
            self._tokens, self._loaded = tokens, True

    def replace(self, tokens: TokenSet) -> list[TokenSet]:
        """Keep freshly issued tokens in place of the saved ones; return what they replace.

        Under the cross-process refresh lock, the store is read again first, so tokens
        another copy of the app renewed meanwhile are the ones reported replaced (with the
        ones this process still held, if they differ). The caller revokes them once it has
        settled on the new ones. The latest saved tokens come first.
        """
        with self._lock:
            if self.process_lock is None:
                replaced = [self.tokens]
                self.adopt(tokens)
            else:
                with self.process_lock.held():
                    latest = self._read_store()
                    # What this process held; never loaded (a fresh command): the latest.
                    replaced = [latest, self._tokens if self._loaded else latest]
                    self.adopt(tokens)
        unique: dict[str, TokenSet] = {}
        for old in replaced:
            if old is not None and old.access_token != tokens.access_token:
                unique.setdefault(old.access_token, old)
        return list(unique.values())

    def valid_tokens(self) -> TokenSet:
        """Return tokens whose access token is valid for at least ``margin`` seconds.

        Raises:
            NotConnectedError: Nothing is connected.
            ReconnectNeededError: Kit refused the refresh token; local tokens were removed.
            KitError: A transient failure; the current tokens are kept.
        """
        with self._lock:
            tokens = self._connected()
            if not tokens.needs_refresh(self.clock(), self.margin):
                return tokens
            return self._refresh_locked(tokens)

    def refresh(self, stale_access_token: str | None = None) -> TokenSet:
        """Refresh now, unless another caller already replaced ``stale_access_token``.

        Raises:
            NotConnectedError: Nothing is connected.
            ReconnectNeededError: Kit refused the refresh token; local tokens were removed.
            KitError: A transient failure; the current tokens are kept.
        """
        with self._lock:
            tokens = self._connected()
            if stale_access_token is not None and tokens.access_token != stale_access_token:
                return tokens
            return self._refresh_locked(tokens)

    def forget(self) -> None:
        """Remove the tokens from memory and from the store."""
        with self._lock:
            self._tokens, self._loaded = None, True
            try:
                self.store.delete()
            except StorageError as exc:
                log.warning("could not delete stored tokens: %s", exc.detail or exc.user_message)
                self._warning = exc
            self._changed()

    def _connected(self) -> TokenSet:
        tokens = self.tokens
        if tokens is None:
            raise NotConnectedError()
        return tokens

    def _refresh_locked(self, tokens: TokenSet) -> TokenSet:
        if self.process_lock is None:
            return self._refresh_held(tokens)
        with self.process_lock.held():
            stored = self._read_store()
            if stored is not None and stored.access_token != tokens.access_token:
                # Another process renewed while this one waited: use its tokens.
                log.info("another copy of the app renewed the tokens; using them")
                self._tokens = stored
                if not stored.needs_refresh(self.clock(), self.margin):
                    return stored
                tokens = stored
            return self._refresh_held(tokens)

    def _refresh_held(self, tokens: TokenSet) -> TokenSet:
        if tokens.refresh_token is None:
            self.forget()
            raise ReconnectNeededError(detail="no refresh token")
        try:
            new = self._network_refresh(tokens.refresh_token)
        except ReconnectNeededError:
            stored = self._read_store()
            if stored is None or stored.refresh_token in (None, tokens.refresh_token):
                self.forget()
                raise
            log.info("another instance renewed the tokens; using the stored ones")
            self._tokens = stored
            if not stored.needs_refresh(self.clock(), self.margin):
                return stored
            try:
                new = self._network_refresh(stored.refresh_token or "")
            except ReconnectNeededError:
                self.forget()
                raise
        self._save(new)
        self._tokens = new
        return new

    def _network_refresh(self, refresh_token: str) -> TokenSet:
        self.refresh_count += 1
        return self.client.refresh(refresh_token)

    def _save(self, tokens: TokenSet) -> None:
        _register(tokens)
        try:
            self.store.save(tokens.to_payload())
            self._warning = None
        except StorageError as exc:
            log.warning("tokens kept in memory only: %s", exc.detail or type(exc).__name__)
            self._warning = exc
            return
        self._changed()

    def _changed(self) -> None:
        if self.changes is not None:
            self.changes.touch()

    def _read_store(self) -> TokenSet | None:
        try:
            payload = self.store.load()
            tokens = None if payload is None else TokenSet.from_payload(payload)
        except StorageError as exc:
            self._warning = exc
            return None
        if tokens is not None:
            _register(tokens)
        return tokens


def _register(tokens: TokenSet) -> None:
    """Let the log filter hide these tokens wherever they might appear."""
    register_secret(tokens.access_token)
    if tokens.refresh_token:
        register_secret(tokens.refresh_token)
