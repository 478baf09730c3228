"""PKCE (RFC 7636, S256 only) and ``state`` values, from ``secrets`` alone."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

METHOD = "S256"
DEFAULT_VERIFIER_BYTES = 64
STATE_BYTES = 32
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_verifier(nbytes: int = DEFAULT_VERIFIER_BYTES) -> str:
    """Return a new code verifier: ``nbytes`` random bytes, base64url (86 chars by default).

    Raises:
        ValueError: The verifier would fall outside RFC 7636's 43 to 128 characters.
    """
    length = (nbytes * 8 + 5) // 6
    if not 43 <= length <= 128:
        raise ValueError(f"A verifier of {nbytes} bytes is {length} characters; 43-128 needed.")
    return _b64url(secrets.token_bytes(nbytes))


def code_challenge(verifier: str) -> str:
    """Return the S256 challenge of ``verifier``: base64url(SHA-256), no padding.

    Raises:
        ValueError: ``verifier`` is not 43-128 unreserved characters.
    """
    if not _VERIFIER.fullmatch(verifier):
        raise ValueError("A code verifier must be 43-128 unreserved characters.")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    """Return a new ``state``: 256 random bits, base64url."""
    return _b64url(secrets.token_bytes(STATE_BYTES))
