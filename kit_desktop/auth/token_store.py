"""Token storage: the OS keyring when it is safe, this run's memory when it is not.

This module is the store policy: what is saved (a versioned JSON entry), under which
per-profile key, and an honest answer to "is it kept securely?". The platform details
(which keyring back-ends are refused, Windows size limits, macOS error codes, calls that
hang) live in :mod:`kit_desktop.auth.keyring_backends`; its public names used here are
re-exported.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend

from kit_desktop import APP_NAME
from kit_desktop.auth.keyring_backends import (
    DELETE_MESSAGE,
    NO_SECURE_STORAGE,
    WINDOWS_MAX_BLOB_BYTES,
    KeyringUnavailableError,
    ResolvedBackend,
    StorageTimeoutError,
    TimedRunner,
    backend_name,
    default_backend,
    inspect_backend,
    secret_texts,
    translate_error,
)
from kit_desktop.config import is_loopback_host
from kit_desktop.errors import CorruptEntryError, StorageError

__all__ = [
    "ENTRY_VERSION",
    "NO_SECURE_STORAGE",
    "SANDBOX_PROFILE",
    "SERVICE_NAME",
    "SESSION_ONLY",
    "WINDOWS_MAX_BLOB_BYTES",
    "KeyringTokenStore",
    "KeyringUnavailableError",
    "MemoryTokenStore",
    "SessionTokenStore",
    "StorageTimeoutError",
    "TokenStore",
    "profile_key",
]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

SERVICE_NAME = APP_NAME
SESSION_ONLY = "this session only"
SANDBOX_PROFILE = "sandbox"
ENTRY_VERSION = 1
_NEWER_MESSAGE = (
    "The saved connection was written by a newer version of Kit Desktop. Please connect again."
)


class TokenStore(Protocol):
    """Where a connection's token payload is kept.

    The payload is an opaque JSON-serialisable mapping (the token classes decide its keys).
    """

    @property
    def location(self) -> str:
        """A human name for where tokens live, e.g. "GNOME Keyring" or "this session only"."""

    @property
    def is_secure(self) -> bool:
        """Whether the tokens survive this run in an encrypted OS store."""

    @property
    def warning(self) -> StorageError | None:
        """Why tokens are not (or may not be) kept securely; None when all is well."""

    def save(self, payload: Mapping[str, Any]) -> None:
        """Keep ``payload``, replacing what was kept before."""

    def load(self) -> dict[str, Any] | None:
        """Return the kept payload, or None when nothing is kept."""

    def delete(self) -> None:
        """Forget the payload; forgetting nothing is fine."""


def profile_key(authorization_server: str, client_id: str) -> str:
    """Return the keyring username for one Kit connection profile.

    The key is the authorization server's origin plus ``#client_id``. Any loopback host
    (the built-in sandbox, whose port changes between runs) becomes ``sandbox``, so
    sandbox tokens never mix with real Kit ones and survive a port change.

    Args:
        authorization_server: The token endpoint URL (only its origin is used).
        client_id: The Kit app's client ID; may be empty.

    Returns:
        For example ``"https://api.kit.com#abc123"`` or ``"sandbox#kit-desktop-demo"``.

    Raises:
        ValueError: ``authorization_server`` is not an absolute http(s) URL.
    """
    parts = urlsplit(authorization_server.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("http", "https") or not host:
        raise ValueError("the authorization server must be an absolute http(s) URL")
    if is_loopback_host(host):
        origin = SANDBOX_PROFILE
    else:
        port = parts.port
        shown = f"[{host}]" if ":" in host else host
        default_port = 443 if scheme == "https" else 80
        origin = f"{scheme}://{shown}" + (f":{port}" if port not in (None, default_port) else "")
    return f"{origin}#{client_id}" if client_id else origin


class MemoryTokenStore:
    """Keeps the payload in this process's memory only; nothing touches the disk."""

    def __init__(self) -> None:
        self._entry: str | None = None

    @property
    def location(self) -> str:
        """Always ``"this session only"``."""
        return SESSION_ONLY

    @property
    def warning(self) -> StorageError | None:
        """Always None: a memory store is chosen on purpose, not as a fallback."""
        return None

    @property
    def is_secure(self) -> bool:
        """Always False: the tokens are gone when the app quits."""
        return False

    def save(self, payload: Mapping[str, Any]) -> None:
        """Keep a copy of ``payload`` (raises ValueError/TypeError if it is not JSON)."""
        self._entry = _encode(payload)

    def load(self) -> dict[str, Any] | None:
        """Return a copy of the kept payload, or None."""
        entry = self._entry
        return None if entry is None else _decode(entry)

    def delete(self) -> None:
        """Forget the payload."""
        self._entry = None

    def __repr__(self) -> str:
        return f"MemoryTokenStore(holds_tokens={self._entry is not None})"


class KeyringTokenStore:
    """One keyring entry per profile, written then read back, every call time-limited.

    The entry lives under service ``SERVICE_NAME`` with the profile as username; its value
    is ``{"v":1,"data":{...}}`` as compact JSON. Plaintext, null and missing keyrings are
    refused (``KeyringUnavailableError``). A call that does not return within
    ``call_timeout`` raises ``StorageTimeoutError`` and leaves the caller free; the stuck
    call finishes (or not) on a daemon thread, and later calls wait for it at most
    ``call_timeout`` before failing the same way.

    Args:
        profile: The keyring username, usually from :func:`profile_key`.
        backend: The keyring backend; by default keyring's choice (``default_backend()``),
            looked up on the first call (inside the time limit).
        call_timeout: Seconds each operation may take.
    """

    def __init__(
        self,
        profile: str,
        *,
        backend: KeyringBackend | None = None,
        call_timeout: float = 5.0,
    ) -> None:
        if not profile:
            raise ValueError("profile must not be empty")
        self._profile = profile
        self._backend = backend
        self._runner = TimedRunner(call_timeout)
        self._resolved: ResolvedBackend | None = None

    @property
    def profile(self) -> str:
        """The keyring username of this store's entry."""
        return self._profile

    @property
    def warning(self) -> StorageError | None:
        """Always None: this store raises its problems instead of keeping them."""
        return None

    @property
    def location(self) -> str:
        """The keyring's human name (e.g. "GNOME Keyring"), or ``"no secure storage"``.

        The first access may wait up to ``call_timeout`` to inspect the backend; after any
        operation it is immediate.
        """
        resolved = self._inspected()
        return NO_SECURE_STORAGE if resolved is None or resolved.refusal else resolved.location

    @property
    def is_secure(self) -> bool:
        """Whether the backend is a usable, encrypted OS keyring (same cost as ``location``)."""
        resolved = self._inspected()
        return resolved is not None and resolved.refusal is None

    def save(self, payload: Mapping[str, Any]) -> None:
        """Write ``payload`` and read it back to confirm.

        Raises:
            StorageError: The keyring is unavailable, locked, too slow, refused the value
                (``TokenTooLargeError`` for Windows Credential Manager's size limit), or did
                not give the value back. The error text never contains the payload.
            ValueError: ``payload`` is not JSON-serialisable (also TypeError).
        """
        value = _encode(payload)

        def write(resolved: ResolvedBackend) -> None:
            resolved.check_fits(value)
            resolved.backend.set_password(SERVICE_NAME, self._profile, value)
            stored = resolved.backend.get_password(SERVICE_NAME, self._profile)
            if stored is None:
                raise StorageError(detail="save: the read-back found nothing")
            if not hmac.compare_digest(stored.encode(), value.encode()):
                raise StorageError(detail="save: the read-back differs from what was written")

        self._run("save", write, secret_texts(payload, value))

    def load(self) -> dict[str, Any] | None:
        """Return the saved payload, or None when this profile has no entry.

        Raises:
            CorruptEntryError: The entry is not a payload this version understands; it is
                left in place (the next save replaces it).
            StorageError: The keyring is unavailable, locked or too slow.
        """

        def read(resolved: ResolvedBackend) -> str | None:
            return resolved.backend.get_password(SERVICE_NAME, self._profile)

        raw = self._run("load", read, ())
        return None if raw is None else _decode(raw)

    def delete(self) -> None:
        """Remove this profile's entry and confirm it is gone; a missing entry is fine.

        Raises:
            StorageError: The keyring is unavailable, locked, too slow, or kept the entry.
        """

        def remove(resolved: ResolvedBackend) -> None:
            with contextlib.suppress(keyring_errors.PasswordDeleteError):  # not there
                resolved.backend.delete_password(SERVICE_NAME, self._profile)
            if resolved.backend.get_password(SERVICE_NAME, self._profile) is not None:
                raise StorageError(DELETE_MESSAGE, detail="delete: the entry is still there")

        self._run("delete", remove, ())

    def __repr__(self) -> str:
        return f"KeyringTokenStore(profile={self._profile!r})"

    def _inspected(self) -> ResolvedBackend | None:
        if self._resolved is None:
            try:
                self._runner.run("inspect", self._resolve)
            except Exception:  # a slow or broken backend reads as "no secure storage"
                return None
        return self._resolved

    def _resolve(self) -> ResolvedBackend:
        if self._resolved is None:
            backend = self._backend if self._backend is not None else default_backend()
            self._resolved = inspect_backend(backend)
            _log.info(
                "Token storage for %s: %s (%s)",
                self._profile,
                self._resolved.location,
                backend_name(self._resolved.backend),
            )
        return self._resolved

    def _run(
        self, operation: str, body: Callable[[ResolvedBackend], _T], secrets: tuple[str, ...]
    ) -> _T:
        def task() -> _T:
            try:
                resolved = self._resolve()
                if resolved.refusal is not None:
                    refusal = resolved.refusal
                    raise type(refusal)(refusal.user_message, detail=refusal.detail)
                return body(resolved)
            except StorageError:
                raise
            except Exception as exc:  # pywintypes.error is neither KeyringError nor OSError
                raise translate_error(exc, operation, secrets) from None

        return self._runner.run(operation, task)


class SessionTokenStore:
    """The keyring when it works, otherwise this run's memory, and honest about which.

    A failed save keeps the payload in memory, records the error in ``warning`` and never
    writes anywhere else; the entry already in the keyring is left as it was. ``retry()``
    tries the keyring again (the window's Retry button, after unlocking).

    Args:
        keyring_store: The keyring store to prefer.
    """

    def __init__(self, keyring_store: KeyringTokenStore) -> None:
        self._keyring = keyring_store
        self._memory = MemoryTokenStore()
        self._memory_holds_truth = False  # this run's save or delete never reached the keyring
        self._warning: StorageError | None = None
        self._lock = threading.RLock()

    @property
    def warning(self) -> StorageError | None:
        """Why tokens are not (or may not be) in secure storage; None when all is well."""
        return self._warning

    @property
    def is_secure(self) -> bool:
        """Whether the current tokens are kept in the OS keyring."""
        return self._warning is None and self._keyring.is_secure

    @property
    def location(self) -> str:
        """The keyring's name, or ``"this session only"`` while tokens live in memory."""
        return self._keyring.location if self.is_secure else SESSION_ONLY

    def save(self, payload: Mapping[str, Any]) -> None:
        """Save to the keyring, or keep ``payload`` in memory and set ``warning``."""
        with self._lock:
            try:
                self._keyring.save(payload)
            except StorageError as error:
                self._memory.save(payload)
                self._memory_holds_truth = True
                self._note(error)
                return
            self._recovered()

    def load(self) -> dict[str, Any] | None:
        """Return this run's in-memory payload if there is one, else the keyring's.

        A keyring that cannot be read sets ``warning`` and reads as None (not connected).

        Raises:
            CorruptEntryError: The keyring entry is unreadable; treat it as not connected.
        """
        with self._lock:
            if self._memory_holds_truth:
                return self._memory.load()
            try:
                payload = self._keyring.load()
            except CorruptEntryError:
                raise
            except StorageError as error:
                self._note(error)
                return None
            self._warning = None
            return payload

    def delete(self) -> None:
        """Forget the tokens in memory and in the keyring.

        Raises:
            StorageError: The keyring still holds an entry it could not remove (this run
                behaves as disconnected all the same). An unusable keyring is not an error:
                nothing could have been saved there.
        """
        with self._lock:
            self._memory.delete()
            try:
                self._keyring.delete()
            except StorageError as error:
                self._memory_holds_truth = True
                self._note(error)
                if not isinstance(error, KeyringUnavailableError):
                    raise
                return
            self._recovered()

    def retry(self) -> bool:
        """Try the keyring again: store this run's tokens there, or just reach it.

        Returns:
            True when the keyring now holds this run's state (``warning`` is cleared).
        """
        with self._lock:
            try:
                if not self._memory_holds_truth:
                    self._keyring.load()
                elif (payload := self._memory.load()) is not None:
                    self._keyring.save(payload)
                else:
                    self._keyring.delete()
            except CorruptEntryError:
                pass  # reachable; the unreadable entry is replaced by the next save
            except StorageError as error:
                self._warning = error
                return False
            self._recovered()
            return True

    def __repr__(self) -> str:
        return f"SessionTokenStore({self._keyring!r}, in_memory={self._memory_holds_truth})"

    def _note(self, error: StorageError) -> None:
        self._warning = error
        _log.warning("Tokens are kept for this session only: %s", error)

    def _recovered(self) -> None:
        self._memory.delete()
        self._memory_holds_truth = False
        self._warning = None


# --- entry format ------------------------------------------------------------------------


def _encode(payload: Mapping[str, Any]) -> str:
    entry = {"v": ENTRY_VERSION, "data": dict(payload)}
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them so every backend can store it
        text = json.dumps(entry, separators=(",", ":"), allow_nan=False)
    return text


def _decode(raw: str) -> dict[str, Any]:
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        raise CorruptEntryError(detail="load: the entry is not JSON") from None
    if not isinstance(entry, dict):
        raise CorruptEntryError(detail="load: the entry is not a JSON object")
    version = entry.get("v")
    if type(version) is not int or version != ENTRY_VERSION:
        if type(version) is int and version > ENTRY_VERSION:
            raise CorruptEntryError(_NEWER_MESSAGE, detail=f"load: entry version {version}")
        raise CorruptEntryError(detail="load: the entry has no known version")
    data = entry.get("data")
    if not isinstance(data, dict):
        raise CorruptEntryError(detail="load: the entry holds no token data")
    return data
