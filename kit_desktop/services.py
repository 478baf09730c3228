"""Build the core services for one set of settings: OAuth client, token store, manager, API."""

from __future__ import annotations

from dataclasses import dataclass

from keyring.backend import KeyringBackend

from kit_desktop.api.client import KitApiClient
from kit_desktop.auth.change_stamp import stamp_beside
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.refresh_lock import lock_for_profile
from kit_desktop.auth.token_store import KeyringTokenStore, SessionTokenStore, profile_key
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.config import Settings
from kit_desktop.http import new_session


@dataclass(frozen=True)
class Services:
    """Everything the CLI and the window use to talk to Kit."""

    settings: Settings
    oauth: OAuthClient
    store: SessionTokenStore
    tokens: TokenManager
    api: KitApiClient


def build_services(settings: Settings, *, backend: KeyringBackend | None = None) -> Services:
    """Wire the services for ``settings`` (which must have a client ID).

    Args:
        settings: The configured Kit app (or the sandbox, via ``Settings.with_sandbox``).
        backend: The keyring backend (default: keyring's choice for this computer).
    """
    session = new_session()
    oauth = OAuthClient(settings, session=session)
    profile = profile_key(settings.token_url, oauth.client_id)
    store = SessionTokenStore(KeyringTokenStore(profile, backend=backend))
    lock = lock_for_profile(profile)
    tokens = TokenManager(oauth, store, process_lock=lock, changes=stamp_beside(lock.path))
    return Services(settings, oauth, store, tokens, KitApiClient(settings, tokens, session=session))
