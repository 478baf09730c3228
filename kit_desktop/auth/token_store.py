"""Token storage: the OS keyring when it is safe, this run's memory when it is not."""

from __future__ import annotations

import contextlib
import hmac
import importlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import keyring
from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from kit_desktop import APP_NAME
from kit_desktop.config import is_loopback_host
from kit_desktop.errors import (
    CorruptEntryError,
    StorageError,
    StorageLockedError,
    TokenTooLargeError,
)
from kit_desktop.log import REDACTED, redact

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

SERVICE_NAME = APP_NAME
SESSION_ONLY = "this session only"
NO_SECURE_STORAGE = "no secure storage"
SANDBOX_PROFILE = "sandbox"
ENTRY_VERSION = 1
WINDOWS_MAX_BLOB_BYTES = 2560  # CRED_MAX_CREDENTIAL_BLOB_SIZE; keyring writes UTF-16
_CRED_PERSIST_LOCAL_MACHINE = 2  # win32cred constant: do not roam with domain profiles
_WINERROR_STUB_BAD_DATA = 1783  # CredWrite's answer to a blob that is too large
_DELETE_MESSAGE = (
    "Kit Desktop could not remove the saved connection from your computer's secure storage. "
    "Unlock it if it is locked, then disconnect again."
)
_OWNER_MESSAGE = (
    "macOS Keychain would not let Kit Desktop update its saved connection (another copy of "
    "the app saved it). Delete the 'Kit Desktop' item in Keychain Access and click Retry. "
    "Until then you will need to connect again next time."
)
_INIT_MESSAGE = (
    "Your computer's secure storage could not be opened (no keyring is set up, or its set-up "
    "was cancelled). Set it up and click Retry, or keep working: you will need to connect "
    "again next time."
)
_DISABLED_MESSAGE = (
    "Secure storage is turned off on this computer, so you will need to connect again next "
    "time you open the app."
)
_PLAINTEXT_MESSAGE = (
    "Only an unencrypted password store is available, so Kit Desktop keeps your connection "
    "for this session only instead of saving it in plain text."
)
_NEWER_MESSAGE = (
    "The saved connection was written by a newer version of Kit Desktop. Please connect again."
)
_SECRET_SERVICE_PROVIDERS = (
    ("gnome-keyring", "GNOME Keyring"),
    ("kwalletd", "KWallet"),
    ("ksecretd", "KWallet"),
    ("keepassxc", "KeePassXC"),
)


class KeyringUnavailableError(StorageError):
    """No usable secure keyring: none at all, the null one, or only a plaintext one."""


class StorageTimeoutError(StorageLockedError):
    """The keyring did not answer in time (often an unlock prompt nobody has answered)."""

    default_message = (
        "Your computer's secure storage did not answer in time (it may be waiting for you to "
        "unlock it). Unlock it and click Retry, or keep working: you will need to connect "
        "again next time."
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
        backend: The keyring backend; by default ``keyring.get_keyring()``, looked up on the
            first call (inside the time limit).
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
        self._runner = _TimedRunner(call_timeout)
        self._resolved: _Resolved | None = None

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

        def write(resolved: _Resolved) -> None:
            if resolved.is_windows:
                size = len(value.encode("utf-16-le"))
                if size > WINDOWS_MAX_BLOB_BYTES:
                    raise TokenTooLargeError(
                        detail=f"save: {size} bytes as UTF-16, the limit is "
                        f"{WINDOWS_MAX_BLOB_BYTES}; nothing was written"
                    )
            resolved.backend.set_password(SERVICE_NAME, self._profile, value)
            stored = resolved.backend.get_password(SERVICE_NAME, self._profile)
            if stored is None:
                raise StorageError(detail="save: the read-back found nothing")
            if not hmac.compare_digest(stored.encode(), value.encode()):
                raise StorageError(detail="save: the read-back differs from what was written")

        self._run("save", write, _secret_texts(payload, value))

    def load(self) -> dict[str, Any] | None:
        """Return the saved payload, or None when this profile has no entry.

        Raises:
            CorruptEntryError: The entry is not a payload this version understands; it is
                left in place (the next save replaces it).
            StorageError: The keyring is unavailable, locked or too slow.
        """

        def read(resolved: _Resolved) -> str | None:
            return resolved.backend.get_password(SERVICE_NAME, self._profile)

        raw = self._run("load", read, ())
        return None if raw is None else _decode(raw)

    def delete(self) -> None:
        """Remove this profile's entry and confirm it is gone; a missing entry is fine.

        Raises:
            StorageError: The keyring is unavailable, locked, too slow, or kept the entry.
        """

        def remove(resolved: _Resolved) -> None:
            with contextlib.suppress(keyring_errors.PasswordDeleteError):  # not there
                resolved.backend.delete_password(SERVICE_NAME, self._profile)
            if resolved.backend.get_password(SERVICE_NAME, self._profile) is not None:
                raise StorageError(_DELETE_MESSAGE, detail="delete: the entry is still there")

        self._run("delete", remove, ())

    def __repr__(self) -> str:
        return f"KeyringTokenStore(profile={self._profile!r})"

    def _inspected(self) -> _Resolved | None:
        if self._resolved is None:
            try:
                self._runner.run("inspect", self._resolve)
            except Exception:  # a slow or broken backend reads as "no secure storage"
                return None
        return self._resolved

    def _resolve(self) -> _Resolved:
        if self._resolved is None:
            backend = self._backend if self._backend is not None else keyring.get_keyring()
            self._resolved = _inspect(backend)
            _log.info(
                "Token storage for %s: %s (%s)",
                self._profile,
                self._resolved.location,
                _class_name(self._resolved.backend),
            )
        return self._resolved

    def _run(self, operation: str, body: Callable[[_Resolved], _T], secrets: tuple[str, ...]) -> _T:
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
                raise _map_error(exc, operation, secrets) from None

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


# --- backend inspection ------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    backend: KeyringBackend  # the backend that receives the calls
    location: str
    refusal: StorageError | None
    is_windows: bool


def _inspect(backend: KeyringBackend) -> _Resolved:
    if isinstance(backend, ChainerBackend):
        children = list(backend.backends)
        if not children:
            error = KeyringUnavailableError(detail="the keyring chainer has no usable backend")
            return _Resolved(backend, NO_SECURE_STORAGE, error, False)
        backend = children[0]  # where the chainer would send set_password
    modules = [cls.__module__ for cls in type(backend).__mro__]
    refusal: StorageError | None = None
    if "keyring.backends.fail" in modules:
        refusal = KeyringUnavailableError(detail="no keyring backend (keyring.backends.fail)")
    elif "keyring.backends.null" in modules:
        refusal = KeyringUnavailableError(_DISABLED_MESSAGE, detail="keyring.backends.null")
    elif any(m == "keyrings.alt" or m.startswith("keyrings.alt.") for m in modules):
        refusal = KeyringUnavailableError(_PLAINTEXT_MESSAGE, detail=_class_name(backend))
    if refusal is not None:
        return _Resolved(backend, NO_SECURE_STORAGE, refusal, False)
    if "keyring.backends.Windows" in modules:
        backend = backend.with_properties(_persist=_CRED_PERSIST_LOCAL_MACHINE)
        return _Resolved(backend, "Windows Credential Manager", None, True)
    if "keyring.backends.macOS" in modules:
        location = "macOS Keychain"
    elif "keyring.backends.kwallet" in modules:
        location = "KWallet"
    elif {"keyring.backends.SecretService", "keyring.backends.libsecret"} & set(modules):
        location = _secret_service_provider()
    else:
        location = str(getattr(type(backend), "name", type(backend).__name__))
    return _Resolved(backend, location, None, False)


def _secret_service_provider() -> str:
    """Name the program behind ``org.freedesktop.secrets`` (Linux; best effort)."""
    try:
        jeepney = importlib.import_module("jeepney")
        blocking = importlib.import_module("jeepney.io.blocking")
        query = jeepney.message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets")
        with blocking.open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(query, timeout=1.0)
        pid = int(jeepney.wrappers.unwrap_msg(reply)[0])
        program = Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip().lower()
    except Exception:  # a display name only: any failure means "can't tell"
        return "Secret Service"
    for prefix, name in _SECRET_SERVICE_PROVIDERS:
        if program.startswith(prefix):
            return name
    return "Secret Service"


def _class_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _map_error(exc: Exception, operation: str, secrets: tuple[str, ...]) -> StorageError:
    """Turn whatever a backend raised into a StorageError whose text holds no secret."""
    text = str(exc)
    detail = f"{operation}: {type(exc).__name__}: {_scrub(text, secrets)}"[:500]
    error: StorageError
    if getattr(exc, "winerror", None) == _WINERROR_STUB_BAD_DATA:
        error = TokenTooLargeError(detail=detail)
    elif isinstance(exc, keyring_errors.NoKeyringError):
        error = KeyringUnavailableError(detail=detail)
    elif isinstance(exc, keyring_errors.KeyringLocked) or (
        isinstance(exc, keyring_errors.KeyringError) and "-25308" in text
    ):
        error = StorageLockedError(detail=detail)  # dismissed prompt / locked Keychain
    elif isinstance(exc, keyring_errors.KeyringError) and "-25244" in text:
        error = StorageLockedError(_OWNER_MESSAGE, detail=detail)  # errSecInvalidOwnerEdit
    elif isinstance(exc, keyring_errors.InitError):
        error = StorageError(_INIT_MESSAGE, detail=detail)
    else:
        error = StorageError(detail=detail)
    if operation == "delete" and not isinstance(error, KeyringUnavailableError):
        error = type(error)(_DELETE_MESSAGE, detail=detail)
    return error


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact(text)


def _secret_texts(payload: Mapping[str, Any], value: str) -> tuple[str, ...]:
    found = [value]
    pending: list[Any] = [payload]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, str) and len(item) >= 4:
            found.append(item)
    return tuple(found)


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


# --- time limit --------------------------------------------------------------------------


class _TimedRunner:
    """Runs one keyring operation at a time on a daemon thread, waiting at most ``timeout``."""

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._stuck: threading.Thread | None = None

    def run(self, operation: str, function: Callable[[], _T]) -> _T:
        deadline = time.monotonic() + self._timeout
        if not self._lock.acquire(timeout=self._timeout):
            raise StorageTimeoutError(detail=f"{operation}: another keyring call is running")
        try:
            if self._stuck is not None:
                self._stuck.join(max(0.0, deadline - time.monotonic()))
                if self._stuck.is_alive():
                    raise StorageTimeoutError(detail=f"{operation}: an earlier call is stuck")
                self._stuck = None
            future: Future[_T] = Future()
            worker = threading.Thread(
                target=_resolve_future, args=(future, function), name="keyring", daemon=True
            )
            worker.start()
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                self._stuck = worker
                raise StorageTimeoutError(detail=f"{operation}: no answer in {self._timeout:g} s")
        finally:
            self._lock.release()
        return future.result()


def _resolve_future(future: Future[_T], function: Callable[[], _T]) -> None:
    try:
        future.set_result(function())
    except Exception as exc:  # handed back to the waiting caller
        future.set_exception(exc)
