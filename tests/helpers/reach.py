"""A stand-in for "Kit can be reached", for sessions configured with Kit's real addresses.

Real Kit cannot be reached from the test machine (no internet), so a session whose
settings name Kit's endpoints would stop at the reachability check before binding its
port. Tests about the loopback side (ports, state, PKCE) pass :func:`kit_is_reachable`
as the session's ``reach``; the check itself is tested against real sockets in
``tests/qt/test_kit_unreachable.py``.
"""

from __future__ import annotations


def kit_is_reachable(url: str) -> None:
    """Say Kit's sign-in page at ``url`` can be reached (nothing is contacted)."""
