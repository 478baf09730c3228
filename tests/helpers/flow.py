"""Drive the sandbox's OAuth flow with plain requests, as any OAuth client would."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from kit_desktop.config import DEFAULT_REDIRECT_URIS, SANDBOX_CLIENT_ID

REDIRECT_URI = DEFAULT_REDIRECT_URIS[0]


@dataclass(frozen=True)
class Pkce:
    """A verifier and its S256 challenge, computed independently of the app's code."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)[:86]
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_params(pkce: Pkce, **overrides: str | None) -> dict[str, str]:
    """Return a valid authorization request's parameters, with overrides (None drops one)."""
    params: dict[str, str | None] = {
        "client_id": SANDBOX_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "scope": "public",
        "state": "state-" + secrets.token_urlsafe(16),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def location_params(response: requests.Response) -> dict[str, str]:
    """Return the query of a redirect's Location as a flat dict."""
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def consent_id(page: str) -> str:
    """Pull the hidden consent id out of the consent page."""
    match = re.search(r'name="consent_id" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def get_code(base_url: str, pkce: Pkce, *, prefix: str = "/v4", **overrides: str | None) -> str:
    """Run authorize (+ consent when shown) and return the code from the redirect."""
    params = authorize_params(pkce, **overrides)
    url = f"{base_url}{prefix}/oauth/authorize?{urlencode(params)}"
    response = requests.get(url, allow_redirects=False, timeout=5)
    if response.status_code == 200:
        response = requests.post(
            f"{base_url}/oauth/authorize/decision",
            data={"consent_id": consent_id(response.text), "decision": "allow"},
            allow_redirects=False,
            timeout=5,
        )
    query = location_params(response)
    assert query.get("state") == params.get("state")
    return query["code"]


def exchange(
    base_url: str, code: str, pkce: Pkce, *, prefix: str = "/v4", as_json: bool = False
) -> requests.Response:
    """Post the authorization_code grant."""
    body = {
        "grant_type": "authorization_code",
        "client_id": SANDBOX_CLIENT_ID,
        "code": code,
        "code_verifier": pkce.verifier,
        "redirect_uri": REDIRECT_URI,
    }
    url = f"{base_url}{prefix}/oauth/token"
    if as_json:
        return requests.post(url, json=body, allow_redirects=False, timeout=5)
    return requests.post(url, data=body, allow_redirects=False, timeout=5)


def connect(base_url: str) -> dict[str, Any]:
    """Run the whole flow and return the token response."""
    pkce = Pkce.new()
    response = exchange(base_url, get_code(base_url, pkce), pkce)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def refresh(base_url: str, refresh_token: str) -> requests.Response:
    """Post the refresh_token grant."""
    return requests.post(
        f"{base_url}/v4/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": SANDBOX_CLIENT_ID,
            "refresh_token": refresh_token,
        },
        allow_redirects=False,
        timeout=5,
    )


def api_get(base_url: str, token: str, path: str, **params: str) -> requests.Response:
    """GET an API path with the bearer token."""
    return requests.get(
        f"{base_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        allow_redirects=False,
        timeout=5,
    )
