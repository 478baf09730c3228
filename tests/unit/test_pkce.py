"""PKCE values: the RFC vector, shapes, uniqueness, and no dependence on ``random``."""

from __future__ import annotations

import random
import re

import pytest

from kit_desktop.auth import pkce

VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def test_b19_rfc7636_appendix_b_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_b20_shapes_of_1000_pairs() -> None:
    verifiers = [pkce.new_verifier() for _ in range(1000)]
    assert len(set(verifiers)) == 1000
    for verifier in verifiers:
        assert VERIFIER.match(verifier)
        assert len(verifier) == 86
        challenge = pkce.code_challenge(verifier)
        assert len(challenge) == 43
        assert not set(challenge) & set("=+/")


@pytest.mark.parametrize("nbytes", [31, 97, 200])
def test_lengths_outside_43_to_128_are_refused(nbytes: int) -> None:
    with pytest.raises(ValueError, match="43-128"):
        pkce.new_verifier(nbytes)


@pytest.mark.parametrize("nbytes", [32, 96])
def test_edge_lengths(nbytes: int) -> None:
    assert VERIFIER.match(pkce.new_verifier(nbytes))


@pytest.mark.parametrize("bad", ["short", "x" * 129, "a" * 42 + "!", "é" * 43])
def test_challenge_refuses_bad_verifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="unreserved"):
        pkce.code_challenge(bad)


def test_b21_csprng_only(monkeypatch: pytest.MonkeyPatch) -> None:
    random.seed(1)
    first = (pkce.new_verifier(), pkce.new_state())
    random.seed(1)
    second = (pkce.new_verifier(), pkce.new_state())
    assert first[0] != second[0] and first[1] != second[1]
    monkeypatch.setattr(random, "getrandbits", lambda _k: 0)
    monkeypatch.setattr(random, "random", lambda: 0.0)
    assert pkce.new_state() != pkce.new_state()


def test_state_carries_at_least_128_bits() -> None:
    state = pkce.new_state()
    assert len(state) * 6 >= 128
    assert len({pkce.new_state() for _ in range(500)}) == 500


def test_b22_only_s256() -> None:
    assert pkce.METHOD == "S256"
