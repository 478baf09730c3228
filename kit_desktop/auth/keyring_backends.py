"""Keyring back-end quirks: which back-ends are safe, what they are called, how they fail.

:mod:`kit_desktop.auth.token_store` decides what is saved and how honestly to report it;
this module knows the platforms underneath: the null, fail and plaintext back-ends that are
refused, Windows Credential Manager's size limit and persistence, macOS Keychain's error
codes, the program behind Linux's Secret Service, and keyring calls that hang on an unlock
prompt nobody answers.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import keyring
import keyring.core
from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

from kit_desktop.errors import StorageError, StorageLockedError, TokenTooLargeError
from kit_desktop.log import REDACTED, redact

_T = TypeVar("_T")

NO_SECURE_STORAGE = "no secure storage"
WINDOWS_MAX_BLOB_BYTES = 2560  # CRED_MAX_CREDENTIAL_BLOB_SIZE; keyring writes UTF-16
_CRED_PERSIST_LOCAL_MACHINE = 2  # win32cred constant: do not roam with domain profiles
_WINERROR_STUB_BAD_DATA = 1783  # CredWrite's answer to a blob that is too large
DELETE_MESSAGE = (
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


# --- judging a back-end --------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedBackend:
    """A back-end as judged by :func:`inspect_backend`.

    Attributes:
        backend: The back-end that receives the calls (a chainer's first child; Windows
            Credential Manager set to persist on this machine only).
        location: Its human name, e.g. "GNOME Keyring" (``"no secure storage"`` if refused).
        refusal: Why it must not hold tokens, or None when it may.
        is_windows: Whether it is Windows Credential Manager (values have a size limit).
    """

    backend: KeyringBackend
    location: str
    refusal: StorageError | None
    is_windows: bool

    def check_fits(self, value: str) -> None:
        """Refuse a value this back-end cannot hold, before anything is written.

        Raises:
            TokenTooLargeError: Windows Credential Manager's blob limit would be exceeded.
        """
        if not self.is_windows:
            return
        size = len(value.encode("utf-16-le"))
        if size > WINDOWS_MAX_BLOB_BYTES:
            raise TokenTooLargeError(
                detail=f"save: {size} bytes as UTF-16, the limit is "
                f"{WINDOWS_MAX_BLOB_BYTES}; nothing was written"
            )


def default_backend() -> KeyringBackend:
    """The back-end keyring would choose, found without its slow search where that is safe.

    ``keyring.get_keyring()`` imports every back-end it knows and asks each whether it
    works: on Linux that costs 60-90 ms, most of it the macOS back-end (which looks for
    its libraries three times) and the installed-packages scan, every time a command runs.
    On Linux and the BSDs, when nothing chose a back-end (no ``set_keyring``, no
    ``PYTHON_KEYRING_BACKEND``, no ``keyringrc.cfg``) and neither of keyring's other
    Linux back-ends can load (KWallet needs ``dbus``, libsecret needs ``gi``), keyring's
    choice is the Secret Service whenever it is available: that is built directly. In
    every other case (or should keyring's internals move) keyring searches as usual.
    Decision: docs/decisions/0020.
    """
    chosen = getattr(keyring.core, "_keyring_backend", True)  # set_keyring, an earlier search
    if chosen is not None or not _secret_service_is_the_only_choice():
        return keyring.get_keyring()
    from keyring.backends import SecretService

    candidate = SecretService.Keyring()  # type: ignore[no-untyped-call]
    try:
        viable = candidate.priority > 0
    except Exception:  # keyring's own search would skip it the same way
        viable = False
    if not viable:
        return keyring.get_keyring()
    keyring.set_keyring(candidate)  # later calls in this process agree with this one
    return candidate


def _secret_service_is_the_only_choice() -> bool:
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return False
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    config_path = getattr(keyring.core, "_config_path", None)  # keyring's own, if it moved:
    if config_path is None or config_path().exists():  # search as keyring does
        return False
    return not any(importlib.util.find_spec(name) is not None for name in ("dbus", "gi"))


def inspect_backend(backend: KeyringBackend) -> ResolvedBackend:
    """Judge ``backend``: refuse the fail, null and plaintext ones, and name the others.

    Args:
        backend: The keyring back-end, usually ``keyring.get_keyring()``.

    Returns:
        The back-end to call, its name and any refusal. May talk to D-Bus (Linux) to name
        the Secret Service provider, so call it inside a time limit.
    """
    if isinstance(backend, ChainerBackend):
        children = list(backend.backends)
        if not children:
            error = KeyringUnavailableError(detail="the keyring chainer has no usable backend")
            return ResolvedBackend(backend, NO_SECURE_STORAGE, error, False)
        backend = children[0]  # where the chainer would send set_password
    modules = [cls.__module__ for cls in type(backend).__mro__]
    refusal: StorageError | None = None
    if "keyring.backends.fail" in modules:
        refusal = KeyringUnavailableError(detail="no keyring backend (keyring.backends.fail)")
    elif "keyring.backends.null" in modules:
        refusal = KeyringUnavailableError(_DISABLED_MESSAGE, detail="keyring.backends.null")
    elif any(m == "keyrings.alt" or m.startswith("keyrings.alt.") for m in modules):
        refusal = KeyringUnavailableError(_PLAINTEXT_MESSAGE, detail=backend_name(backend))
    if refusal is not None:
        return ResolvedBackend(backend, NO_SECURE_STORAGE, refusal, False)
    if "keyring.backends.Windows" in modules:
        backend = backend.with_properties(_persist=_CRED_PERSIST_LOCAL_MACHINE)
        return ResolvedBackend(backend, "Windows Credential Manager", None, True)
    if "keyring.backends.macOS" in modules:
        location = "macOS Keychain"
    elif "keyring.backends.kwallet" in modules:
        location = "KWallet"
    elif {"keyring.backends.SecretService", "keyring.backends.libsecret"} & set(modules):
        location = _secret_service_provider()
    else:
        location = str(getattr(type(backend), "name", type(backend).__name__))
    return ResolvedBackend(backend, location, None, False)


def backend_name(backend: KeyringBackend) -> str:
    """Return the back-end's full class name, for the log."""
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


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


# --- platform errors -----------------------------------------------------------------------


def translate_error(exc: Exception, operation: str, secrets: tuple[str, ...]) -> StorageError:
    """Turn whatever a back-end raised into a StorageError whose text holds no secret.

    Args:
        exc: What the back-end raised (``pywintypes.error`` is neither KeyringError nor
            OSError, so anything may arrive here).
        operation: ``save``, ``load`` or ``delete``, for the detail and the message.
        secrets: Texts to blank out of the detail (see :func:`secret_texts`).

    Returns:
        A typed error: too large (Windows), unavailable, locked (including macOS's dismissed
        prompt), owned by another app (macOS), not set up, or a plain StorageError. A failed
        delete always says the entry may still be there.
    """
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
        error = type(error)(DELETE_MESSAGE, detail=detail)
    return error


def secret_texts(payload: Mapping[str, Any], value: str) -> tuple[str, ...]:
    """Return the texts an error about saving ``payload`` (encoded as ``value``) must hide."""
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


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return redact(text)


# --- time limit ----------------------------------------------------------------------------


class TimedRunner:
    """Runs one keyring operation at a time on a daemon thread, waiting at most ``timeout``.

    A call that does not return in time raises :class:`StorageTimeoutError` and leaves the
    caller free; the stuck call finishes (or not) on its daemon thread, and later calls wait
    for it at most ``timeout`` before failing the same way.

    Args:
        timeout: Seconds each operation may take (positive).
    """

    def __init__(self, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError("call_timeout must be positive")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._stuck: threading.Thread | None = None

    def run(self, operation: str, function: Callable[[], _T]) -> _T:
        """Return ``function()``, or raise what it raised.

        Raises:
            StorageTimeoutError: It, another call or an earlier stuck call took too long.
        """
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
