"""The sandbox's Kit API v4 subset: bearer auth, rate limit, lists with cursors, writes.

Lists come as Kit's documented examples show them: subscribers, tags, forms, broadcasts and
email templates newest (highest id) first. Subscriber writes and the members of tags,
forms and sequences are answered by :mod:`kit_desktop.sandbox.memberships`.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any

from kit_desktop.sandbox.behaviours import KitBehaviours, rate_limited
from kit_desktop.sandbox.data import Dataset, public_item
from kit_desktop.sandbox.memberships import Memberships, subscriber_status
from kit_desktop.sandbox.messages import BadRequest, Request, Response
from kit_desktop.sandbox.oauth import OAuthServer
from kit_desktop.sandbox.pagination import ParamError, SortKey, date_filter, list_answer
from kit_desktop.sandbox.store import AccountStore

RATE_LIMIT = 600
RATE_WINDOW = 60.0

SUBSCRIBER_SORTS = {
    "id": None,
    "created_at": "created_at",
    "updated_at": "_updated_at",
    "cancelled_at": "_cancelled_at",
}
FORM_STATUSES = ("active", "archived", "trashed")
BROADCAST_STATUSES = ("draft", "scheduled", "sending", "completed", "aborted")
SIMPLE_LISTS = ("tags", "sequences", "custom_fields", "email_templates")
#: Lists Kit's documented examples show newest (highest id) first (REAL-KIT.md, "List order").
NEWEST_FIRST = frozenset({"tags", "forms", "broadcasts", "email_templates"})


def _errors(status: int, *messages: str) -> Response:
    return Response.json(status, {"errors": list(messages)})


NOT_FOUND = ("Not Found",)


class RateLimiter:
    """At most ``limit`` requests per key over a rolling ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._lock = threading.Lock()
        self._hits: dict[str, collections.deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one request for ``key`` and say whether it is within the limit."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, collections.deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


class KitApi:
    """Answers ``/v4/...`` requests with Kit's shapes, using tokens from ``oauth``."""

    def __init__(
        self,
        oauth: OAuthServer,
        dataset: Dataset,
        *,
        rate_limit: int = RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        behaviours: KitBehaviours | None = None,
        more_subscribers: int = 0,
    ) -> None:
        self.oauth = oauth
        self.behaviours = behaviours or KitBehaviours()
        self.data = dataset
        self.limiter = RateLimiter(rate_limit, RATE_WINDOW, clock)
        self.store = AccountStore(dataset, more_subscribers=more_subscribers)
        self.memberships = Memberships(self.store, (f["key"] for f in dataset.custom_fields))

    def handle(self, request: Request) -> Response:
        """Authenticate, rate-limit and route one API request."""
        scheme, _, token = request.header("authorization").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _errors(401, "Authentication Failed")
        check = self.oauth.check_access_token(token)
        if check.status == "expired":
            return _errors(401, "The access token expired")
        if check.status != "ok":
            return _errors(401, "The access token is invalid")
        refusal = self.behaviours.api_refusal(request.path)
        if refusal is not None:
            return refusal
        if self.behaviours.force_429 or not self.limiter.allow(token):
            return rate_limited()
        try:
            return self._route(request)
        except ParamError as exc:
            return _errors(422, str(exc))
        except BadRequest as exc:
            return _errors(400, exc.message)

    def _route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")[1:]
        name = parts[0] if parts else ""
        params = request.params()
        if request.method == "POST" and parts == ["tags"]:
            return self._create_tag(request)
        answer = self.memberships.route(request, parts, params)
        if answer is not None:
            return answer
        if request.method != "GET":
            return _errors(404, *NOT_FOUND)
        if parts == ["account"]:
            return Response.json(200, self.data.account)
        if parts == ["subscribers"]:
            return self._subscribers(params)
        if len(parts) == 2 and name == "subscribers" and parts[1].isdigit():
            return self._one_subscriber(int(parts[1]))
        if parts == ["forms"]:
            return self._forms(params)
        if parts == ["broadcasts"]:
            return self._broadcasts(params)
        if len(parts) == 1 and name in SIMPLE_LISTS:
            return _list(name, self._simple_list(name), params)
        return _errors(404, *NOT_FOUND)

    def _subscribers(self, params: dict[str, str]) -> Response:
        status = subscriber_status(params)
        sort_field = params.get("sort_field") or "id"
        if sort_field not in SUBSCRIBER_SORTS:
            raise ParamError(f"The sort_field param must be one of {', '.join(SUBSCRIBER_SORTS)}.")
        if sort_field == "cancelled_at" and status != "cancelled":
            raise ParamError("The status param must be `cancelled` if sort_field is `cancelled_at`")
        order = params.get("sort_order") or "desc"
        if order not in ("asc", "desc"):
            raise ParamError("The sort_order param must be asc or desc.")
        email = params.get("email_address")
        filtered = email or any(
            params.get(f"{w}_{e}") for w in ("created", "updated") for e in ("after", "before")
        )
        if sort_field == "id" and not filtered:
            # Read in place: a page of a large account costs one page (decision: seeded.py).
            view = self.store.subscriber_view(status, descending=order == "desc")
            return list_answer("subscribers", view, params, descending=order == "desc")
        items = [s for s in self.store.subscribers() if status == "all" or s["state"] == status]
        if email:
            items = [s for s in items if s["email_address"].lower() == email.lower()]
        for field, stored in (("created", "created_at"), ("updated", "_updated_at")):
            test = date_filter(params, field, stored)
            if test is not None:
                items = [s for s in items if test(s)]
        column = SUBSCRIBER_SORTS[sort_field]

        def key(item: dict[str, Any]) -> SortKey:
            return [item["id"]] if column is None else [item[column], item["id"]]

        items.sort(key=key, reverse=order == "desc")
        return list_answer("subscribers", items, params, key=key, descending=order == "desc")

    def _one_subscriber(self, subscriber_id: int) -> Response:
        item = self.store.subscriber(subscriber_id)
        if item is None:
            return _errors(404, *NOT_FOUND)
        return Response.json(200, {"subscriber": public_item(item)})

    def _forms(self, params: dict[str, str]) -> Response:
        status = params.get("status") or "active"
        if status not in (*FORM_STATUSES, "all"):
            raise ParamError(f"The status param must be one of {', '.join(FORM_STATUSES)}, all.")
        kind = params.get("type")
        if kind not in (None, "", "embed", "hosted"):
            raise ParamError("The type param must be embed or hosted.")
        items = [
            f
            for f in self.data.forms
            if (status == "all" or f.get("_status", "active") == status)
            and (not kind or f["type"] == kind)
        ]
        return _list("forms", items, params)

    def _broadcasts(self, params: dict[str, str]) -> Response:
        status = params.get("status")
        if status and status not in BROADCAST_STATUSES:
            raise ParamError(f"The status param must be one of {', '.join(BROADCAST_STATUSES)}.")
        items = [b for b in self.data.broadcasts if not status or b.get("status") == status]
        return _list("broadcasts", items, params)

    def _simple_list(self, name: str) -> list[dict[str, Any]]:
        if name == "tags":
            return self.store.tags()
        if name == "sequences":
            return self.store.sequences()
        items: list[dict[str, Any]] = getattr(self.data, name)
        return items

    def _create_tag(self, request: Request) -> Response:
        body = request.json_body()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return _errors(422, "Name can't be blank")
        tag, created = self.store.create_tag(name.strip())
        return Response.json(201 if created else 200, {"tag": public_item(tag)})


def _list(name: str, items: list[dict[str, Any]], params: dict[str, str]) -> Response:
    """Answer one page of a list that Kit sorts by id (newest first where Kit does)."""
    newest_first = name in NEWEST_FIRST
    ordered = sorted(items, key=lambda item: item["id"], reverse=newest_first)
    return list_answer(name, ordered, params, descending=newest_first)
