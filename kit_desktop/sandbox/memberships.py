"""Kit's subscriber writes, and who is in a tag, form or sequence (the API routes here first).

- ``POST /v4/subscribers``: create, or update by ``email_address`` (201 created, 200 updated).
- ``GET /v4/subscribers/{id}/tags``: a subscriber's tags, newest tagging first.
- ``GET /v4/tags/{tag_id}/subscribers``, ``/v4/forms/{form_id}/subscribers`` and
  ``/v4/sequences/{sequence_id}/subscribers``: the members, newest first, with Kit's filters.
- ``POST`` to those three: add an existing subscriber by ``email_address`` (201 added, 200
  already there).

Shapes, statuses and messages follow Kit's OpenAPI document; each schema's page is named in
``tests/sandbox/kit_v4_schemas_extra.json``. Unknown ids answer 404 ``Not Found``, as does an
email address that is no subscriber's ("The subscriber ... must already exist").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kit_desktop.sandbox.data import public_item
from kit_desktop.sandbox.messages import Request, Response
from kit_desktop.sandbox.pagination import ParamError, date_filter, list_answer
from kit_desktop.sandbox.store import AccountStore, Item, Kind, Membership

SUBSCRIBER_STATES = ("active", "inactive", "bounced", "complained", "cancelled")
NOT_FOUND = "Not Found"

_KINDS: dict[str, Kind] = {"tags": "tags", "forms": "forms", "sequences": "sequences"}
#: The time a membership began, as each list names it, and its date filters' prefix.
_AT = {"tags": "tagged_at", "forms": "added_at", "sequences": "added_at"}
_SINCE = {"tags": "tagged", "forms": "added", "sequences": "added"}
#: Kit's 422 for a missing email address ends with what was being done.
_DOING = {
    "tags": "tag subscriber",
    "forms": "add subscriber to form",
    "sequences": "add subscriber to sequence",
}
_UTM = ("source", "medium", "campaign", "term", "content")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Fields = dict[str, str | None]


def errors(status: int, *messages: str) -> Response:
    """Answer Kit's error shape: ``{"errors": [...]}``."""
    return Response.json(status, {"errors": list(messages)})


def subscriber_status(params: dict[str, str]) -> str:
    """Return the ``status`` filter (default ``active``; ``all`` keeps every state).

    Raises:
        ParamError: Not a subscriber state or ``all``.
    """
    status = params.get("status") or "active"
    if status not in (*SUBSCRIBER_STATES, "all"):
        raise ParamError(f"The status param must be one of {', '.join(SUBSCRIBER_STATES)}, all.")
    return status


class Memberships:
    """Answers the endpoints above from ``store``.

    Args:
        store: The account's changeable data.
        field_keys: The account's custom field keys (``fields`` may set only these).
    """

    def __init__(self, store: AccountStore, field_keys: Iterable[str]) -> None:
        self.store = store
        self.field_keys = frozenset(field_keys)

    def route(self, request: Request, parts: list[str], params: dict[str, str]) -> Response | None:
        """Answer the request if it is one of these endpoints, else return ``None``.

        Args:
            request: The request.
            parts: The path's parts after ``v4``, e.g. ``["tags", "12", "subscribers"]``.
            params: The query parameters.

        Raises:
            ParamError: A query parameter is not acceptable (the API answers 422).
            BadRequest: The body is not JSON (the API answers 400).
        """
        method = request.method
        if parts == ["subscribers"] and method == "POST":
            return self._upsert(request)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        resource, number, leaf = parts[0], int(parts[1]), parts[2]
        if (resource, leaf, method) == ("subscribers", "tags", "GET"):
            return self._subscriber_tags(number, params)
        kind = _KINDS.get(resource)
        if kind is None or leaf != "subscribers":
            return None
        if method == "GET":
            return self._members(kind, number, params)
        if method == "POST":
            return self._join(kind, number, request)
        return None

    # --- lists ------------------------------------------------------------------------------

    def _subscriber_tags(self, subscriber_id: int, params: dict[str, str]) -> Response:
        if self.store.subscriber(subscriber_id) is None:
            return errors(404, NOT_FOUND)
        items = [
            {"id": tag["id"], "name": tag["name"], "tagged_at": member.at, "_member": member.id}
            for member, tag in reversed(self.store.taggings_of(subscriber_id))
        ]
        return list_answer("tags", items, params, key=_member_key, descending=True)

    def _members(self, kind: Kind, owner_id: int, params: dict[str, str]) -> Response:
        if self.store.owner(kind, owner_id) is None:
            return errors(404, NOT_FOUND)
        status = subscriber_status(params)
        at = _AT[kind]
        tests = [
            test
            for test in (
                date_filter(params, "created", "created_at"),
                date_filter(params, _SINCE[kind], at),
            )
            if test is not None
        ]
        items = []
        for member, subscriber in reversed(self.store.members(kind, owner_id)):
            if status != "all" and subscriber["state"] != status:
                continue
            item = _member_item(kind, member, subscriber)
            if all(test(item) for test in tests):
                items.append(item)
        return list_answer("subscribers", items, params, key=_member_key, descending=True)

    # --- writes -----------------------------------------------------------------------------

    def _join(self, kind: Kind, owner_id: int, request: Request) -> Response:
        owner = self.store.owner(kind, owner_id)
        if owner is None:
            return errors(404, NOT_FOUND)
        body = request.json_body()
        body = body if isinstance(body, dict) else {}
        email = body.get("email_address")
        if not isinstance(email, str) or not email.strip():
            return errors(
                422, f"Either subscriber id or email address is required to {_DOING[kind]}"
            )
        referrer = body.get("referrer") if kind == "forms" else None
        if referrer is not None and not isinstance(referrer, str):
            return errors(422, "Referrer is invalid")
        if kind == "sequences" and not owner.get("active", True):
            return errors(422, "Sequence is inactive")
        subscriber = self.store.subscriber_by_email(email)
        if subscriber is None:
            return errors(404, NOT_FOUND)
        member, created = self.store.join(kind, owner_id, subscriber["id"], referrer or "")
        answer = public_item(_member_item(kind, member, subscriber))
        return Response.json(201 if created else 200, {"subscriber": answer})

    def _upsert(self, request: Request) -> Response:
        body = request.json_body()
        body = body if isinstance(body, dict) else {}
        email = body.get("email_address")
        if not isinstance(email, str) or not email.strip():
            return errors(422, "Email address can't be blank")
        email = email.strip()
        if not _EMAIL.match(email):
            return errors(422, "Email address is invalid")
        changes: dict[str, Any] = {}
        if "first_name" in body:
            name = body["first_name"]
            if name is not None and not isinstance(name, str):
                return errors(422, "First name is invalid")
            changes["first_name"] = name
        state = body.get("state") or "active"
        if state not in SUBSCRIBER_STATES:
            return errors(422, f"State must be one of {', '.join(SUBSCRIBER_STATES)}")
        fields = body.get("fields")
        if fields is not None and not isinstance(fields, dict):
            return errors(422, "Fields must be an object of custom field values")
        known, unknown = self._split_fields(fields or {})
        if known is None:
            return errors(422, "Custom field values must be strings")
        if known:
            changes["fields"] = known
        subscriber, created = self.store.upsert_subscriber(email, changes, state)
        answer: dict[str, Any] = {"subscriber": _as_posted(subscriber)}
        if unknown:
            answer["warnings"] = [
                f"Custom field '{key}' does not exist and was ignored" for key in unknown
            ]
        return Response.json(201 if created else 200, answer)

    def _split_fields(self, fields: dict[str, Any]) -> tuple[Fields | None, list[str]]:
        """Return the known fields' values (``None`` if one is not text) and the unknown keys."""
        known: Fields = {}
        unknown: list[str] = []
        for key, value in fields.items():
            if key not in self.field_keys:
                unknown.append(str(key))
            elif value is None or isinstance(value, str):
                known[key] = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                known[key] = str(value)
            else:
                return None, unknown
        return known, unknown


def _member_key(item: dict[str, Any]) -> list[Any]:
    return [item["_member"]]


def _member_item(kind: Kind, member: Membership, subscriber: Item) -> Item:
    """One member as Kit lists it: the subscriber, when it joined, and (forms) its referrer."""
    item: Item = {
        "id": subscriber["id"],
        "first_name": subscriber["first_name"],
        "email_address": subscriber["email_address"],
        "state": subscriber["state"],
        "created_at": subscriber["created_at"],
        _AT[kind]: member.at,
        "fields": subscriber["fields"],
        "_member": member.id,
    }
    if kind == "forms":
        item["referrer"] = member.referrer
        item["referrer_utm_parameters"] = utm_parameters(member.referrer)
    return item


def utm_parameters(referrer: str) -> dict[str, str]:
    """Return Kit's ``referrer_utm_parameters``: each ``utm_*`` value ('' when absent)."""
    query = parse_qs(urlsplit(referrer).query)
    return {name: query.get(f"utm_{name}", [""])[0] for name in _UTM}


def _as_posted(subscriber: Item) -> Item:
    """The subscriber as Kit's create/update answer shows it: fields that have a value."""
    shown = public_item(subscriber)
    shown["fields"] = {k: v for k, v in subscriber["fields"].items() if v is not None}
    return shown
