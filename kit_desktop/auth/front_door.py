"""The checks every request to an attempt's port passes first: method, target, Host (no Qt).

Shared by the waiting receiver (:mod:`kit_desktop.auth.loopback`) and the page that answers
after an attempt ended (:mod:`kit_desktop.auth.late_answer`), so neither is looser.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from kit_desktop.auth import pages as _pages
from kit_desktop.auth.loopback_http import HttpRequest
from kit_desktop.auth.pages import Page


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused at the door, and how to answer it.

    Attributes:
        page: The fixed page to send.
        summary: Fixed, value-free words for the log.
        extra: Headers to add (fixed values only).
        head_only: Leave the body out (a ``HEAD`` request).
    """

    page: Page
    summary: str
    extra: tuple[tuple[str, str], ...] = ()
    head_only: bool = False


def screen(request: HttpRequest, hosts: Collection[str]) -> Refusal | None:
    """Refuse a request that is not a ``GET`` of a plain path on one of ``hosts``.

    Args:
        request: The request head (already within the HTTP limits).
        hosts: The ``Host`` values this listener answers to, lower-case.

    Returns:
        The refusal, or ``None`` when the request may go on to its route.
    """
    if request.method != "GET":
        return Refusal(
            _pages.status_page(405),
            "refused a non-GET request",
            (("Allow", "GET"),),
            head_only=request.method == "HEAD",
        )
    target = request.target
    if not target.startswith("/") or "#" in target:
        return Refusal(_pages.BAD_REQUEST, "refused a malformed request target")
    values = request.header_values("host")
    if len(values) != 1:
        return Refusal(_pages.BAD_REQUEST, "refused a request without one Host header")
    if values[0].lower() not in hosts:
        return Refusal(_pages.status_page(421), "refused a request for another host")
    return None
