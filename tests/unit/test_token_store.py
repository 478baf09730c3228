"""Token storage: catalogue section D (cases 45-54) against real and look-alike keyrings."""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.backends.kwallet import DBusKeyring
from keyring.errors import InitError, KeyringError, NoKeyringError, PasswordDeleteError

from kit_desktop.auth.token_store import (
    NO_SECURE_STORAGE,
    SERVICE_NAME,
    SESSION_ONLY,
    KeyringTokenStore,
    KeyringUnavailableError,
    MemoryTokenStore,
    SessionTokenStore,
    StorageTimeoutError,
    TokenStore,
    profile_key,
)
from kit_desktop.errors import (
    CorruptEntryError,
    StorageError,
    StorageLockedError,
    TokenTooLargeError,
)
from tests.helpers.fake_keyrings import (
    CredentialManagerLikeKeyring,
    ForgetfulKeyring,
    HangingKeyring,
    KeychainLikeKeyring,
    LockedKeyring,
    MemoryKeyring,
    PyWinTypesError,
    RaisingKeyring,
    TruncatingKeyring,
)

PROFILE = "https://api.kit.com#test-client"
ENTRY_OVERHEAD = len('{"v":1,"data":{"t":""}}')  # the compact entry around {"t": value}


def make_payload(**extra: Any) -> dict[str, Any]:
    return {
        "access_token": "at-" + secrets.token_urlsafe(24),
        "refresh_token": "rt-" + secrets.token_urlsafe(24),
        "token_type": "Bearer",
        "expires_at": 1_900_000_000.5,
        **extra,
    }


def token_texts(payload: dict[str, Any]) -> list[str]:
    return [payload["access_token"], payload["refresh_token"]]


def session_over(backend: KeyringBackend, **kwargs: Any) -> SessionTokenStore:
    return SessionTokenStore(KeyringTokenStore(PROFILE, backend=backend, **kwargs))


def stored_entry(backend: MemoryKeyring, profile: str = PROFILE) -> str | None:
    return backend.entries.get((SERVICE_NAME, profile))


def warning_of(store: SessionTokenStore) -> StorageError | None:
    """``store.warning``, read afresh (mypy keeps an earlier isinstance narrowing)."""
    return store.warning


def no_keyring() -> KeyringBackend:
    """The real fail backend from keyring: what this machine has by default."""
    return fail.Keyring()  # type: ignore[no-untyped-call]


def disabled_keyring() -> KeyringBackend:
    """The real null backend from keyring (``keyring --disable``)."""
    return null.Keyring()  # type: ignore[no-untyped-call]


def assert_no_secret(payload: dict[str, Any], *texts: str) -> None:
    for text in texts:
        for secret in token_texts(payload):
            assert secret not in text


@pytest.fixture
def hanging() -> Iterator[HangingKeyring]:
    backend = HangingKeyring()
    yield backend
    backend.release.set()


class EmptyChainer(ChainerBackend):
    """The keyring chainer when no recommended backend is viable."""

    priority = -1
    backends: list[KeyringBackend] = []

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class MemoryChainer(ChainerBackend):
    """The keyring chainer with one working child."""

    priority = -1
    backends: list[KeyringBackend] = [MemoryKeyring()]

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed, on purpose)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class FakeKWallet(MemoryKeyring, DBusKeyring):
    """KWallet over D-Bus, by type only."""


class EchoingKeyring(MemoryKeyring):
    """A careless backend that puts the value in its error message."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"could not store {password!r} for {username}")


class StubbornKeyring(MemoryKeyring):
    """Says 'not found' on delete but keeps the entry (a refused delete, macOS style)."""

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("Can't delete password in keychain: (-25244, 'Unknown Error')")


# --- 45: no keyring at all -----------------------------------------------------------------


def test_d45_no_backend_keeps_tokens_in_memory() -> None:
    store = session_over(no_keyring())
    payload = make_payload()

    store.save(payload)

    assert store.load() == payload
    assert isinstance(store.warning, KeyringUnavailableError)
    assert "secure storage is not available" in store.warning.user_message
    assert not store.is_secure
    assert store.location == SESSION_ONLY
    assert_no_secret(payload, str(store.warning), repr(store))


def test_d45_keyring_store_refuses_the_fail_backend() -> None:
    store = KeyringTokenStore(PROFILE, backend=no_keyring())
    with pytest.raises(KeyringUnavailableError):
        store.save(make_payload())
    with pytest.raises(KeyringUnavailableError):
        store.load()
    assert store.location == NO_SECURE_STORAGE
    assert not store.is_secure


def test_d45_next_run_without_keyring_reads_not_connected() -> None:
    store = session_over(no_keyring())
    assert store.load() is None
    assert isinstance(store.warning, KeyringUnavailableError)
    store.delete()  # nothing could have been saved: not an error
    assert store.load() is None


def test_d45_no_keyring_error_from_a_backend_is_unavailable() -> None:
    store = KeyringTokenStore(PROFILE, backend=RaisingKeyring(NoKeyringError("No backend")))
    with pytest.raises(KeyringUnavailableError):
        store.save(make_payload())


# --- 46: the null backend and other backends that keep nothing ----------------------------


def test_d46_null_backend_is_refused_like_no_backend() -> None:
    store = session_over(disabled_keyring())
    payload = make_payload()
    store.save(payload)
    assert store.load() == payload
    assert isinstance(store.warning, KeyringUnavailableError)
    assert "turned off" in store.warning.user_message
    assert store.location == SESSION_ONLY


def test_d46_read_back_catches_a_backend_that_keeps_nothing() -> None:
    store = KeyringTokenStore(PROFILE, backend=ForgetfulKeyring())
    with pytest.raises(StorageError) as caught:
        store.save(make_payload())
    assert type(caught.value) is StorageError
    assert "read-back found nothing" in caught.value.detail


def test_d46_read_back_catches_a_partial_write() -> None:
    backend = TruncatingKeyring()
    payload = make_payload()
    with pytest.raises(StorageError, match="differs"):
        KeyringTokenStore(PROFILE, backend=backend).save(payload)


@pytest.mark.parametrize("backend", [PlaintextKeyring(), EmptyChainer()], ids=["alt", "chain"])
def test_d46_plaintext_and_empty_chainer_are_refused_before_any_call(
    backend: KeyringBackend,
) -> None:
    store = session_over(backend)
    store.save(make_payload())
    assert isinstance(store.warning, KeyringUnavailableError)
    assert getattr(backend, "calls", []) == []


def test_d46_chainer_writes_to_its_first_child() -> None:
    child = MemoryChainer.backends[0]
    assert isinstance(child, MemoryKeyring)
    store = KeyringTokenStore(PROFILE, backend=MemoryChainer())
    store.save(make_payload())
    assert stored_entry(child) is not None
    assert store.is_secure


# --- 47: locked or denied ------------------------------------------------------------------


def test_d47_locked_store_keeps_tokens_in_memory_and_retry_saves_them() -> None:
    backend = LockedKeyring()
    backend.locked = False
    store = session_over(backend)
    old, new = make_payload(), make_payload()
    store.save(old)
    previous = stored_entry(backend)
    backend.locked = True

    store.save(new)

    assert isinstance(store.warning, StorageLockedError)
    assert "Unlock it and click Retry" in store.warning.user_message
    assert store.load() == new
    assert stored_entry(backend) == previous
    assert store.location == SESSION_ONLY
    assert store.retry() is False
    backend.locked = False
    assert store.retry() is True
    assert warning_of(store) is None
    assert KeyringTokenStore(PROFILE, backend=backend).load() == new
    assert store.is_secure


def test_d47_a_locked_store_at_start_reads_not_connected_until_unlocked() -> None:
    backend = LockedKeyring()
    backend.locked = False
    payload = make_payload()
    KeyringTokenStore(PROFILE, backend=backend).save(payload)
    backend.locked = True
    store = session_over(backend)

    assert store.load() is None
    assert isinstance(store.warning, StorageLockedError)
    backend.locked = False
    assert store.load() == payload
    assert warning_of(store) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(-25244, "Keychain Access"), (-25308, "Unlock it and click Retry")],
)
def test_d47_macos_keychain_refusals_are_storage_locked(status: int, expected: str) -> None:
    store = KeyringTokenStore(PROFILE, backend=KeychainLikeKeyring(add_status=status))
    payload = make_payload()
    with pytest.raises(StorageLockedError) as caught:
        store.save(payload)
    assert expected in caught.value.user_message
    assert str(status) in caught.value.detail
    assert store.location == "macOS Keychain"
    assert_no_secret(payload, str(caught.value), repr(caught.value))


def test_d47_error_text_never_holds_the_payload() -> None:
    payload = make_payload()
    with pytest.raises(StorageError) as caught:
        KeyringTokenStore(PROFILE, backend=EchoingKeyring()).save(payload)
    assert "RuntimeError" in caught.value.detail
    assert_no_secret(payload, str(caught.value), repr(caught.value), caught.value.detail)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_d47_init_error_asks_to_set_up_the_keyring() -> None:
    error = InitError("Failed to create the collection: Prompt dismissed..")
    with pytest.raises(StorageError, match="could not be opened"):
        KeyringTokenStore(PROFILE, backend=RaisingKeyring(error)).load()


# --- 48: Windows Credential Manager size limit --------------------------------------------


def entry_of_utf16_bytes(size: int) -> dict[str, Any]:
    """A payload whose stored entry is exactly ``size`` bytes as UTF-16."""
    units = size // 2
    return {"t": "x" * (units - ENTRY_OVERHEAD)}


def test_d48_credwrite_1783_is_token_too_large_and_previous_value_intact() -> None:
    assert not isinstance(PyWinTypesError(1783), KeyringError | OSError)
    backend = CredentialManagerLikeKeyring(blob_limit=1000)
    store = session_over(backend)
    old = make_payload()
    store.save(old)
    big = make_payload(note="y" * 600)

    store.save(big)

    assert isinstance(store.warning, TokenTooLargeError)
    assert "too large for Windows Credential Manager" in store.warning.user_message
    assert store.load() == big
    assert KeyringTokenStore(PROFILE, backend=backend).load() == old
    assert_no_secret(big, str(store.warning))


def test_d48_winerror_1783_is_recognised_on_any_backend() -> None:
    error = PyWinTypesError(1783, "CredWrite", "The stub received bad data.")
    with pytest.raises(TokenTooLargeError):
        KeyringTokenStore(PROFILE, backend=RaisingKeyring(error)).save(make_payload())


def test_d48_length_guard_refuses_before_calling_windows() -> None:
    backend = CredentialManagerLikeKeyring()
    store = KeyringTokenStore(PROFILE, backend=backend)
    with pytest.raises(TokenTooLargeError, match="2562 bytes"):
        store.save(entry_of_utf16_bytes(2562))
    assert backend.calls == []
    store.save(entry_of_utf16_bytes(2560))
    assert len(stored_entry(backend) or "") == 1280
    assert store.location == "Windows Credential Manager"


def test_d48_length_guard_counts_utf16_code_units() -> None:
    backend = CredentialManagerLikeKeyring()
    clef = "\U0001d11e"  # two UTF-16 code units
    payload = {"t": "x" * (1280 - ENTRY_OVERHEAD - 1) + clef}
    with pytest.raises(TokenTooLargeError):
        KeyringTokenStore(PROFILE, backend=backend).save(payload)
    assert backend.calls == []


def test_d52_windows_entries_do_not_roam() -> None:
    backend = CredentialManagerLikeKeyring()
    KeyringTokenStore(PROFILE, backend=backend).save(make_payload())
    assert backend.persisted == [2]  # CRED_PERSIST_LOCAL_MACHINE


# --- 49: partial writes --------------------------------------------------------------------


def test_d49_add_failing_after_delete_keeps_new_tokens_and_next_run_is_not_connected() -> None:
    backend = KeychainLikeKeyring()
    store = session_over(backend)
    store.save(make_payload())
    backend.add_status = -25299
    rotated = make_payload()

    store.save(rotated)

    assert isinstance(store.warning, StorageError)
    assert store.load() == rotated  # the rotated refresh token is not lost this run
    assert stored_entry(backend) is None
    next_run = session_over(backend)
    assert next_run.load() is None
    assert next_run.warning is None


# --- 50: round-trip fidelity ---------------------------------------------------------------


JWT_LIKE = ".".join(secrets.token_urlsafe(n).rstrip("=") for n in (36, 1450, 64))  # about 2 KB


@pytest.mark.parametrize(
    "payload",
    [
        make_payload(access_token="a-_.~+/=b", refresh_token="==+/~._-"),
        make_payload(access_token=JWT_LIKE),
        make_payload(account="Zoë Ünïcödé 東京 🚀", empty=""),
        make_payload(nested={"scopes": ["public", "x"], "n": None, "ok": True}),
        {"lone_surrogate": "a\udcffb"},
        {},
    ],
    ids=["difficult-chars", "jwt-2kb", "unicode", "nested", "surrogate", "empty"],
)
@pytest.mark.parametrize("backend_type", [MemoryKeyring, KeychainLikeKeyring])
def test_d50_round_trip(payload: dict[str, Any], backend_type: type[MemoryKeyring]) -> None:
    store = KeyringTokenStore(PROFILE, backend=backend_type())
    store.save(payload)
    assert store.load() == payload
    assert len(JWT_LIKE) > 2000


def test_d50_a_2kb_token_is_too_large_for_windows() -> None:
    with pytest.raises(TokenTooLargeError):
        KeyringTokenStore(PROFILE, backend=CredentialManagerLikeKeyring()).save(
            make_payload(access_token=JWT_LIKE)
        )


def test_d50_profiles_never_mix() -> None:
    backend = MemoryKeyring()
    real_key = profile_key("https://api.kit.com/v4/oauth/token", "c")
    sandbox_key = profile_key("http://127.0.0.1:5111/oauth/token", "c")
    real = KeyringTokenStore(real_key, backend=backend)
    sandbox = KeyringTokenStore(sandbox_key, backend=backend)
    real.save({"who": "real"})
    assert sandbox.load() is None
    sandbox.save({"who": "sandbox"})
    assert real.load() == {"who": "real"}
    assert KeyringTokenStore("someone-else", backend=backend).load() is None


@settings(deadline=None)  # each example starts a keyring thread; timing is bench's business
@given(
    st.dictionaries(
        st.text(),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
            max_leaves=12,
        ),
    )
)
def test_d50_any_json_payload_round_trips(payload: dict[str, Any]) -> None:
    store = KeyringTokenStore(PROFILE, backend=MemoryKeyring())
    store.save(payload)
    assert store.load() == payload


def test_profile_key_keys_the_sandbox_without_its_port() -> None:
    key = profile_key("http://127.0.0.1:5111/oauth/token", "demo")
    assert key == "sandbox#demo"
    assert profile_key("http://localhost:6222/x", "demo") == key
    assert profile_key("http://[::1]:7/x", "demo") == key


def test_profile_key_keeps_real_origins_apart() -> None:
    assert profile_key("https://API.kit.com:443/v4/oauth/token", "abc") == "https://api.kit.com#abc"
    assert profile_key("https://api.kit.com:8443/t", "abc") == "https://api.kit.com:8443#abc"
    assert profile_key("http://api.kit.com/t", "abc") == "http://api.kit.com#abc"
    assert profile_key("https://api.kit.com/t", "") == "https://api.kit.com"
    assert profile_key("https://api.kit.com/t", "a") != profile_key("https://api.kit.com/t", "b")


@pytest.mark.parametrize("url", ["api.kit.com/token", "", "ftp://api.kit.com/", "https:///x"])
def test_profile_key_rejects_what_is_not_a_url(url: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        profile_key(url, "abc")


# --- 51: no plaintext copy anywhere --------------------------------------------------------


def test_d51_no_file_anywhere_holds_the_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    caplog.set_level(logging.DEBUG)
    payload = make_payload()
    for backend in (no_keyring(), disabled_keyring(), LockedKeyring(), EchoingKeyring()):
        store = session_over(backend)
        store.save(payload)
        assert store.load() == payload
        assert store.warning is not None
        assert_no_secret(payload, str(store.warning), repr(store), store.location)
        if isinstance(store.warning, KeyringUnavailableError):
            store.delete()

    found = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in found:
        assert_no_secret(payload, path.read_text(encoding="utf-8", errors="replace"))
    assert_no_secret(payload, caplog.text)
    assert "kept for this session only" in caplog.text


# --- 53: a hung keyring --------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_d53_hung_keyring_call_returns_within_the_timeout(hanging: HangingKeyring) -> None:
    keyring_store = KeyringTokenStore(PROFILE, backend=hanging, call_timeout=0.2)
    store = SessionTokenStore(keyring_store)
    payload = make_payload()

    store.save(payload)

    assert hanging.entered.is_set()
    assert not hanging.release.is_set()  # returned while the keyring call still hangs
    assert isinstance(store.warning, StorageTimeoutError)
    assert store.load() == payload
    with pytest.raises(StorageTimeoutError, match="stuck"):
        keyring_store.load()
    assert store.retry() is False
    assert hanging.started == 1  # the first call is still stuck: no pile-up of threads

    hanging.release.set()
    assert store.retry() is True
    assert json.loads(stored_entry(hanging) or "")["data"] == payload


# --- 54: delete ----------------------------------------------------------------------------


def test_d54_delete_removes_the_entry_and_a_missing_entry_is_fine() -> None:
    backend = MemoryKeyring()
    store = session_over(backend)
    other = KeyringTokenStore("sandbox#demo", backend=backend)
    store.save(make_payload())
    other.save({"keep": "me"})

    store.delete()
    store.delete()

    assert store.load() is None
    assert stored_entry(backend) is None
    assert other.load() == {"keep": "me"}
    assert store.is_secure


def test_d54_delete_that_leaves_the_entry_behind_raises() -> None:
    backend = StubbornKeyring()
    store = session_over(backend)
    store.save(make_payload())
    with pytest.raises(StorageError, match="could not remove"):
        store.delete()
    assert store.load() is None  # disconnected for this run all the same
    assert stored_entry(backend) is not None


def test_d54_delete_on_a_locked_keyring_raises_storage_locked() -> None:
    backend = LockedKeyring()
    with pytest.raises(StorageLockedError, match="could not remove"):
        KeyringTokenStore(PROFILE, backend=backend).delete()


# --- corrupt entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "",
        "[1, 2]",
        '{"data": {}}',
        '{"v": 1}',
        '{"v": true, "data": {}}',
        '{"v": "1", "data": {}}',
        '{"v": 1, "data": [1]}',
        "[" * 100_000,
    ],
)
def test_corrupt_entry_reads_as_not_connected_and_is_left_alone(raw: str) -> None:
    backend = MemoryKeyring()
    backend.entries[(SERVICE_NAME, PROFILE)] = raw
    store = session_over(backend)
    with pytest.raises(CorruptEntryError) as caught:
        store.load()
    assert "connect again" in caught.value.user_message
    assert stored_entry(backend) == raw
    assert store.warning is None
    assert store.retry() is True
    payload = make_payload()
    store.save(payload)
    assert store.load() == payload


def test_an_entry_from_a_newer_version_says_so() -> None:
    backend = MemoryKeyring()
    backend.entries[(SERVICE_NAME, PROFILE)] = '{"v": 2, "data": {}}'
    with pytest.raises(CorruptEntryError, match="newer version"):
        KeyringTokenStore(PROFILE, backend=backend).load()


# --- the stores themselves -----------------------------------------------------------------


def test_memory_store_keeps_a_private_copy() -> None:
    store: TokenStore = MemoryTokenStore()
    payload = make_payload(scopes=["a"])
    assert store.load() is None
    store.save(payload)
    payload["scopes"].append("b")
    loaded = store.load()
    assert loaded is not None and loaded["scopes"] == ["a"]
    assert store.location == SESSION_ONLY and not store.is_secure
    assert_no_secret(payload, repr(store))
    store.delete()
    assert store.load() is None


def test_stores_satisfy_the_protocol() -> None:
    stores: list[TokenStore] = [
        MemoryTokenStore(),
        KeyringTokenStore(PROFILE, backend=MemoryKeyring()),
        session_over(MemoryKeyring()),
    ]
    for store in stores:
        store.save({"a": 1})
        assert store.load() == {"a": 1}
        store.delete()
        assert store.load() is None


def test_good_keyring_is_secure_and_named() -> None:
    store = session_over(MemoryKeyring())
    store.save(make_payload())
    assert store.is_secure and store.warning is None
    assert store.location == "fake keyrings MemoryKeyring"  # keyring's own display name
    assert KeyringTokenStore(PROFILE, backend=FakeKWallet()).location == "KWallet"


def test_a_payload_that_is_not_json_is_a_programming_error() -> None:
    backend = MemoryKeyring()
    store = session_over(backend)
    with pytest.raises(TypeError):
        store.save({"when": object()})
    with pytest.raises(ValueError, match="JSON"):
        store.save({"n": float("nan")})
    assert backend.calls == [] and store.warning is None


def test_unknown_errors_become_storage_errors() -> None:
    with pytest.raises(StorageError, match="ZeroDivisionError"):
        KeyringTokenStore(PROFILE, backend=RaisingKeyring(ZeroDivisionError())).load()


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="profile"):
        KeyringTokenStore("")
    with pytest.raises(ValueError, match="call_timeout"):
        KeyringTokenStore(PROFILE, call_timeout=0)
