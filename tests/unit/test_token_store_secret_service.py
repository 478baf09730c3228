"""Token storage against a real Secret Service (gnome-keyring in tests/run-suite.sh's session)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService

from kit_desktop.auth.keyring_backends import default_backend
from kit_desktop.auth.token_store import (
    SERVICE_NAME,
    KeyringTokenStore,
    SessionTokenStore,
)
from kit_desktop.errors import CorruptEntryError
from tests.helpers.realparts import require

pytestmark = pytest.mark.real_keyring

WHAT = "a Secret Service (gnome-keyring on D-Bus)"


def _provider_home() -> Path | None:
    """HOME of the process that owns org.freedesktop.secrets on the session bus."""
    try:
        import jeepney  # type: ignore[import-untyped]
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        query = jeepney.message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets")
        with open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(query, timeout=2.0)
        pid = int(jeepney.wrappers.unwrap_msg(reply)[0])
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except Exception:
        return None
    for item in environ:
        if item.startswith(b"HOME="):
            return Path(os.fsdecode(item[5:])).resolve()
    return None


def _throwaway_secret_service() -> bool:
    """Whether a Secret Service runs here, in a session whose HOME is a temporary folder.

    That is what tests/run-suite.sh sets up; a developer's own keyring never qualifies.
    """
    try:
        SecretService.Keyring.priority  # noqa: B018  # raises when there is no service
    except Exception:
        return False
    home = Path(os.environ.get("HOME", "/")).resolve()
    temp = Path(tempfile.gettempdir()).resolve()
    return _provider_home() == home and home.is_relative_to(temp) and home != temp


@pytest.fixture
def secret_service() -> KeyringBackend:
    """The real backend, only inside a throwaway session (never a developer's keyring)."""
    require(_throwaway_secret_service(), WHAT)
    return SecretService.Keyring()  # type: ignore[no-untyped-call]


@pytest.fixture
def profile(secret_service: KeyringBackend) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex}"
    yield name
    KeyringTokenStore(name, backend=secret_service).delete()


def make_payload() -> dict[str, Any]:
    return {
        "access_token": secrets.token_urlsafe(32),
        "refresh_token": secrets.token_urlsafe(32) + "-_.~+/=",
        "account": "Zoë 🚀",
        "jwt_like": secrets.token_urlsafe(3000),  # no Windows-style limit here
    }


def test_real_secret_service_round_trip_and_delete(
    secret_service: KeyringBackend, profile: str
) -> None:
    store = KeyringTokenStore(profile, backend=secret_service)
    payload = make_payload()
    assert store.location == "GNOME Keyring"
    assert store.load() is None

    store.save(payload)

    assert store.load() == payload
    fresh = KeyringTokenStore(profile, backend=SecretService.Keyring())  # type: ignore[no-untyped-call]
    assert fresh.load() == payload
    session = SessionTokenStore(fresh)
    assert session.load() == payload
    assert session.is_secure and session.location == "GNOME Keyring"
    session.delete()
    assert store.load() is None
    assert secret_service.get_password(SERVICE_NAME, profile) is None
    store.delete()


def test_real_secret_service_is_the_default_backend_here(profile: str) -> None:
    store = KeyringTokenStore(profile)
    assert store.location == "GNOME Keyring"
    assert "SecretService" in type(keyring.get_keyring()).__module__
    store.save({"a": "b"})
    assert KeyringTokenStore(profile).load() == {"a": "b"}


def test_real_secret_service_corrupt_entry_is_left_alone(
    secret_service: KeyringBackend, profile: str
) -> None:
    secret_service.set_password(SERVICE_NAME, profile, "not json")
    store = SessionTokenStore(KeyringTokenStore(profile, backend=secret_service))
    with pytest.raises(CorruptEntryError):
        store.load()
    assert secret_service.get_password(SERVICE_NAME, profile) == "not json"
    store.save({"fresh": "tokens"})
    assert store.load() == {"fresh": "tokens"}


@pytest.fixture
def fresh_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Keyring as in a new process: nothing chosen yet, no variable, an empty config folder."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "python_keyring" / "keyringrc.cfg"


def test_the_quick_choice_is_keyrings_own_choice(
    secret_service: KeyringBackend, fresh_choice: Path
) -> None:
    quick = default_backend()
    assert isinstance(quick, SecretService.Keyring)
    assert keyring.get_keyring() is quick, "later calls in this process agree"
    keyring.core._keyring_backend = None
    assert type(keyring.core._detect_backend()) is type(quick)  # keyring's full search


def test_a_configured_backend_wins_over_the_quick_choice(
    secret_service: KeyringBackend, fresh_choice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    assert type(default_backend()).__module__ == "keyring.backends.null"
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    keyring.core._keyring_backend = None
    fresh_choice.parent.mkdir(parents=True)
    fresh_choice.write_text("[backend]\ndefault-keyring=keyring.backends.fail.Keyring\n")
    assert type(default_backend()).__module__ == "keyring.backends.fail"
    chosen = SecretService.Keyring()  # type: ignore[no-untyped-call]
    keyring.set_keyring(chosen)
    assert default_backend() is chosen


def test_the_quick_choice_skips_keyrings_search(
    secret_service: KeyringBackend, tmp_path: Path
) -> None:
    """In a new process: the Secret Service, and none of the back-ends Linux cannot use."""
    code = (
        "import sys\n"
        "from kit_desktop.auth.keyring_backends import default_backend\n"
        "print(type(default_backend()).__module__)\n"
        "print(sorted(m for m in sys.modules if m.startswith('keyring.backends.')))\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    chosen, loaded = done.stdout.splitlines()
    assert chosen == "keyring.backends.SecretService"
    assert "macOS" not in loaded and "Windows" not in loaded and "kwallet" not in loaded
