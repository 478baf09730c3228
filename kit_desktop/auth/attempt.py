"""A connection attempt's start: PKCE values, the authorization URL and a bound receiver.

Nothing here talks to Kit or loads an HTTP or keyring library, so the command line can
open the browser before it imports those (they load while the browser is away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode, urlsplit

from kit_desktop.auth import pkce
from kit_desktop.auth.loopback import DEFAULT_TIMEOUT, LoopbackReceiver
from kit_desktop.config import Settings, check_endpoint_url
from kit_desktop.errors import ClientConfigError, RelayPageMissingError

if TYPE_CHECKING:
    from kit_desktop.auth.tokenset import TokenSet


@dataclass(frozen=True)
class AuthorizationAttempt:
    """One connection attempt's PKCE values and authorization URL (new for every attempt)."""

    url: str = field(repr=False)  # carries the state
    redirect_uri: str
    state: str = field(repr=False)
    verifier: str = field(repr=False)
    challenge: str


class PracticeKit(Protocol):
    """What a connection needs from practice mode's in-process Kit (the sandbox's server).

    The core never imports the sandbox: a real-Kit command loads no practice code.
    """

    def recognise(self, tokens: TokenSet) -> None:
        """Accept tokens a previous run saved (practice grants survive a restart)."""

    def note_app_port(self, port: int) -> None:
        """Tell the practice relay page where the app listens, as a publisher's build bakes it."""


def new_attempt(
    settings: Settings, redirect_uri: str, state: str | None = None
) -> AuthorizationAttempt:
    """Generate a verifier, challenge and state and build the authorization URL.

    Raises:
        ClientConfigError: No client ID is configured.
        ConfigError: The authorization endpoint is not a URL the app may use.
    """
    if settings.client_id is None:
        raise ClientConfigError("No Kit client ID is configured.", code="no_client_id")
    check_endpoint_url(settings.authorize_url, "authorize_url")
    verifier = pkce.new_verifier()
    challenge = pkce.code_challenge(verifier)
    state = state or pkce.new_state()
    params = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": pkce.METHOD,
        "scope": settings.scope,
        "state": state,
    }
    if settings.tenant_name:
        params["tenant_name"] = settings.tenant_name
    joiner = "&" if urlsplit(settings.authorize_url).query else "?"
    url = f"{settings.authorize_url}{joiner}{urlencode(params)}"
    return AuthorizationAttempt(url, redirect_uri, state, verifier, challenge)


def begin_attempt(
    settings: Settings,
    practice: PracticeKit | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    back_to: str | None = None,
) -> tuple[LoopbackReceiver, AuthorizationAttempt]:
    """Bind the loopback receiver and make a new attempt (verifier, challenge, state).

    In relay mode Kit is sent the relay page as the redirect URI, and the state carries
    the receiver's port (``<port>.<random>``) so the page knows where to forward.
    Open the browser on ``receiver.start_url``, never on ``attempt.url``: a browser's
    command line is readable by every account on the computer (catalogue 70).

    Args:
        settings: The Kit app's settings.
        practice: Practice mode's in-process Kit, told the receiver's port.
        timeout: Seconds the receiver waits for Kit's answer.
        back_to: Kit's app page to return to afterwards (an App Store install).

    Raises:
        KitError: No redirect URI could be bound (``PortInUseError``, ``LoopbackError``),
            or the build cannot reach Kit (``RelayPageMissingError``).
    """
    if settings.relay_missing:
        raise RelayPageMissingError(detail=settings.route_summary)
    relay = settings.relay_url if settings.uses_relay else None
    receiver = LoopbackReceiver(
        settings.redirect_uris,
        pkce.new_state(),
        timeout=timeout,
        back_to=back_to,
        port_in_state=relay is not None,
        expected_issuer=settings.issuer,
    )
    try:
        attempt = new_attempt(settings, relay or receiver.redirect_uri, receiver.state)
        receiver.set_authorization_url(attempt.url)
    except BaseException:
        receiver.close()
        raise
    if practice is not None:  # the practice relay page learns the port, as if baked
        practice.note_app_port(receiver.port)
    return receiver, attempt
