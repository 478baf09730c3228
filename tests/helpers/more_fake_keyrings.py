"""More keyring look-alikes: a hang that can be switched on and off, and Windows' real logic.

``WinVaultLikeKeyring`` runs keyring's own ``WinVaultKeyring`` code (compound
``user@service`` targets, persistence) over an in-memory stand-in for ``win32cred``, so
the parts that differ from a plain dict are keyring's, not ours.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from keyring.backends.Windows import DecodingCredential, WinVaultKeyring

from tests.helpers.fake_keyrings import MemoryKeyring, PyWinTypesError

HANG_LIMIT = 30.0  # seconds a stalled call waits at most (an unlock prompt nobody answers)


class StallingKeyring(MemoryKeyring):
    """A working keyring whose calls block while it is stalled, like a pending unlock prompt.

    Unlike ``HangingKeyring`` it can be stalled again after a release, so a test can let
    the app start normally and make only one later step hang.

    Attributes:
        entered: Set when a call starts waiting; cleared by :meth:`stall`.
        waiting: How many calls have waited so far.
    """

    def __init__(self, *, stalled: bool = False) -> None:
        super().__init__()
        self._open = threading.Event()
        self._lock = threading.Lock()
        self.entered = threading.Event()
        self.waiting = 0
        if not stalled:
            self._open.set()

    def stall(self) -> None:
        """Make every call from now on wait (at most 30 s) until :meth:`release`."""
        self.entered.clear()
        self._open.clear()

    def release(self) -> None:
        """Let waiting and later calls through."""
        self._open.set()

    @property
    def stalled(self) -> bool:
        """Whether calls wait now."""
        return not self._open.is_set()

    def _gate(self) -> None:
        if self._open.is_set():
            return
        with self._lock:
            self.waiting += 1
        self.entered.set()
        self._open.wait(HANG_LIMIT)

    def get_password(self, service: str, username: str) -> str | None:
        self._gate()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._gate()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._gate()
        super().delete_password(service, username)


@dataclass(frozen=True)
class CredWrite:
    """One ``CredWrite`` call as Windows would have received it."""

    target: str
    username: str
    persist: int | None


class WinVaultLikeKeyring(WinVaultKeyring):
    """keyring's ``WinVaultKeyring`` over an in-memory Credential Manager.

    ``CredRead``/``CredWrite``/``CredDelete`` behave as on Windows: an unknown target is
    ``pywintypes.error(1168)`` (which keyring turns into "not found"), and a blob larger
    than ``blob_limit`` bytes (UTF-16) is the un-wrapped ``pywintypes.error(1783)``.

    The store works on a ``with_properties`` copy of the backend; the copy shares the
    credentials, the write log and the blob limit, so a test can change the limit later.

    Attributes:
        credentials: ``target -> DecodingCredential`` (what Credential Manager holds).
        writes: Every successful ``CredWrite``, in order.
    """

    priority = -1  # never chosen by keyring.get_keyring()

    def __init__(self, blob_limit: int = 2560) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._limits = {"blob": blob_limit}
        self.credentials: dict[str, DecodingCredential] = {}
        self.writes: list[CredWrite] = []

    @property
    def blob_limit(self) -> int:
        """The largest blob ``CredWrite`` accepts, in bytes (shared with copies)."""
        return self._limits["blob"]

    @blob_limit.setter
    def blob_limit(self, value: int) -> None:
        self._limits["blob"] = value

    def get_password(self, service: str, username: str) -> str | None:
        value = super().get_password(service, username)  # type: ignore[no-untyped-call]
        return None if value is None else str(value)

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)  # type: ignore[no-untyped-call]

    def delete_password(self, service: str, username: str) -> None:
        super().delete_password(service, username)  # type: ignore[no-untyped-call]

    def _read_credential(self, target: str) -> DecodingCredential | None:
        return self.credentials.get(target)

    def _set_password(self, target: str, username: str, password: str) -> None:
        blob = password.encode("utf-16-le")
        if len(blob) > self.blob_limit:
            raise PyWinTypesError(1783, "CredWrite", "The stub received bad data.")
        persist = getattr(self, "_persist", None)
        self.credentials[target] = DecodingCredential(
            TargetName=target, UserName=username, CredentialBlob=blob, Persist=persist
        )
        self.writes.append(CredWrite(target, username, persist))

    def _delete_password(self, target: str) -> None:
        self.credentials.pop(target, None)

    def usernames(self) -> list[str]:
        """The user name of every stored credential (compound targets included)."""
        return sorted(str(cred["UserName"]) for cred in self.credentials.values())


__all__ = ["CredWrite", "StallingKeyring", "WinVaultLikeKeyring"]
