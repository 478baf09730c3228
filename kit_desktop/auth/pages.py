"""The loopback receiver's HTML pages and the security headers sent with every response."""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from string import Template
from typing import Literal

from kit_desktop import APP_NAME
from kit_desktop.errors import (
    ConsentDeniedError,
    FlowCancelledError,
    FlowTimeoutError,
    ForeignIssuerError,
    KitError,
    LoopbackError,
    how_long,
)
from kit_desktop.paths import resource_path

Tone = Literal["ok", "error", "info"]

_CLOSE_HINT = f"You can close this tab and return to {APP_NAME}."


@dataclass(frozen=True)
class Page:
    """What one response page says; every field is escaped when rendered.

    Attributes:
        status: The HTTP status code.
        heading: The page's only heading (also its title).
        message: The main sentence.
        hint: What to do next.
        tone: ``ok``, ``error`` or ``info`` (colour only; the words carry the meaning).
        link: ``(address, words)`` of one link to show, e.g. back to Kit (already checked).
    """

    status: int
    heading: str
    message: str
    hint: str = _CLOSE_HINT
    tone: Tone = "info"
    link: tuple[str, str] | None = None


NOT_FOUND = Page(
    404,
    "Page not found",
    f"This address is only used by {APP_NAME} while it connects to your Kit account.",
    _CLOSE_HINT,
)
BAD_REQUEST = Page(
    400,
    "Request not understood",
    f"{APP_NAME} could not understand this request, so it ignored it.",
    f"If you were connecting to Kit, return to {APP_NAME} and click Connect again.",
    "error",
)
WRONG_FLOW = Page(
    400,
    "This link is not for this connection",
    f"This page does not match the connection {APP_NAME} is waiting for, so it was ignored.",
    f"Return to {APP_NAME}. If it is still waiting, finish connecting in the browser tab it "
    "opened, or click Connect again.",
    "error",
)
ALREADY_USED = Page(
    410,
    "This link was already used",
    f"{APP_NAME} has already received Kit's answer.",
    _CLOSE_HINT,
)
REDIRECT_TO_DONE = Page(
    302,
    "Almost done",
    f"{APP_NAME} received Kit's answer.",
    f"If this page stays, return to {APP_NAME}.",
)
BACK_TO_KIT_REDIRECT = Page(
    303,
    "Connected to Kit",
    f"{APP_NAME} is connected. Kit is finishing the install.",
    "If this page stays, use the link below.",
    "ok",
)
FOREIGN_ISSUER = Page(
    400,
    "This answer did not come from Kit",
    f"It names a different sign-in server than the one {APP_NAME} is set up for, so "
    f"{APP_NAME} did not use it and stopped connecting. Nothing was connected.",
    f"Return to {APP_NAME}: it says what to do next. You can close this tab.",
    "error",
)
_AFTER_REFUSAL = {
    "start": f"If {APP_NAME} runs as another user than this browser, click \u201cCopy link\u201d "
    f"in {APP_NAME} and open the link in that user's browser.",
    "callback": f"If you are connecting, finish in the browser tab {APP_NAME} opened. If "
    f"{APP_NAME} runs as another user than this browser, copy this page's address and click "
    f"\u201cPaste the code or the address from your browser\u201d in {APP_NAME}.",
    "install": f"Install {APP_NAME} from Kit's App Store in the browser of the user who runs "
    f"{APP_NAME}.",
}


def not_from_this_account(route: str, *, identified: bool) -> Page:
    """The page for a request another local account sent, or whose account cannot be told.

    Args:
        route: ``start``, ``callback`` or ``install``: what to do next differs.
        identified: Whether the kernel named another account (else the client closed its
            end before the answer, which a browser never does).
    """
    message = (
        f"Another account on this computer sent this to {APP_NAME}, so it was ignored."
        if identified
        else f"{APP_NAME} could not confirm that this came from your account on this "
        "computer, so it ignored it."
    )
    return Page(403, "This was not sent from your account", message, _AFTER_REFUSAL[route], "error")


NOT_A_VISIT = Page(
    403,
    "Open this page in a tab",
    f"{APP_NAME} only acts on pages you open yourself, so it ignored this request.",
    f"If you were connecting, return to {APP_NAME}.",
    "error",
)
LINK_USED_ELSEWHERE = Page(
    409,
    "This link was already opened",
    f"{APP_NAME} had already sent this connection to Kit once. To keep your account safe, "
    "it stopped this attempt.",
    f"Return to {APP_NAME} and click Connect to start again.",
    "error",
)
ATTEMPT_OVER = Page(
    410,
    "This connection attempt is over",
    f"{APP_NAME} is no longer waiting for this connection.",
    f"Return to {APP_NAME}; click Connect there to start again if you need to.",
    "error",
)
NEUTRAL_DONE = Page(
    200,
    f"Return to {APP_NAME}",
    f"{APP_NAME} received Kit's answer and shows whether connecting worked.",
    _CLOSE_HINT,
)


def status_page(status: int) -> Page:
    """Return the fixed page for a refused request (400, 405, 413, 414, 421, 431...)."""
    if status == 404:
        return NOT_FOUND
    if status == 400:
        return BAD_REQUEST
    phrase = HTTPStatus(status).phrase
    return Page(
        status,
        f"Request not accepted ({phrase})",
        f"{APP_NAME} only accepts Kit's answer at this address, so it ignored this request.",
        f"If you were connecting to Kit, return to {APP_NAME}.",
        "error",
    )


BACK_TO_KIT = "Back to Kit"


def outcome_page(
    ok: bool, message: str, back_to: str | None = None, hint: str = _CLOSE_HINT
) -> Page:
    """Return the ``/done`` page: connected, or the failure ``message``.

    Args:
        ok: Whether connecting worked.
        message: The sentence to show (escaped when rendered).
        back_to: Kit's app page to link back to (an App Store install), already checked.
        hint: Where to go next (the window, or the terminal for the command line).
    """
    link = (back_to, BACK_TO_KIT) if back_to else None
    if ok:
        return Page(200, "Connected to Kit", message or hint, hint if message else "", "ok", link)
    return Page(200, "Not connected", message, hint, "error", link)


#: The ``/done`` page's hint when the command line is connecting.
TERMINAL_HINT = "You can close this tab and go back to the terminal."


def ended_page(error: KitError, back_to: str | None = None, hint: str = _CLOSE_HINT) -> Page:
    """Return the page for an answer that ended the attempt: another issuer's, or Kit's error.

    Args:
        error: Why the attempt ended (``ForeignIssuerError``, ``ConsentDeniedError``...).
        back_to: Kit's app page to link back to (an App Store install), already checked.
        hint: Where to go next (the window, or the terminal for the command line).
    """
    if isinstance(error, ForeignIssuerError):
        link = (back_to, BACK_TO_KIT) if back_to else None
        return replace(FOREIGN_ISSUER, link=link)
    return outcome_page(False, error.user_message, back_to, hint)


def _start_again(button: str) -> str:
    return f"Go back to {APP_NAME} and click \u201c{button}\u201d to start again."


def late_page(ended: KitError, *, answered: bool = False) -> Page:
    """Return the page for a visit to an attempt that had ended without connecting.

    A creator who clicks Allow in Kit's tab after Cancel, or after the app stopped waiting,
    reaches the attempt's port late: this says what happened and what to do, in fixed
    words (nothing from the request, nothing from Kit).

    Args:
        ended: Why the attempt ended (``FlowCancelledError``, ``FlowTimeoutError``, or the
            error an earlier answer ended it with, such as ``ConsentDeniedError``).
        answered: Kit's answer already reached the app another way (pasted by the creator).
    """
    if answered:
        return ALREADY_USED
    if isinstance(ended, FlowTimeoutError):
        waited = f" (after {how_long(ended.seconds)})" if ended.seconds > 0 else ""
        return Page(
            410,
            f"{APP_NAME} stopped waiting",
            f"{APP_NAME} had stopped waiting for this connection{waited}, so nothing was "
            "connected.",
            _start_again("Try again"),  # the button the window shows after a timeout
            "error",
        )
    if isinstance(ended, FlowCancelledError):
        return Page(
            410,
            "This connection attempt was cancelled",
            f"This connection attempt was cancelled in {APP_NAME}, so nothing was connected.",
            _start_again("Connect to Kit"),
        )
    button = "Connect to Kit" if isinstance(ended, ConsentDeniedError) else "Try again"
    return Page(
        410,
        "This connection attempt already ended",
        f"This connection attempt had already ended in {APP_NAME}, so nothing was connected.",
        _start_again(button),
        "error",
    )


class PageRenderer:
    """Renders :class:`Page` values with the bundled template and builds the headers.

    The template and stylesheet are read once, when the renderer is made. The stylesheet's
    SHA-256 goes into the Content-Security-Policy, so no other style (and nothing else) loads.
    """

    def __init__(self, directory: Path | None = None) -> None:
        folder = directory if directory is not None else resource_path("pages")
        self._template = Template((folder / "page.html").read_text(encoding="utf-8"))
        self._style = (folder / "page.css").read_text(encoding="utf-8")
        digest = base64.b64encode(hashlib.sha256(self._style.encode("utf-8")).digest())
        self.content_security_policy = (
            "default-src 'none'; "
            f"style-src 'sha256-{digest.decode('ascii')}'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )

    @classmethod
    def bundled(cls) -> PageRenderer:
        """Return a renderer of the bundled ``resources/pages``.

        Raises:
            LoopbackError: The pages are missing from the installation.
        """
        try:
            return cls()
        except OSError as exc:
            raise LoopbackError(detail=f"callback pages missing: {type(exc).__name__}") from exc

    def render(self, page: Page) -> bytes:
        """Return the page's HTML, every value HTML-escaped, as UTF-8."""
        text = self._template.substitute(
            title=_escape(f"{page.heading} - {APP_NAME}"),
            heading=_escape(page.heading),
            message=_escape(page.message),
            hint=_escape(page.hint),
            tone=_escape(page.tone),
            link=_link_html(page.link),
            style=self._style,
        )
        return text.encode("utf-8")

    def response(
        self,
        page: Page,
        *,
        extra_headers: tuple[tuple[str, str], ...] = (),
        head_only: bool = False,
    ) -> bytes:
        """Return a complete HTTP/1.1 response (status, headers, body) ready for one write.

        Args:
            page: The page to send.
            extra_headers: Headers to add (``Location``, ``Allow``): fixed values, or an
                address already checked against an allow-list; never raw request input.
            head_only: Leave the body out (a ``HEAD`` request), keeping its length.
        """
        body = self.render(page)
        headers = (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", self.content_security_policy),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Connection", "close"),
            *extra_headers,
        )
        lines = [f"HTTP/1.1 {page.status} {HTTPStatus(page.status).phrase}"]
        lines += [f"{name}: {value}" for name, value in headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        return head if head_only else head + body


def _escape(value: str) -> str:
    return html.escape(value, quote=True)


def _link_html(link: tuple[str, str] | None) -> str:
    if link is None:
        return ""
    href, words = link
    return f'<p class="link"><a href="{_escape(href)}" rel="noreferrer">{_escape(words)}</a></p>'
