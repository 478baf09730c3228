"""What the creator pastes when the browser could not reach the app: an address or a code.

When Kit's answer cannot reach the loopback receiver (the relay page could not forward
it, or the browser runs on another computer), the creator copies either the whole
address from the browser's address bar or the answer the relay page shows (its Copy
button), and pastes it into the waiting window. :func:`code_from_paste` checks it like
the loopback does and turns it into the code to exchange.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kit_desktop.auth.callback import (
    MAX_CODE_LENGTH,
    AuthorizationResponse,
    CallbackRejected,
    check_callback,
)
from kit_desktop.errors import PartialPasteError, PasteError, WrongAttemptPasteError

_BARE_CODE = re.compile(r"[A-Za-z0-9._~+/=-]+")
#: Longest paste looked at (a full address with Kit's parameters fits easily).
MAX_PASTE_LENGTH = 8192


def code_from_paste(
    text: str, state: str, expected_issuer: str | None = None
) -> AuthorizationResponse:
    """Return the authorization response in ``text`` for the attempt with ``state``.

    A pasted answer gets every check an answer arriving at the loopback gets (catalogue
    73): this attempt's ``state`` (in constant time) and, when present, the issuer
    (RFC 9207). So it must be Kit's whole answer: the address from the browser's address
    bar, or the text the relay page's Copy button gives (``code=…&state=…&iss=…``). A bare
    code is refused: nothing in it says which attempt or which server it is for.

    Args:
        text: A full redirected address (``…/callback?code=…&state=…``, the relay page's
            address, or just ``?code=…&state=…``), or the relay page's copied answer.
        state: This attempt's state.
        expected_issuer: The issuer an ``iss`` must name, or ``None`` to accept any.

    Raises:
        WrongAttemptPasteError: The answer carries another attempt's state, or none.
        PartialPasteError: Only a bare code was pasted.
        PasteError: Anything else that is not a usable answer.
        ForeignIssuerError: The answer carries this attempt's state but names another
            issuer: the attempt ends, as when it arrives at the loopback.
        ConsentDeniedError: The address says the creator chose not to connect.
        AuthorizationError: The address carries another error from Kit.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_PASTE_LENGTH:
        raise PasteError(detail="empty or oversized paste")
    if "?" in cleaned or ("=" in cleaned and "&" in cleaned):
        query = urlsplit(cleaned).query if "?" in cleaned else cleaned
        try:
            return check_callback(query, state, expected_issuer)
        except CallbackRejected as rejected:
            if rejected.wrong_flow:
                raise WrongAttemptPasteError(detail=rejected.reason) from None
            raise PasteError(detail=rejected.reason) from None
    if len(cleaned) <= MAX_CODE_LENGTH and _BARE_CODE.fullmatch(cleaned):
        raise PartialPasteError(detail="a bare code, without state or issuer")
    raise PasteError(detail="not a code")
