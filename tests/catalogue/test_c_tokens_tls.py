"""Catalogue C36: TLS is always verified, on the token endpoint and on the API host.

Local HTTPS servers present certificates made for each test: self-signed, expired, for
another host, or from a CA the test trusts through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Any

import pytest

import kit_desktop
from kit_desktop.auth.oauth import OAuthClient
from kit_desktop.errors import NetworkError
from kit_desktop.qt.diagnostics import diagnostics_text
from kit_desktop.sandbox import SandboxServer
from kit_desktop.state import SessionView
from tests.catalogue.cd_helpers import (
    FAST,
    REDIRECT_URI,
    Answer,
    Hostile,
    assert_plain,
    endpoint_settings,
    make_services,
    sandbox_settings,
    sign_in_directly,
    wait_until,
)
from tests.catalogue.cd_tls import make_ca, server_context, write_ca
from tests.helpers.fake_keyrings import MemoryKeyring

VERIFIER = "v" * 43


def token_body() -> dict[str, Any]:
    return {
        "access_token": "at-" + "A" * 40,
        "token_type": "Bearer",
        "expires_in": 7200,
        "refresh_token": "rt-" + "R" * 40,
    }


def test_c36_self_signed_token_endpoint_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    with Hostile(Answer.json(200, token_body()), tls=server_context(tmp_path)) as server:
        client = OAuthClient(endpoint_settings(server.url), timeouts=FAST)
        with pytest.raises(NetworkError) as caught:
            client.exchange("single-use-code", VERIFIER, REDIRECT_URI)
        wait_until(lambda: server.handshake_failures >= 1)
        assert server.seen == []
    assert "could not be verified" in caught.value.user_message
    assert_plain(caught.value.user_message, "single-use-code")


@pytest.mark.parametrize("fault", ["expired", "wrong-host"])
@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: REQUESTS_CA_BUNDLE=",
    logger="kit_desktop.http",
)
def test_c36_expired_or_wrong_host_certificate_is_refused_even_from_a_trusted_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    ca = make_ca()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(write_ca(tmp_path, ca)))
    good = server_context(tmp_path, ca)
    bad = (
        server_context(tmp_path, ca, expired=True)
        if fault == "expired"
        else server_context(tmp_path, ca, hosts=("kit-desktop-test.example",))
    )
    with Hostile(Answer.json(200, token_body()), tls=good) as trusted:
        tokens = OAuthClient(endpoint_settings(trusted.url), timeouts=FAST).refresh("rt")
        assert tokens.access_token == token_body()["access_token"]  # the CA really is trusted
    with Hostile(Answer.json(200, token_body()), tls=bad) as server:
        with pytest.raises(NetworkError) as caught:
            OAuthClient(endpoint_settings(server.url), timeouts=FAST).refresh("precious-rt")
        assert server.seen == []
    assert "could not be verified" in caught.value.user_message


def test_c36_api_host_with_a_bad_certificate_never_gets_the_bearer_token(
    tmp_path: Path, kit: SandboxServer
) -> None:
    with Hostile(Answer.json(200, {"account": {}}), tls=server_context(tmp_path)) as api:
        services = make_services(sandbox_settings(kit.base_url, api_url=api.url), MemoryKeyring())
        sign_in_directly(services)
        with pytest.raises(NetworkError) as caught:
            services.api.request("GET", "/v4/account")
        wait_until(lambda: api.handshake_failures >= 1)
        assert api.seen == []
    assert "could not be verified" in caught.value.user_message


def test_c36_the_app_never_turns_certificate_checks_off() -> None:
    root = Path(kit_desktop.__file__).parent
    offences: list[str] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        offences += [
            f"{path}: {n}" for n in ("CERT_NONE", "_create_unverified_context") if n in text
        ]
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "verify"
                and not (isinstance(node.value, ast.Constant) and node.value.value is True)
            ):
                offences.append(f"{path}:{node.value.lineno}: verify={ast.unparse(node.value)}")
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Attribute) and t.attr in ("verify", "check_hostname")
                for t in node.targets
            ):
                offences.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    assert offences == []


@pytest.mark.expected_log(
    r"^network setting from the environment is in effect: REQUESTS_CA_BUNDLE=",
    logger="kit_desktop.http",
)
def test_c36_a_ca_bundle_override_is_refused_or_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attacker = make_ca("Attacker CA")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(write_ca(tmp_path, attacker)))
    caplog.set_level(logging.DEBUG)
    with Hostile(Answer.json(200, token_body()), tls=server_context(tmp_path, attacker)) as evil:
        client = OAuthClient(endpoint_settings(evil.url), timeouts=FAST)
        try:
            client.exchange("single-use-code", VERIFIER, REDIRECT_URI)
        except NetworkError:
            return  # refused: the safe outcome
    report = diagnostics_text(client.settings, SessionView())
    assert "REQUESTS_CA_BUNDLE" in caplog.text or "REQUESTS_CA_BUNDLE" in report
