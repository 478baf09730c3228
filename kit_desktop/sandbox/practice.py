"""Practice mode's sandbox, on the same road as real Kit (no Qt).

Real Kit accepts only https Redirect URIs and Authorization URLs, so a real build goes
through the publisher's https relay page. Practice walks that road too: the in-process
sandbox runs with ``strict_https`` (it refuses plain-http addresses as Kit's settings do),
hosts the relay page from its own origin as the stand-in for the publisher's site, and the
app sends the sandbox that page as its redirect URI and Authorization URL. The creator sees
exactly the pages and hops real Kit will give them.

With ``route = "direct"`` (``KIT_ROUTE=direct``) practice uses the loopback addresses
directly instead, as the app does for authorization servers other than Kit.
"""

from __future__ import annotations

from dataclasses import replace

from kit_desktop.config import SANDBOX_CLIENT_ID, Settings
from kit_desktop.sandbox.server import SandboxServer


def start_practice(
    settings: Settings, client_id: str = SANDBOX_CLIENT_ID
) -> tuple[SandboxServer, Settings]:
    """Start the in-process sandbox for ``settings``' app; return it and settings aimed at it.

    Args:
        settings: The configured app (its redirect URIs, app hosts and route are kept).
        client_id: The practice app's client ID (its tokens are kept under it).

    Raises:
        OSError: The sandbox could not listen on a loopback port.
    """
    if settings.route == "direct":
        sandbox = SandboxServer(
            loopback_any_port=True, client_id=client_id, redirect_uris=settings.redirect_uris
        )
        return sandbox.start(), settings.with_sandbox(sandbox.base_url, client_id)
    sandbox = SandboxServer(
        strict_https=True,
        client_id=client_id,
        app_redirect_uris=settings.redirect_uris,
        app_hosts=settings.app_hosts,
    )
    practice = replace(
        settings.with_sandbox(sandbox.base_url, client_id), relay_url=sandbox.relay_url
    )
    return sandbox.start(), practice
