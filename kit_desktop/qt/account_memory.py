"""Who the saved connection belongs to, remembered between runs (names, never secrets).

When Kit refuses a saved connection at launch, the app cannot ask Kit who it was for; a
creator with more than one Kit account still needs to know which one to reconnect. The
name and email Kit last gave are kept in the app's settings file (0600), one entry per
connection profile, and forgotten on Disconnect.
"""

from __future__ import annotations

import zlib

from PySide6.QtCore import QSettings

from kit_desktop.state import AccountView


class AccountMemory:
    """Remembers the account of one connection profile in ``settings_store``.

    Args:
        settings_store: The app's settings.
        profile: The connection profile (its keyring key).
    """

    def __init__(self, settings_store: QSettings, profile: str) -> None:
        self._settings = settings_store
        self._key = f"accounts/{zlib.crc32(profile.encode('utf-8')):08x}"

    def recall(self) -> AccountView | None:
        """The account last connected with this profile, if any."""
        name = self._settings.value(f"{self._key}/name", "", type=str)
        email = self._settings.value(f"{self._key}/email", "", type=str)
        if not isinstance(name, str) or not isinstance(email, str) or not (name or email):
            return None
        return AccountView(name, email)

    def remember(self, account: AccountView) -> None:
        """Keep ``account`` as this profile's."""
        self._settings.setValue(f"{self._key}/name", account.name)
        self._settings.setValue(f"{self._key}/email", account.email)
        self._settings.sync()

    def forget(self) -> None:
        """Forget this profile's account (after Disconnect)."""
        self._settings.remove(self._key)
        self._settings.sync()
