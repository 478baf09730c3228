"""The sandbox's OAuth 2.0 server: authorize with PKCE, consent, token grants, revoke."""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from kit_desktop.auth.pkce import code_challenge
from kit_desktop.sandbox import pages
from kit_desktop.sandbox.behaviours import KitBehaviours
from kit_desktop.sandbox.messages import BadRequest, Request, Response, add_query

CODE_LIFETIME = 600.0
CONSENT_LIFETIME = 600.0
#: Kit's access-token lifetimes (PKCE-DOC examples): 48 h from a code exchange, 2 h from
#: a refresh.
EXCHANGE_TOKEN_LIFETIME = 172_800
REFRESH_TOKEN_LIFETIME = 7_200
SCOPES = frozenset({"public", "read", "write"})
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class SandboxApp:
    """An app registered with the sandbox (what a Kit developer sets up in Kit's settings)."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class _AuthRequest:
    app: SandboxApp
    redirect_uri: str
    challenge: str
    scope: str
    state: str | None
    tenant_name: str | None


@dataclass
class _Code:
    request: _AuthRequest
    expires_at: float
    used: bool = False
    grant: _Grant | None = None


@dataclass
class _Grant:
    access_token: str
    refresh_token: str
    client_id: str
    scope: str
    tenant_name: str | None
    created_at: int
    expires_at: float
    revoked: bool = False
    refresh_used: bool = False
    refresh_issued_at: float = 0.0


@dataclass(frozen=True)
class TokenCheck:
    """The result of looking up an access token presented to the API."""

    status: Literal["ok", "expired", "invalid"]
    client_id: str = ""


class OAuthServer:
    """Kit's OAuth endpoints as the sandbox serves them; thread-safe.

    Args:
        apps: The registered apps.
        token_lifetime: Access token lifetime (``expires_in``) in seconds, for both grants;
            ``None`` gives Kit's: 172800 from a code exchange, 7200 from a refresh.
        auto_approve: Skip the consent page and approve at once.
        loopback_any_port: Match loopback redirect URIs on any port (RFC 8252 section 7.3).
        rotate_refresh_tokens: Issue a new refresh token on every refresh; the old one stops
            working.
        revoke_access_on_refresh: Also revoke the old access token on refresh.
        clock: Wall-clock time in seconds (Unix time).
        behaviours: Kit's behaviours (refresh-token lifetime, JSON revokes), read per request.
    """

    def __init__(
        self,
        apps: Iterable[SandboxApp],
        *,
        token_lifetime: int | None = None,
        auto_approve: bool = False,
        loopback_any_port: bool = False,
        rotate_refresh_tokens: bool = True,
        revoke_access_on_refresh: bool = False,
        clock: Callable[[], float] = time.time,
        behaviours: KitBehaviours | None = None,
    ) -> None:
        self.apps = {app.client_id: app for app in apps}
        self.behaviours = behaviours or KitBehaviours()
        self.exchange_lifetime = token_lifetime or EXCHANGE_TOKEN_LIFETIME
        self.refresh_lifetime = token_lifetime or REFRESH_TOKEN_LIFETIME
        self.auto_approve = auto_approve
        self.loopback_any_port = loopback_any_port
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.revoke_access_on_refresh = revoke_access_on_refresh
        self.clock = clock
        self._lock = threading.Lock()
        self._consents: dict[str, tuple[_AuthRequest, float]] = {}
        self._codes: dict[str, _Code] = {}
        self._access_tokens: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self._code_exchanged_at: dict[str, float] = {}
        self.token_requests = 0
        self.refresh_requests = 0  # refresh_token grants received, answered or not

    # --- authorization endpoint -------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """Validate an authorization request; show consent or redirect with a code."""
        try:
            params = request.params()
        except BadRequest as exc:
            return _error_page("Invalid request", exc.message)
        app = self.apps.get(params.get("client_id", ""))
        if app is None:
            return _error_page("Unknown application", "The client identifier provided is invalid.")
        redirect_uri = params.get("redirect_uri", "")
        if not self._redirect_allowed(app, redirect_uri):
            return _error_page(
                "Invalid redirect URI",
                "The redirect URI included is not valid: it is not one of this app's "
                "registered redirect URIs.",
            )
        state = params.get("state") or None
        problem = _authorize_problem(params)
        if problem is not None:
            error, description = problem
            return _redirect_error(redirect_uri, error, description, state)
        auth = _AuthRequest(
            app=app,
            redirect_uri=redirect_uri,
            challenge=params["code_challenge"],
            scope=params.get("scope") or "public",
            state=state,
            tenant_name=params.get("tenant_name") or None,
        )
        if self.auto_approve:
            return self._approve(auth)
        consent_id = secrets.token_urlsafe(24)
        with self._lock:
            self._consents[consent_id] = (auth, self.clock() + CONSENT_LIFETIME)
        return Response.html(200, pages.consent_page(app.name, consent_id, auth.scope))

    def decide(self, request: Request) -> Response:
        """Handle the consent form: Allow redirects with a code, Deny with an error."""
        try:
            form = request.form_or_json()
        except BadRequest as exc:
            return _error_page("Invalid request", exc.message)
        with self._lock:
            entry = self._consents.pop(form.get("consent_id", ""), None)
        if entry is None or entry[1] < self.clock():
            return _error_page(
                "This page has expired", "Start connecting again from the app you came from."
            )
        auth = entry[0]
        if form.get("decision") == "allow":
            return self._approve(auth)
        return _redirect_error(
            auth.redirect_uri,
            "access_denied",
            "The resource owner or authorization server denied the request.",
            auth.state,
        )

    def _approve(self, auth: _AuthRequest) -> Response:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(auth, self.clock() + CODE_LIFETIME)
        params = {"code": code}
        if auth.state is not None:
            params["state"] = auth.state
        return Response.redirect(add_query(auth.redirect_uri, params))

    def _redirect_allowed(self, app: SandboxApp, uri: str) -> bool:
        if uri in app.redirect_uris:
            return True
        return self.loopback_any_port and any(
            _same_loopback_except_port(uri, registered) for registered in app.redirect_uris
        )

    # --- token endpoint ---------------------------------------------------------------

    def token(self, request: Request) -> Response:
        """Handle ``authorization_code`` and ``refresh_token`` grants (form or JSON body)."""
        with self._lock:
            self.token_requests += 1
        try:
            form = request.form_or_json()
        except BadRequest as exc:
            return _oauth_error(400, "invalid_request", exc.message)
        client_id = form.get("client_id") or _basic_client_id(request.header("authorization"))
        if not client_id or client_id not in self.apps:
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh(client_id, form)
        if not grant_type:
            return _oauth_error(400, "invalid_request", "The grant_type parameter is missing.")
        return _oauth_error(
            400, "unsupported_grant_type", "The authorization grant type is not supported."
        )

    def _exchange_code(self, client_id: str, form: dict[str, str]) -> Response:
        code_value, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code_value:
            return _oauth_error(400, "invalid_request", "The code parameter is missing.")
        if not verifier:
            return _oauth_error(400, "invalid_request", "The code_verifier parameter is missing.")
        if not _VERIFIER.fullmatch(verifier):
            return _oauth_error(
                400, "invalid_request", "The code_verifier must be 43-128 unreserved characters."
            )
        with self._lock:
            code = self._codes.get(code_value)
            if code is None:
                return _invalid_grant()
            if code.used:
                if code.grant is not None:
                    _revoke(code.grant)
                return _invalid_grant()
            code.used = True
            auth = code.request
            redirect_uri = form.get("redirect_uri")
            if (
                code.expires_at < self.clock()
                or auth.app.client_id != client_id
                or (redirect_uri is not None and redirect_uri != auth.redirect_uri)
                or not hmac.compare_digest(code_challenge(verifier), auth.challenge)
            ):
                return _invalid_grant()
            grant = self._issue(client_id, auth.scope, auth.tenant_name, self.exchange_lifetime)
            code.grant = grant
            self._code_exchanged_at[client_id] = self.clock()
        return _token_response(grant)

    def _refresh(self, client_id: str, form: dict[str, str]) -> Response:
        with self._lock:
            self.refresh_requests += 1
        token = form.get("refresh_token", "")
        if not token:
            return _oauth_error(400, "invalid_request", "The refresh_token parameter is missing.")
        with self._lock:
            old = self._refresh_tokens.get(token)
            if old is None or old.revoked or old.refresh_used or old.client_id != client_id:
                return _invalid_grant()
            if self.behaviours.refresh_expired(old.refresh_issued_at, self.clock()):
                return _invalid_grant()
            new = self._issue(
                client_id, old.scope, old.tenant_name, self.refresh_lifetime, reuse_refresh=old
            )
            if self.rotate_refresh_tokens:
                old.refresh_used = True
            if self.revoke_access_on_refresh:
                self._access_tokens.pop(old.access_token, None)
        return _token_response(new)

    def _issue(
        self,
        client_id: str,
        scope: str,
        tenant: str | None,
        lifetime: int,
        reuse_refresh: _Grant | None = None,
    ) -> _Grant:
        now = self.clock()
        kept = reuse_refresh if not self.rotate_refresh_tokens else None
        refresh = kept.refresh_token if kept is not None else secrets.token_urlsafe(32)
        grant = _Grant(
            access_token=secrets.token_urlsafe(32),
            refresh_token=refresh,
            client_id=client_id,
            scope=scope,
            tenant_name=tenant,
            created_at=int(now),
            expires_at=now + lifetime,
            refresh_issued_at=kept.refresh_issued_at if kept is not None else now,
        )
        self._access_tokens[grant.access_token] = grant
        self._refresh_tokens[grant.refresh_token] = grant
        return grant

    # --- revocation and token checks --------------------------------------------------

    def revoke(self, request: Request) -> Response:
        """RFC 7009: revoke an access or refresh token and its pair; 200 even when unknown."""
        if self.behaviours.ignores_revoke(request):  # Kit cannot parse JSON here: 200, no-op
            return Response(200, b"", dict(_NO_STORE))
        try:
            form = request.form_or_json()
        except BadRequest as exc:
            return _oauth_error(400, "invalid_request", exc.message)
        token = form.get("token", "")
        if not token:
            return _oauth_error(400, "invalid_request", "The token parameter is missing.")
        client_id = form.get("client_id") or _basic_client_id(request.header("authorization"))
        with self._lock:
            grant = self._access_tokens.get(token) or self._refresh_tokens.get(token)
            if grant is not None and (not client_id or client_id == grant.client_id):
                _revoke(grant)
        return Response(200, b"", dict(_NO_STORE))

    def check_access_token(self, token: str) -> TokenCheck:
        """Say whether ``token`` is a live access token, an expired one, or invalid."""
        with self._lock:
            grant = self._access_tokens.get(token)
            if grant is None or grant.revoked:
                return TokenCheck("invalid")
            if grant.expires_at <= self.clock():
                return TokenCheck("expired", grant.client_id)
            return TokenCheck("ok", grant.client_id)

    def import_grant(
        self,
        access_token: str,
        refresh_token: str | None,
        *,
        expires_at: float | None,
        scope: str = "public",
        client_id: str | None = None,
    ) -> None:
        """Recognise tokens an earlier practice-mode sandbox issued (restored on relaunch).

        Only the in-process practice sandbox uses this: it lets a creator's practice
        connection survive a restart the way a real Kit connection does.
        """
        client = client_id or next(iter(self.apps))
        now = self.clock()
        grant = _Grant(
            access_token=access_token,
            refresh_token=refresh_token or secrets.token_urlsafe(32),
            client_id=client,
            scope=scope,
            tenant_name=None,
            created_at=int(now),
            expires_at=expires_at if expires_at is not None else now + self.refresh_lifetime,
            refresh_issued_at=now,
        )
        with self._lock:
            self._access_tokens.setdefault(access_token, grant)
            if refresh_token:
                self._refresh_tokens.setdefault(refresh_token, grant)

    def last_code_exchange(self, client_id: str) -> float | None:
        """Return when ``client_id`` last got tokens by the ``authorization_code`` grant.

        Args:
            client_id: The registered app's client ID.

        Returns:
            The server's clock time of the last successful code exchange, or ``None`` when
            that client never exchanged a code. Refreshes and imported grants do not count.
        """
        with self._lock:
            return self._code_exchanged_at.get(client_id)

    def issued_secrets(self) -> set[str]:
        """Return every code and token issued so far (for tests that hunt for leaks)."""
        with self._lock:
            return {*self._codes, *self._access_tokens, *self._refresh_tokens}

    def expire_access_token(self, token: str) -> None:
        """Make ``token`` expired now (a test knob)."""
        with self._lock:
            grant = self._access_tokens.get(token)
            if grant is not None:
                grant.expires_at = self.clock() - 1

    def metadata(self, base_url: str) -> dict[str, object]:
        """Return RFC 8414 authorization server metadata."""
        return {
            "issuer": base_url,
            "authorization_endpoint": f"{base_url}/v4/oauth/authorize",
            "token_endpoint": f"{base_url}/v4/oauth/token",
            "revocation_endpoint": f"{base_url}/v4/oauth/revoke",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": sorted(SCOPES),
        }


def _authorize_problem(params: dict[str, str]) -> tuple[str, str] | None:
    if params.get("response_type") != "code":
        return "unsupported_response_type", "The response_type must be 'code'."
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if not challenge:
        return "invalid_request", "The code_challenge parameter is required (PKCE)."
    if method != "S256":
        return "invalid_request", "The code_challenge_method must be S256 (plain is refused)."
    if not _CHALLENGE.fullmatch(challenge):
        return "invalid_request", "The code_challenge must be 43 base64url characters."
    scope = params.get("scope") or "public"
    if not set(scope.split()) <= SCOPES:
        return "invalid_scope", "The requested scope is invalid, unknown, or malformed."
    return None


def _same_loopback_except_port(uri: str, registered: str) -> bool:
    a, b = urlsplit(uri), urlsplit(registered)
    loopback = ("127.0.0.1", "::1", "localhost")
    try:
        ports_ok = a.port is not None
    except ValueError:
        return False
    return (
        ports_ok
        and a.hostname in loopback
        and (a.scheme, a.hostname, a.path, a.query) == (b.scheme, b.hostname, b.path, b.query)
    )


def _basic_client_id(header: str) -> str:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def _revoke(grant: _Grant) -> None:
    grant.revoked = True


def _token_response(grant: _Grant) -> Response:
    body = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": int(grant.expires_at - grant.created_at),
        "refresh_token": grant.refresh_token,
        "scope": grant.scope,
        "created_at": grant.created_at,
    }
    return Response.json(200, body, _NO_STORE)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description}, _NO_STORE)


def _invalid_grant() -> Response:
    return _oauth_error(400, "invalid_grant", _INVALID_GRANT)


def _error_page(title: str, message: str) -> Response:
    return Response.html(400, pages.error_page(title, message))


def _redirect_error(uri: str, error: str, description: str, state: str | None) -> Response:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    return Response.redirect(add_query(uri, params))
