"""Who is asking: checks for loopback routes that start, finish or replace a connection.

Two attackers reach 127.0.0.1 besides the creator's own browser (catalogue G): another
account on this computer, and any web page the creator has open, which can make the
browser request loopback addresses (``<img>``, ``<iframe>``, ``fetch`` with ``no-cors``)
but not read the answers. Routes that change something therefore ask two questions:

- :func:`peer_verdict`: which local account opened the connection
  (:mod:`kit_desktop.auth.peer`); another account is refused;
- :func:`not_a_visit`: whether the browser says, in its ``Sec-Fetch-*`` headers, that this
  is not a top-level page the creator is looking at; such requests start nothing. A request
  without those headers (an older browser, a command-line tool of the creator's) passes.

Stdlib only, no Qt.
"""

from __future__ import annotations

from kit_desktop.auth.loopback_http import HttpRequest
from kit_desktop.auth.peer import PeerVerdict, judge_peer

__all__ = ["REFUSED_PEERS", "PeerVerdict", "not_a_visit", "peer_verdict"]

#: Who is refused on the routes that matter: another account, and a client the kernel
#: cannot name although it can name any live one (it closed its end before the answer,
#: which a browser never does). ``UNKNOWN`` (no lookup on this platform) is not refused
#: here: those routes limit what it can do instead.
REFUSED_PEERS = frozenset({PeerVerdict.OTHER_ACCOUNT, PeerVerdict.UNIDENTIFIED})


def peer_verdict(request: HttpRequest) -> PeerVerdict:
    """Say whether ``request`` came from this account, another one, or cannot be told."""
    if request.local is None or request.peer is None:
        return PeerVerdict.UNKNOWN
    return judge_peer(request.local, request.peer)


def not_a_visit(request: HttpRequest) -> str | None:
    """Return why ``request`` is not a top-level page visit, or None when it may be one.

    Browsers send ``Sec-Fetch-Mode: navigate`` and ``Sec-Fetch-Dest: document`` for a page
    opened in a tab (by a link, a redirect, a script or the address bar); an image, frame,
    script or ``fetch`` says otherwise. Each header must appear at most once.
    """
    for name, wanted in (("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "document")):
        values = request.header_values(name)
        if len(values) > 1:
            return f"{name} sent twice"
        if values and values[0].strip().lower() != wanted:
            return f"{name} is not {wanted}"
    return None
