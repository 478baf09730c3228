"""The Kit API v4 endpoints the request panel knows: completion and one-click presets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Endpoint:
    """One Kit API v4 endpoint.

    Attributes:
        method: The HTTP method (upper case).
        path: The path; ``{name}`` marks a part to fill in (``/v4/subscribers/{id}``).
        summary: A short plain description ("List subscribers").
        example_body: A JSON body to start from ('' when the request has none).
    """

    method: str
    path: str
    summary: str
    example_body: str = ""

    @property
    def has_placeholders(self) -> bool:
        """Whether the path has a ``{name}`` part to fill in."""
        return "{" in self.path


_EMAIL = '{"email_address": "reader@example.com"}'

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v4/account", "Show the account"),
    Endpoint("GET", "/v4/subscribers", "List subscribers"),
    Endpoint("GET", "/v4/subscribers/{id}", "Show one subscriber"),
    Endpoint("GET", "/v4/subscribers/{id}/tags", "List a subscriber's tags"),
    Endpoint(
        "POST",
        "/v4/subscribers",
        "Add or update a subscriber",
        '{"email_address": "reader@example.com", "first_name": "Reader"}',
    ),
    Endpoint("GET", "/v4/tags", "List tags"),
    Endpoint("POST", "/v4/tags", "Create a tag", '{"name": "Completed"}'),
    Endpoint("GET", "/v4/tags/{tag_id}/subscribers", "List subscribers with a tag"),
    Endpoint("POST", "/v4/tags/{tag_id}/subscribers", "Tag a subscriber", _EMAIL),
    Endpoint("GET", "/v4/forms", "List forms"),
    Endpoint("GET", "/v4/forms/{id}/subscribers", "List a form's subscribers"),
    Endpoint("POST", "/v4/forms/{id}/subscribers", "Add a subscriber to a form", _EMAIL),
    Endpoint("GET", "/v4/sequences", "List sequences"),
    Endpoint("GET", "/v4/sequences/{id}/subscribers", "List a sequence's subscribers"),
    Endpoint("POST", "/v4/sequences/{id}/subscribers", "Add a subscriber to a sequence", _EMAIL),
    Endpoint("GET", "/v4/broadcasts", "List broadcasts"),
    Endpoint("GET", "/v4/custom_fields", "List custom fields"),
    Endpoint("GET", "/v4/email_templates", "List email templates"),
)

#: One-click requests: summary -> (method, path), for endpoints with nothing to fill in.
PRESETS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {e.summary: (e.method, e.path) for e in ENDPOINTS if not e.has_placeholders}
)


def matching(text: str) -> list[Endpoint]:
    """Return the endpoints whose path fits what was typed, best first (for completion).

    Paths that start with ``text`` come first, then paths that contain it (earliest match
    first). ``{name}`` parts match any typed segment, so ``/v4/subscribers/12/`` suggests
    ``/v4/subscribers/{id}/tags``. A leading method (``POST /v4/t``) keeps that method's
    endpoints only; any query is ignored; case does not matter. Empty text matches everything.
    """
    typed = text.strip()
    method = ""
    first, _, rest = typed.partition(" ")
    if first.upper() in _METHODS:
        method, typed = first.upper(), rest.strip()
    typed = typed.partition("?")[0].lower()
    candidates = [e for e in ENDPOINTS if not method or e.method == method]
    starts = [e for e in candidates if _template_prefix(e.path.lower(), typed)]
    contains = [e for e in candidates if e not in starts and typed in e.path.lower()]
    contains.sort(key=lambda e: e.path.lower().find(typed))  # stable: list order breaks ties
    return starts + contains


def _template_prefix(template: str, typed: str) -> bool:
    """Whether ``typed`` is a prefix of ``template`` once ``{name}`` parts match any segment."""
    wanted = template.split("/")
    given = typed.split("/")
    if len(given) > len(wanted):
        return False
    for index, part in enumerate(given):
        pattern = wanted[index]
        last = index == len(given) - 1
        if pattern.startswith("{") and pattern.endswith("}"):
            if part or last:
                continue
            return False
        if part != pattern and not (last and pattern.startswith(part)):
            return False
    return True
