"""TokenManager against the real sandbox: catalogue 37-42 (refresh, rotation, single flight)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.auth.refresh_lock import ProcessLock
from kit_desktop.auth.token_store import MemoryTokenStore
from kit_desktop.auth.tokens import TokenManager
from kit_desktop.auth.tokenset import TokenSet
from kit_desktop.config import Settings
from kit_desktop.errors import (
    CorruptEntryError,
    KitError,
    KitTimeoutError,
    MalformedResponseError,
    NetworkError,
    NotConnectedError,
    ReconnectNeededError,
    ServerError,
    StorageError,
    StorageLockedError,
)
from kit_desktop.http import Timeouts
from kit_desktop.sandbox import SandboxServer
from kit_desktop.sandbox.faults import Fault
from tests.helpers import flow
from tests.helpers.flow import REDIRECT_URI

TOKEN_PATH = "/v4/oauth/token"
LIFETIME = 3600
DEFAULT_TIMEOUTS = Timeouts(2, 2)


class FakeClock:
    """One wall clock for the sandbox, the client and the manager; moved by hand."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@dataclass
class RecordingStore:
    """A MemoryTokenStore that logs every call and can be told to fail."""

    inner: MemoryTokenStore = field(default_factory=MemoryTokenStore)
    events: list[tuple[str, str | None]] = field(default_factory=list)
    save_error: StorageError | None = None
    load_error: StorageError | None = None
    delete_error: StorageError | None = None
    on_save: Callable[[Mapping[str, Any]], None] | None = None

    @property
    def location(self) -> str:
        return "recording"

    @property
    def is_secure(self) -> bool:
        return False

    @property
    def warning(self) -> StorageError | None:
        return None

    def save(self, payload: Mapping[str, Any]) -> None:
        self.events.append(("save", payload.get("access_token")))
        if self.on_save is not None:
            self.on_save(payload)
        if self.save_error is not None:
            raise self.save_error
        self.inner.save(payload)

    def load(self) -> dict[str, Any] | None:
        self.events.append(("load", None))
        if self.load_error is not None:
            raise self.load_error
        return self.inner.load()

    def delete(self) -> None:
        self.events.append(("delete", None))
        if self.delete_error is not None:
            raise self.delete_error
        self.inner.delete()

    def stored(self) -> TokenSet | None:
        payload = self.inner.load()
        return None if payload is None else TokenSet.from_payload(payload)


class RecordingClient:
    """The real OAuthClient, noting which refresh tokens it was asked to send."""

    def __init__(self, client: OAuthClient) -> None:
        self.client = client
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def refresh(self, refresh_token: str) -> TokenSet:
        with self._lock:
            self.sent.append(refresh_token)
        return self.client.refresh(refresh_token)


@dataclass
class World:
    server: SandboxServer
    clock: FakeClock
    oauth: OAuthClient
    client: RecordingClient
    store: RecordingStore
    manager: TokenManager
    first: TokenSet

    @property
    def requests(self) -> int:
        return self.server.oauth.token_requests

    def manager_for(self, store: Any = None, timeouts: Timeouts | None = None) -> TokenManager:
        client = self.client
        if timeouts is not None:
            client = RecordingClient(self.new_oauth(timeouts))
        return TokenManager(client, store or self.store, clock=self.clock)

    def new_oauth(self, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> OAuthClient:
        settings = Settings().with_sandbox(self.server.base_url)
        return OAuthClient(settings, clock=self.clock, timeouts=timeouts)

    def expire(self) -> None:
        """Move the clock to where the current access token has expired."""
        tokens = self.manager.tokens
        assert tokens is not None
        assert tokens.expires_at is not None
        self.clock.now = tokens.expires_at + 1


def connect(server: SandboxServer, client: OAuthClient) -> TokenSet:
    attempt = client.new_attempt(REDIRECT_URI)
    response = requests.get(attempt.url, allow_redirects=False, timeout=5)
    query = flow.location_params(response)
    assert query["state"] == attempt.state
    return client.exchange(query["code"], attempt.verifier, REDIRECT_URI)


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock()
    with SandboxServer(auto_approve=True, clock=clock, token_lifetime=LIFETIME) as server:
        settings = Settings().with_sandbox(server.base_url)
        oauth = OAuthClient(settings, clock=clock, timeouts=DEFAULT_TIMEOUTS)
        client = RecordingClient(oauth)
        store = RecordingStore()
        manager = TokenManager(client, store, clock=clock)
        first = connect(server, oauth)
        manager.adopt(first)
        store.events.clear()
        yield World(server, clock, oauth, client, store, manager, first)


def tokens_of(manager: TokenManager) -> TokenSet | None:
    """``manager.tokens``, read afresh (mypy keeps an earlier ``==`` narrowing)."""
    return manager.tokens


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds (a waitUntil, not a sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        pause.wait(0.005)


def works_on_the_api(world: World, tokens: TokenSet) -> bool:
    response = flow.api_get(world.server.base_url, tokens.access_token, "/v4/account")
    return response.status_code == 200


# --- the plain path -------------------------------------------------------------------------


def test_adopt_stores_then_hands_out(world: World) -> None:
    assert world.manager.tokens == world.first
    assert world.store.stored() == world.first
    assert world.first.expires_at == world.clock.now + LIFETIME


def test_valid_tokens_returns_current_when_fresh(world: World) -> None:
    before = world.requests
    assert world.manager.valid_tokens() is world.first
    world.clock.now += LIFETIME - 61
    assert world.manager.valid_tokens() is world.first
    assert world.requests == before
    assert world.manager.refresh_count == 0
    assert world.store.events == []


def test_c42_refreshes_within_the_margin(world: World) -> None:
    before = world.requests
    world.clock.now = (world.first.expires_at or 0) - 59
    new = world.manager.valid_tokens()
    assert new.access_token != world.first.access_token
    assert world.requests == before + 1
    assert new.expires_at == world.clock.now + LIFETIME
    assert works_on_the_api(world, new)
    assert world.manager.valid_tokens() is new
    assert world.requests == before + 1


def test_tokens_load_from_the_store_on_first_use(world: World) -> None:
    other = world.manager_for()
    assert other.tokens == world.first
    assert other.valid_tokens() == world.first


def test_not_connected_when_the_store_is_empty(world: World) -> None:
    manager = world.manager_for(RecordingStore())
    assert tokens_of(manager) is None
    with pytest.raises(NotConnectedError):
        manager.valid_tokens()
    with pytest.raises(NotConnectedError):
        manager.refresh()


# --- 41: single flight ------------------------------------------------------------------------


def test_c41_ten_threads_one_refresh(world: World) -> None:
    world.expire()
    before = world.requests
    # Keep the one refresh in flight a moment so the other nine really have to wait for it.
    world.server.set_fault(TOKEN_PATH, Fault("delay", seconds=0.05, times=1))
    barrier = threading.Barrier(10)
    results: list[TokenSet] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            barrier.wait(5)
            tokens = world.manager.valid_tokens()
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(tokens)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(results) == 10
    assert world.requests == before + 1
    assert world.manager.refresh_count == 1
    assert len({tokens.access_token for tokens in results}) == 1
    assert results[0].access_token != world.first.access_token
    assert world.store.stored() == results[0]
    assert works_on_the_api(world, results[0])


def test_c41_refresh_with_a_stale_access_token_reuses_the_new_one(world: World) -> None:
    renewed = world.manager.refresh()
    before = world.requests
    again = world.manager.refresh(stale_access_token=world.first.access_token)
    assert again is renewed
    assert world.requests == before


def test_c41_refresh_with_the_current_access_token_goes_to_the_network(world: World) -> None:
    before = world.requests
    renewed = world.manager.refresh(stale_access_token=world.first.access_token)
    assert renewed.access_token != world.first.access_token
    assert world.requests == before + 1


# --- 37: rotation, stored before handed out --------------------------------------------------


def test_c37_new_tokens_are_stored_before_they_are_returned(world: World) -> None:
    seen_in_memory: list[str | None] = []

    def on_save(payload: Mapping[str, Any]) -> None:
        current = world.manager.tokens  # same thread: the manager's lock is re-entrant
        seen_in_memory.append(None if current is None else current.access_token)

    world.store.on_save = on_save
    world.expire()
    new = world.manager.valid_tokens()
    assert world.store.events == [("save", new.access_token)]
    assert seen_in_memory == [world.first.access_token]  # not handed out yet while saving
    assert world.store.stored() == new
    assert new.refresh_token not in (None, world.first.refresh_token)


def test_c37_old_refresh_token_is_never_sent_again(world: World) -> None:
    issued = [world.first]
    for _ in range(4):
        world.expire()
        issued.append(world.manager.valid_tokens())
    assert world.client.sent == [tokens.refresh_token for tokens in issued[:-1]]
    assert len(set(world.client.sent)) == len(world.client.sent)
    assert world.store.stored() == issued[-1]
    # The sandbox agrees: every earlier refresh token is dead, the last one works.
    for tokens in issued[:-1]:
        with pytest.raises(ReconnectNeededError):
            world.oauth.refresh(tokens.refresh_token or "")


def test_c37_server_without_rotation_keeps_the_refresh_token() -> None:
    clock = FakeClock()
    with SandboxServer(
        auto_approve=True, clock=clock, token_lifetime=LIFETIME, rotate_refresh_tokens=False
    ) as server:
        oauth = OAuthClient(Settings().with_sandbox(server.base_url), clock=clock)
        store = RecordingStore()
        manager = TokenManager(oauth, store, clock=clock)
        first = connect(server, oauth)
        manager.adopt(first)
        clock.now = (first.expires_at or 0) + 1
        new = manager.valid_tokens()
        assert new.access_token != first.access_token
        assert new.refresh_token == first.refresh_token
        assert store.stored() == new


# --- 38: invalid_grant ------------------------------------------------------------------------


def test_c38_invalid_grant_forgets_the_tokens(world: World) -> None:
    world.oauth.revoke(world.first.refresh_token or "", "refresh_token")
    world.expire()
    before = world.requests
    with pytest.raises(ReconnectNeededError) as caught:
        world.manager.valid_tokens()
    assert "reconnect" in caught.value.user_message.lower()
    assert world.requests == before + 1
    assert tokens_of(world.manager) is None
    assert world.store.inner.load() is None
    assert ("delete", None) in world.store.events
    with pytest.raises(NotConnectedError):
        world.manager.valid_tokens()
    assert world.requests == before + 1


def test_c38_missing_refresh_token_forgets_without_a_request(world: World) -> None:
    world.manager.adopt(world.first.with_refresh_token(None))
    world.expire()
    before = world.requests
    with pytest.raises(ReconnectNeededError):
        world.manager.valid_tokens()
    assert world.requests == before
    assert tokens_of(world.manager) is None
    assert world.store.inner.load() is None


def test_c41_another_instance_rotated_the_tokens(world: World) -> None:
    """Manager B holds the old tokens; A refreshed and stored new ones in the shared store."""
    a, b = world.manager, world.manager_for()
    assert b.tokens == world.first
    world.expire()
    before = world.requests
    renewed = a.valid_tokens()
    assert world.requests == before + 1
    adopted = b.valid_tokens()  # old refresh token -> invalid_grant -> re-read the store
    assert adopted == renewed
    assert world.requests == before + 2
    assert b.tokens == renewed
    assert world.store.stored() == renewed
    assert b.valid_tokens() == renewed
    assert world.requests == before + 2


def test_c41_another_instance_rotated_and_those_expired_too(world: World) -> None:
    a, b = world.manager, world.manager_for()
    assert b.tokens == world.first
    world.expire()
    renewed = a.valid_tokens()
    world.clock.now = (renewed.expires_at or 0) + 1
    before = world.requests
    latest = b.valid_tokens()  # invalid_grant, adopt the stored ones, refresh those once
    assert world.requests == before + 2
    assert latest.access_token not in (world.first.access_token, renewed.access_token)
    assert world.store.stored() == latest
    assert works_on_the_api(world, latest)


def test_c38_store_re_read_that_also_fails_forgets(world: World) -> None:
    a, b = world.manager, world.manager_for()
    assert b.tokens == world.first
    world.expire()
    renewed = a.valid_tokens()
    world.oauth.revoke(renewed.refresh_token or "", "refresh_token")
    world.clock.now = (renewed.expires_at or 0) + 1
    before = world.requests
    with pytest.raises(ReconnectNeededError):
        b.valid_tokens()
    assert world.requests == before + 2
    assert tokens_of(b) is None
    assert world.store.inner.load() is None


# --- 39: transient errors keep the tokens ---------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [
        (Fault("status", status=503, times=1), ServerError),
        (Fault("status", status=500, times=1), ServerError),
        (Fault("status", status=502, times=1), ServerError),
        (Fault("status", status=429, times=1), ServerError),
        (Fault("drop", times=1), NetworkError),
        (Fault("html", times=1), MalformedResponseError),
        (Fault("malformed", times=1), MalformedResponseError),
    ],
    ids=["503", "500", "502", "429", "drop", "html", "malformed"],
)
def test_c39_transient_errors_keep_the_tokens(
    world: World, fault: Fault, error_class: type[KitError]
) -> None:
    world.expire()
    world.server.set_fault(TOKEN_PATH, fault)
    with pytest.raises(error_class):
        world.manager.valid_tokens()
    assert world.manager.tokens == world.first
    assert world.store.stored() == world.first
    assert ("delete", None) not in world.store.events
    assert world.manager.warning is None
    # The refresh token is still good: the next attempt works.
    renewed = world.manager.valid_tokens()
    assert world.client.sent == [world.first.refresh_token, world.first.refresh_token]
    assert world.store.stored() == renewed


def test_c39_timeout_keeps_the_tokens(world: World) -> None:
    manager = world.manager_for(timeouts=Timeouts(1, 0.2))
    world.expire()
    world.server.set_fault(TOKEN_PATH, Fault("delay", seconds=0.5, times=1))
    before = world.requests
    with pytest.raises(KitTimeoutError):
        manager.valid_tokens()
    assert manager.tokens == world.first
    assert world.store.stored() == world.first
    assert ("delete", None) not in world.store.events
    wait_until(lambda: world.requests == before + 1)  # the slow request lands on the server


# --- 40: the refresh response is lost ---------------------------------------------------------


def test_c40_lost_refresh_response_then_reconnect_without_a_loop(world: World) -> None:
    world.expire()
    world.server.set_fault(TOKEN_PATH, Fault("drop_after", times=1))
    before = world.requests
    with pytest.raises(NetworkError):
        world.manager.valid_tokens()  # the server rotated, the answer never arrived
    assert world.requests == before + 1
    assert world.manager.tokens == world.first
    assert world.store.stored() == world.first
    with pytest.raises(ReconnectNeededError):
        world.manager.valid_tokens()  # the old refresh token is now refused: clean sign-out
    assert world.requests == before + 2
    assert tokens_of(world.manager) is None
    assert world.store.inner.load() is None
    with pytest.raises(NotConnectedError):
        world.manager.valid_tokens()
    assert world.requests == before + 2
    assert world.client.sent == [world.first.refresh_token, world.first.refresh_token]


# --- 42: clock jumps ---------------------------------------------------------------------------


def test_c42_clock_jumps_forward_a_day(world: World) -> None:
    world.clock.now += 86_400
    before = world.requests
    renewed = world.manager.valid_tokens()
    assert world.requests == before + 1
    assert renewed.expires_at == world.clock.now + LIFETIME
    for _ in range(3):
        assert world.manager.valid_tokens() is renewed
    assert world.requests == before + 1


def test_c42_clock_jumps_back_and_a_401_still_refreshes(world: World) -> None:
    world.clock.now -= 86_400
    before = world.requests
    assert world.manager.valid_tokens() is world.first  # not known to be expired
    assert world.requests == before
    world.server.oauth.expire_access_token(world.first.access_token)
    assert not works_on_the_api(world, world.first)  # the API says 401
    renewed = world.manager.refresh(stale_access_token=world.first.access_token)
    assert world.requests == before + 1
    assert renewed.access_token != world.first.access_token
    assert works_on_the_api(world, renewed)


# --- storage trouble ---------------------------------------------------------------------------


@pytest.mark.expected_log(r"^tokens kept in memory only: ", logger="kit_desktop.auth.tokens")
def test_storage_error_on_save_keeps_new_tokens_in_memory(world: World) -> None:
    problem = StorageLockedError(detail="test: locked")
    world.store.save_error = problem
    world.expire()
    renewed = world.manager.valid_tokens()
    assert renewed.access_token != world.first.access_token
    assert world.manager.tokens == renewed
    assert world.manager.warning is problem
    assert world.store.stored() == world.first  # the save never reached the store
    assert world.manager.valid_tokens() is renewed
    assert world.manager.refresh_count == 1


@pytest.mark.expected_log(r"^tokens kept in memory only: ", logger="kit_desktop.auth.tokens")
def test_storage_error_on_adopt_keeps_tokens_in_memory(world: World) -> None:
    world.store.save_error = StorageError(detail="test: no keyring")
    other = connect(world.server, world.oauth)
    world.manager.adopt(other)
    assert world.manager.tokens == other
    assert isinstance(world.manager.warning, StorageError)


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 1, "access_token": "", "received_at": 1.0},
        {"v": 99, "access_token": "abc", "received_at": 1.0},
        {"v": 1, "access_token": "abc", "received_at": 10**400},
        {"unrelated": True},
    ],
)
def test_corrupt_stored_entry_reads_as_not_connected(world: World, payload: dict[str, Any]) -> None:
    store = RecordingStore()
    store.inner.save(payload)
    manager = world.manager_for(store)
    assert tokens_of(manager) is None
    assert isinstance(manager.warning, CorruptEntryError)
    with pytest.raises(NotConnectedError):
        manager.valid_tokens()


def test_unreadable_store_reads_as_not_connected(world: World) -> None:
    store = RecordingStore(load_error=CorruptEntryError(detail="test: not JSON"))
    manager = world.manager_for(store)
    assert tokens_of(manager) is None
    assert isinstance(manager.warning, CorruptEntryError)
    locked = RecordingStore(load_error=StorageLockedError(detail="test: locked"))
    manager = world.manager_for(locked)
    assert tokens_of(manager) is None
    assert isinstance(manager.warning, StorageLockedError)


def test_forget_clears_memory_and_store(world: World) -> None:
    world.manager.forget()
    assert tokens_of(world.manager) is None
    assert world.store.inner.load() is None


@pytest.mark.expected_log(r"^could not delete stored tokens: ", logger="kit_desktop.auth.tokens")
def test_forget_with_a_failing_store_still_forgets_in_memory(world: World) -> None:
    world.store.delete_error = StorageLockedError(detail="test: locked")
    world.manager.forget()
    assert tokens_of(world.manager) is None
    assert world.manager.warning is world.store.delete_error


def test_a_fresh_process_keeping_new_tokens_reads_the_store_once(
    world: World, tmp_path: Path
) -> None:
    """A command that never loaded tokens reads the saved ones once, under the lock."""
    new = connect(world.server, world.oauth)
    store = RecordingStore(inner=world.store.inner)
    manager = TokenManager(
        world.client, store, clock=world.clock, process_lock=ProcessLock(tmp_path / "lock")
    )

    replaced = manager.replace(new)

    assert [event for event, _ in store.events] == ["load", "save"]
    assert [tokens.access_token for tokens in replaced] == [world.first.access_token]
    assert tokens_of(manager) == new and store.stored() == new
