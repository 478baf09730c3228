"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit_desktop.sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A real sandbox on an ephemeral port, auto-approving consent."""
    with SandboxServer(auto_approve=True, token_lifetime=7200) as server:
        yield server
