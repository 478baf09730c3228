"""When access is renewed: the policy alone, at any clock value, with no timer."""

from __future__ import annotations

from dataclasses import replace

from kit_desktop import transitions as step
from kit_desktop.auth.tokenset import EXPIRY_MARGIN
from kit_desktop.errors import ReconnectNeededError
from kit_desktop.renewal import RENEW_BACKOFF, RenewalPolicy
from kit_desktop.state import AccountView, SessionView, StorageView, TokenView

EXPIRES = 10_000.0
DUE = EXPIRES - EXPIRY_MARGIN


def connected(expires_at: float | None = EXPIRES) -> SessionView:
    tokens = TokenView("access", "Bearer", None, 0.0, expires_at, None)
    return step.connected(
        SessionView(),
        tokens=tokens,
        storage=StorageView("keyring", True, None),
        account=AccountView("Ada", ""),
    )


def test_due_from_the_margin_before_expiry() -> None:
    policy = RenewalPolicy()
    assert not policy.due(DUE - 1, connected())
    assert policy.due(DUE, connected())
    assert policy.due(EXPIRES + 3600, connected())  # long expired (a sleeping laptop)


def test_never_due_when_it_must_not_run() -> None:
    policy = RenewalPolicy()
    view = connected()
    assert not policy.due(DUE, replace(view, auto_renew=False))
    assert not policy.due(DUE, step.refresh_started(view))
    assert not policy.due(DUE, step.renewing(view))
    assert not policy.due(DUE, view, disconnecting=True)
    assert not policy.due(DUE, connected(expires_at=None))  # a token that never expires
    assert not policy.due(DUE, step.not_connected(view))
    assert not policy.due(DUE, step.reconnect_needed(view, ReconnectNeededError()))


def test_failures_back_off_30s_1min_2min_then_every_5min() -> None:
    policy = RenewalPolicy()
    now = DUE
    waits = []
    for _ in range(6):
        assert policy.due(now, connected())
        next_try = policy.failed(now)
        waits.append(next_try - now)
        assert not policy.due(next_try - 0.001, connected())
        now = next_try
    assert waits == [30.0, 60.0, 120.0, 300.0, 300.0, 300.0]
    assert tuple(waits[:4]) == RENEW_BACKOFF


def test_a_success_starts_the_back_off_over() -> None:
    policy = RenewalPolicy()
    policy.failed(DUE)
    policy.failed(DUE + 30)
    policy.succeeded(DUE + 40)
    assert policy.last_renewed == DUE + 40
    assert policy.due(DUE + 40, connected())  # the next failure waits 30 s again
    assert policy.failed(DUE + 41) == DUE + 71
    policy.new_connection()
    assert policy.last_renewed is None
