"""What the creator pastes when the browser could not reach the app: an address or a code.

When Kit's answer cannot reach the loopback receiver (the relay page could not forward
it, or the browser runs on another computer), the creator copies either the whole
address from the browser's address bar or the bare code the relay page shows, and pastes
it into the waiting window. :func:`code_from_paste` turns that into the code to exchange.
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
from kit_desktop.errors import PasteError, WrongAttemptPasteError

_BARE_CODE = re.compile(r"[A-Za-z0-9._~+/=-]+")
#: Longest paste looked at (a full address with Kit's parameters fits easily).
MAX_PASTE_LENGTH = 8192


def code_from_paste(text: str, state: str) -> AuthorizationResponse:
    """Return the authorization response in ``text`` for the attempt with ``state``.

    Args:
        text: A full redirected address (``…/callback?code=…&state=…``, the relay page's
            address, or just ``?code=…&state=…``), or a bare code.
        state: This attempt's state; an address must carry it (checked in constant time).
            A bare code carries none: it is still bound to this attempt by PKCE, since only
            this attempt's verifier can exchange it.

    Raises:
        WrongAttemptPasteError: The address carries another attempt's state.
        PasteError: Anything else that is not a usable answer.
        ConsentDeniedError: The address says the creator chose not to connect.
        AuthorizationError: The address carries another error from Kit.
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > MAX_PASTE_LENGTH:
        raise PasteError(detail="empty or oversized paste")
    if "?" in cleaned or ("=" in cleaned and "&" in cleaned):
        query = urlsplit(cleaned).query if "?" in cleaned else cleaned
        try:
            return check_callback(query, state)
        except CallbackRejected as rejected:
            if rejected.wrong_flow:
                raise WrongAttemptPasteError(detail=rejected.reason) from None
            raise PasteError(detail=rejected.reason) from None
    if len(cleaned) > MAX_CODE_LENGTH or not _BARE_CODE.fullmatch(cleaned):
        raise PasteError(detail="not a code")
    return AuthorizationResponse(code=cleaned, state=state)
