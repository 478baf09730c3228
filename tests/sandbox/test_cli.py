"""``python -m kit_desktop.sandbox`` as a subprocess, driven by a standard OAuth library."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.helpers import flow

ROOT = Path(__file__).resolve().parents[2]
CLIENT = "standard-client-0123456789"
REDIRECT = "http://127.0.0.1:61999/cb"


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "kit_desktop.sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def standalone() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = start(
        "--port",
        "0",
        "--auto-approve",
        "--token-lifetime",
        "120",
        "--client-id",
        CLIENT,
        "--redirect-uri",
        REDIRECT,
        "--redirect-uri",
        "http://127.0.0.1:61998/cb",
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    try:
        yield process, base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)


def test_prints_base_url_first_and_stops_cleanly_on_interrupt(
    standalone: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = standalone
    assert base_url.startswith("http://127.0.0.1:")
    assert requests.get(base_url + "/", timeout=5).status_code == 200
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert CLIENT in err and "Traceback" not in err


def test_a_standard_oauth_library_completes_pkce_refresh_and_revoke(
    standalone: tuple[subprocess.Popen[str], str],
) -> None:
    _, base = standalone
    client = OAuth2Session(
        client_id=CLIENT,
        redirect_uri=REDIRECT,
        scope="public",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = flow.Pkce.new().verifier
    url, state = client.create_authorization_url(
        f"{base}/v4/oauth/authorize", code_verifier=verifier
    )
    redirect = requests.get(url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302
    token = client.fetch_token(
        f"{base}/v4/oauth/token",
        authorization_response=redirect.headers["Location"],
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"] == "Bearer" and token["expires_in"] == 120
    account = client.get(f"{base}/v4/account", timeout=5)
    assert account.status_code == 200 and account.json()["user"]["email"]
    renewed = client.refresh_token(f"{base}/v4/oauth/token", refresh_token=token["refresh_token"])
    assert renewed["refresh_token"] != token["refresh_token"]
    client.revoke_token(
        f"{base}/v4/oauth/revoke", renewed["access_token"], token_type_hint="access_token"
    )
    assert client.get(f"{base}/v4/account", timeout=5).status_code == 401


def test_second_registered_redirect_uri_works(
    standalone: tuple[subprocess.Popen[str], str],
) -> None:
    _, base = standalone
    pkce = flow.Pkce.new()
    params = flow.authorize_params(pkce, client_id=CLIENT, redirect_uri="http://127.0.0.1:61998/cb")
    response = requests.get(
        f"{base}/oauth/authorize", params=params, allow_redirects=False, timeout=5
    )
    assert response.headers["Location"].startswith("http://127.0.0.1:61998/cb?code=")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "between 0 and 65535"),
        (["--token-lifetime", "0"], "at least 1 second"),
        (["--port", "abc"], "invalid int value"),
        (["--refresh-token-lifetime", "0"], "at least 1 second"),
        (["--forbidden", "v4/tags"], "a path starting with /"),
        (["--token-errors", "xml"], "invalid choice"),
        (["--json-revoke", "maybe"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_clear_line(args: list[str], message: str) -> None:
    process = start(*args)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert out == ""
    assert message in err and "Traceback" not in err


def test_busy_port_is_a_clear_error(
    standalone: tuple[subprocess.Popen[str], str],
) -> None:
    _, base = standalone
    port = base.rsplit(":", 1)[1]
    process = start("--port", port)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1 and out == ""
    assert f"could not listen on port {port}" in err and "Traceback" not in err
