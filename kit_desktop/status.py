"""Small plain values shared by the core and the window (no dependencies, cheap to import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StorageInfo:
    """Where the tokens live, and why not securely when they don't."""

    location: str
    secure: bool
    warning: str | None = None
