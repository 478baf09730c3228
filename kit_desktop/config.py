"""Settings: built-in defaults, then ``resources/kit_app.toml``, then ``KIT_*`` variables."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from kit_desktop.errors import ConfigError
from kit_desktop.paths import resource_path

KIT_AUTHORIZE_URL = "https://api.kit.com/v4/oauth/authorize"
KIT_TOKEN_URL = "https://api.kit.com/v4/oauth/token"
KIT_REVOKE_URL = "https://api.kit.com/v4/oauth/revoke"
KIT_API_URL = "https://api.kit.com"
#: The issuer Kit names in its metadata (RFC 8414) and may send back as ``iss`` (RFC 9207).
KIT_ISSUER = "https://api.kit.com"

#: The loopback ports the app listens on, in order of preference.
DEFAULT_PORTS = (53219, 53220, 53221)
DEFAULT_REDIRECT_URIS = tuple(f"http://127.0.0.1:{port}/callback" for port in DEFAULT_PORTS)

#: Kit's app host: the only place an App Store install may send the browser back to.
KIT_APP_HOSTS = ("app.kit.com",)
#: Where the install entry answers on the first redirect URI's origin.
INSTALL_PATH = "/kit/oauth"
#: The path the relay page forwards Kit's answer to.
RELAY_CALLBACK_PATH = "/callback"

#: The sandbox app that practice mode registers and uses.
SANDBOX_CLIENT_ID = "kit-desktop-practice-0000000000000000000000"
SANDBOX_APP_NAME = "Kit Desktop (practice)"

TokenBody = Literal["form", "json"]
#: How Kit's answer reaches the app: ``auto`` picks the relay for Kit's own endpoints (Kit
#: only accepts https addresses) and direct loopback for other servers; ``relay`` and
#: ``direct`` force one (``direct`` for Kit only should Kit ever accept loopback addresses).
Route = Literal["auto", "relay", "direct"]
ROUTES: tuple[Route, ...] = ("auto", "relay", "direct")
#: Kit's own domains: endpoints here are real Kit, which accepts only https redirects.
KIT_DOMAINS = ("kit.com", "convertkit.com")


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to talk to one Kit authorization server.

    Attributes:
        client_id: The Kit app's client ID; ``None`` means practice mode (sandbox).
        authorize_url: The authorization endpoint.
        token_url: The token endpoint.
        revoke_url: The revocation endpoint.
        api_url: The API origin; request paths are ``/v4/...``.
        redirect_uris: The registered loopback redirect URIs, tried in order.
        scope: The scope asked for.
        tenant_name: Optional per-install tenant name sent to Kit.
        token_body: ``form`` (RFC 6749) or ``json`` bodies for token posts.
        relay_url: The publisher's https relay page, registered in Kit as the Redirect URI
            and Authorization URL (relay mode); ``None`` sends Kit the loopback redirect URIs
            themselves (direct mode).
        app_hosts: Hosts an App Store install may send the browser back to (https only).
        issuer: The authorization server's issuer; a callback naming another ``iss`` is
            refused (RFC 9207). A callback without ``iss`` is accepted.
        route: How Kit's answer reaches the app (see :data:`Route`); read
            :attr:`uses_relay` and :attr:`relay_missing` rather than this.
    """

    client_id: str | None = None
    authorize_url: str = KIT_AUTHORIZE_URL
    token_url: str = KIT_TOKEN_URL
    revoke_url: str = KIT_REVOKE_URL
    api_url: str = KIT_API_URL
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
    scope: str = "public"
    tenant_name: str | None = None
    token_body: TokenBody = "form"
    relay_url: str | None = None
    app_hosts: tuple[str, ...] = KIT_APP_HOSTS
    issuer: str = KIT_ISSUER
    route: Route = "auto"

    @property
    def targets_kit(self) -> bool:
        """Whether the authorization or token endpoint is on Kit's own domains."""
        return any(
            is_kit_host(urlsplit(url).hostname) for url in (self.authorize_url, self.token_url)
        )

    @property
    def uses_relay(self) -> bool:
        """Whether Kit is sent the https relay page rather than a loopback address.

        ``direct`` never does; ``relay`` always does; ``auto`` does when a relay page is
        set or the endpoints are Kit's (which accepts only https Redirect URIs).
        """
        if self.route == "direct":
            return False
        return self.route == "relay" or self.relay_url is not None or self.targets_kit

    @property
    def relay_missing(self) -> bool:
        """Whether the relay route is needed but no relay page is configured."""
        return self.uses_relay and self.relay_url is None

    @property
    def route_summary(self) -> str:
        """One line for diagnostics: the route in use and why."""
        if not self.uses_relay:
            forced = ' (set by route = "direct")' if self.route == "direct" else ""
            return f"direct loopback{forced}"
        if self.relay_url is None:
            return "relay, but no relay page is set (relay_url / KIT_RELAY_URL): cannot connect"
        return f"relay through {self.relay_url}"

    @property
    def install_entry_url(self) -> str:
        """The install entry on the first redirect URI's origin (``.../kit/oauth``)."""
        parts = urlsplit(self.redirect_uris[0])
        return f"{parts.scheme}://{parts.netloc}{INSTALL_PATH}"

    @property
    def practice_mode(self) -> bool:
        """Whether no client ID is configured, so the built-in sandbox is used."""
        return self.client_id is None

    def with_sandbox(self, base_url: str, client_id: str = SANDBOX_CLIENT_ID) -> Settings:
        """Return these settings pointed at a sandbox served at ``base_url``."""
        base = base_url.rstrip("/")
        return replace(
            self,
            client_id=client_id,
            authorize_url=f"{base}/v4/oauth/authorize",
            token_url=f"{base}/v4/oauth/token",
            revoke_url=f"{base}/v4/oauth/revoke",
            api_url=base,
            issuer=base,
        )


_ENV_KEYS = {
    "KIT_CLIENT_ID": "client_id",
    "KIT_AUTHORIZE_URL": "authorize_url",
    "KIT_TOKEN_URL": "token_url",
    "KIT_REVOKE_URL": "revoke_url",
    "KIT_API_URL": "api_url",
    "KIT_REDIRECT_URI": "redirect_uris",
    "KIT_SCOPE": "scope",
    "KIT_TENANT_NAME": "tenant_name",
    "KIT_TOKEN_BODY": "token_body",
    "KIT_RELAY_URL": "relay_url",
    "KIT_APP_HOSTS": "app_hosts",
    "KIT_ISSUER": "issuer",
    "KIT_ROUTE": "route",
}
_URL_FIELDS = ("authorize_url", "token_url", "revoke_url", "api_url", "relay_url", "issuer")
_LIST_FIELDS = ("redirect_uris", "app_hosts")
_HOST_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: Path | None = None
) -> Settings:
    """Build the settings from defaults, ``kit_app.toml`` and the environment.

    Args:
        environ: The environment to read ``KIT_*`` from (default ``os.environ``).
        toml_path: The publisher file (default ``resources/kit_app.toml``).

    Raises:
        ConfigError: A value is not usable; the message names it.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    path = toml_path if toml_path is not None else resource_path("kit_app.toml")
    if path.is_file():
        values.update(_read_toml(path))
    for key, field in _ENV_KEYS.items():
        raw = env.get(key, "").strip()
        if raw:
            values[field] = _split_uris(raw) if field in _LIST_FIELDS else raw
    return _validated(values)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"The app's settings file {path.name} could not be read. Reinstall the app.",
            detail=str(exc),
        ) from exc
    kit = data.get("kit", {})
    if not isinstance(kit, dict):
        raise ConfigError(f"The [kit] section of {path.name} is not a table.")
    known = set(_ENV_KEYS.values())
    unknown = sorted(set(kit) - known)
    if unknown:
        raise ConfigError(f"{path.name} has unknown settings: {', '.join(unknown)}.")
    values = {k: v for k, v in kit.items() if v not in ("", None, [])}
    for field in _LIST_FIELDS:
        if isinstance(values.get(field), str):
            values[field] = _split_uris(str(values[field]))
    return values


def _split_uris(raw: str) -> tuple[str, ...]:
    return tuple(part for part in raw.replace(",", " ").split() if part)


def _validated(values: dict[str, object]) -> Settings:
    for field in (*_URL_FIELDS, "client_id", "scope", "tenant_name", "token_body", "route"):
        if field in values and not isinstance(values[field], str):
            raise ConfigError(f"The setting {field} must be text.")
    for field in _URL_FIELDS:
        if field in values:
            check_endpoint_url(str(values[field]), field)
    uris = values.get("redirect_uris")
    if uris is not None:
        if not isinstance(uris, list | tuple) or not uris:
            raise ConfigError("The setting redirect_uris must list at least one URI.")
        values["redirect_uris"] = tuple(check_redirect_uri(str(uri)) for uri in uris)
    hosts = values.get("app_hosts")
    if hosts is not None:
        if not isinstance(hosts, list | tuple) or not hosts:
            raise ConfigError("The setting app_hosts must list at least one host name.")
        values["app_hosts"] = tuple(_check_host(str(host)) for host in hosts)
    if values.get("relay_url"):
        _check_relay(str(values["relay_url"]), values.get("redirect_uris", DEFAULT_REDIRECT_URIS))
    if values.get("token_body", "form") not in ("form", "json"):
        raise ConfigError("The setting token_body must be 'form' or 'json'.")
    if values.get("route", "auto") not in ROUTES:
        raise ConfigError("The setting route must be 'auto', 'relay' or 'direct'.")
    return Settings(**values)  # type: ignore[arg-type]


def _check_host(host: str) -> str:
    name = host.strip().lower()
    if not _HOST_NAME.fullmatch(name):
        raise ConfigError(f"The setting app_hosts must list host names, not {host!r}.")
    return name


def _check_relay(url: str, redirect_uris: object) -> None:
    parts = urlsplit(url)
    if parts.query:
        raise ConfigError("The setting relay_url must not have a query (?…).")
    uris = redirect_uris if isinstance(redirect_uris, tuple | list) else ()
    for uri in uris:
        if urlsplit(str(uri)).path != RELAY_CALLBACK_PATH:
            raise ConfigError(
                f"With a relay page, every redirect URI must end in {RELAY_CALLBACK_PATH}, "
                f"as the page forwards there (not {uri!r})."
            )


def is_kit_host(host: str | None) -> bool:
    """Whether ``host`` is on one of Kit's own domains (``api.kit.com``, ``app.kit.com``...)."""
    name = (host or "").lower().rstrip(".")
    return any(name == domain or name.endswith("." + domain) for domain in KIT_DOMAINS)


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` is a loopback IP literal or ``localhost``."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str, name: str = "URL") -> str:
    """Return ``url`` if it is https, or http on a loopback host (the sandbox).

    Raises:
        ConfigError: Anything else (``http://`` elsewhere, ``file:``, ``javascript:``...).
    """
    parts = urlsplit(url)
    host = parts.hostname
    ok_scheme = parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))
    if not ok_scheme or not host or parts.username or parts.password or parts.fragment:
        raise ConfigError(
            f"The setting {name} must be an https address (or a local sandbox), not {url!r}.",
        )
    return url


def check_redirect_uri(uri: str) -> str:
    """Return ``uri`` if it is a loopback ``http://IP:port/path`` redirect URI.

    Raises:
        ConfigError: The URI is not a loopback http URI with an explicit port and path.
    """
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if (
        parts.scheme != "http"
        or parts.hostname not in ("127.0.0.1", "::1")
        or port is None
        or not parts.path.startswith("/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"The redirect URI {uri!r} must look like http://127.0.0.1:PORT/callback.",
        )
    return uri
