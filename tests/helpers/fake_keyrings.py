"""Keyring backends that fail exactly as the real ones do, for the macOS/Windows-only cases.

Each fake reports ``priority = -1`` so keyring's own backend discovery never picks one, and
the look-alikes subclass the real backend classes so the store recognises them by type.
"""

from __future__ import annotations

import threading
from typing import Any

from keyring.backend import KeyringBackend
from keyring.backends.macOS import Keyring as MacOSKeyring
from keyring.backends.Windows import WinVaultKeyring
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps entries in a dict (shared by ``with_properties`` copies).

    Attributes:
        entries: ``(service, username) -> password``.
        calls: The operations made so far, e.g. ``["set", "get"]``.
    """

    priority = -1  # never chosen by keyring.get_keyring()

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append("delete")
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("No such password!")


class PyWinTypesError(Exception):  # the real one is called "error"
    """Mimics ``pywintypes.error`` (pywin32-ctypes): not a KeyringError, not an OSError."""

    def __init__(self, *args: Any) -> None:
        self.winerror = args[0] if len(args) > 0 else None
        self.funcname = args[1] if len(args) > 1 else None
        self.strerror = args[2] if len(args) > 2 else None
        super().__init__(*args)


class CredentialManagerLikeKeyring(MemoryKeyring, WinVaultKeyring):
    """Windows Credential Manager: ``CredWrite`` rejects a blob over ``blob_limit`` bytes.

    The rejection is the un-wrapped ``pywintypes.error(1783, 'CredWrite', ...)``, as in
    jaraco/keyring #355 and #540. ``persisted`` records the persistence of each write.
    """

    def __init__(self, blob_limit: int = 2560) -> None:
        super().__init__()
        self.blob_limit = blob_limit
        self.persisted: list[int | None] = []

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        if len(password.encode("utf-16-le")) > self.blob_limit:
            raise PyWinTypesError(1783, "CredWrite", "The stub received bad data.")
        self.persisted.append(getattr(self, "_persist", None))
        self.entries[(service, username)] = password


class KeychainLikeKeyring(MemoryKeyring, MacOSKeyring):
    """macOS Keychain: ``set`` deletes the item, then adds it (not atomic, catalogue 49).

    Args:
        add_status: When set, ``SecItemAdd`` fails with this OSStatus *after* the delete,
            e.g. -25244 (errSecInvalidOwnerEdit, jaraco/keyring #605) or -25308
            (errSecInteractionNotAllowed, a locked keychain).
    """

    keychain = None

    def __init__(self, add_status: int | None = None) -> None:
        super().__init__()
        self.add_status = add_status

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        self.entries.pop((service, username), None)  # api.set_generic_password deletes first
        if self.add_status is not None:
            raise PasswordSetError(
                f"Can't store password on keychain: ({self.add_status}, 'Unknown Error')"
            )
        self.entries[(service, username)] = password


class LockedKeyring(MemoryKeyring):
    """Secret Service with the unlock prompt dismissed; set ``locked = False`` to unlock."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = True

    def _check(self) -> None:
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        super().delete_password(service, username)


class HangingKeyring(MemoryKeyring):
    """Every call blocks until ``release`` is set (at most 30 s): a pending unlock prompt.

    Attributes:
        entered: Set once a call has started blocking.
        started: How many calls have started.
        release: Set it (the test does, at teardown) to let blocked calls finish.
    """

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.started = 0

    def _block(self) -> None:
        self.started += 1
        self.entered.set()
        self.release.wait(30)

    def get_password(self, service: str, username: str) -> str | None:
        self._block()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._block()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._block()
        super().delete_password(service, username)


class ForgetfulKeyring(MemoryKeyring):
    """Accepts every write and keeps nothing, like the null backend under another name."""

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")


class TruncatingKeyring(MemoryKeyring):
    """Keeps only the first ``keep`` characters of each value: a partial write."""

    def __init__(self, keep: int = 16) -> None:
        super().__init__()
        self.keep = keep

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password[: self.keep])


class RaisingKeyring(KeyringBackend):
    """Raises ``error`` from every call (NoKeyringError, InitError, anything)."""

    priority = -1

    def __init__(self, error: Exception) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


__all__ = [
    "CredentialManagerLikeKeyring",
    "ForgetfulKeyring",
    "HangingKeyring",
    "KeychainLikeKeyring",
    "LockedKeyring",
    "MemoryKeyring",
    "PyWinTypesError",
    "RaisingKeyring",
    "TruncatingKeyring",
]
