"""Real parts (Secret Service, Chromium, Xvfb): skip on a developer machine, fail in CI."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """Whether the tests run in CI, where every real part must be present."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    """Skip (developer machine) or fail (CI) when a real part is missing."""
    if available:
        return
    message = f"{what} is not available"
    if in_ci():
        pytest.fail(f"{message}, and CI must run this test", pytrace=False)
    pytest.skip(message)
