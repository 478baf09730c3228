"""The sandbox's Kit API v4 subset: bearer auth, rate limit, lists with cursors, tags."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kit_desktop.sandbox.data import Dataset, public_item
from kit_desktop.sandbox.messages import BadRequest, Request, Response
from kit_desktop.sandbox.oauth import OAuthServer
from kit_desktop.sandbox.pagination import ParamError, SortKey, paginate

RATE_LIMIT = 600
RATE_WINDOW = 60.0

SUBSCRIBER_STATES = ("active", "inactive", "bounced", "complained", "cancelled")
SUBSCRIBER_SORTS = {
    "id": None,
    "created_at": "created_at",
    "updated_at": "_updated_at",
    "cancelled_at": "_cancelled_at",
}
FORM_STATUSES = ("active", "archived", "trashed")
BROADCAST_STATUSES = ("draft", "scheduled", "sending", "completed", "aborted")
SIMPLE_LISTS = ("tags", "sequences", "custom_fields", "email_templates")


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
    ) -> None:
        self.oauth = oauth
        self.data = dataset
        self.limiter = RateLimiter(rate_limit, RATE_WINDOW, clock)
        self._tags = [dict(tag) for tag in dataset.tags]
        self._tags_lock = threading.Lock()

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
        if not self.limiter.allow(token):
            return Response(429, b"", {"Content-Type": "text/plain; charset=utf-8"})
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
            items = self._tags_snapshot() if name == "tags" else getattr(self.data, name)
            return _list(name, items, params)
        return _errors(404, *NOT_FOUND)

    def _subscribers(self, params: dict[str, str]) -> Response:
        status = params.get("status") or "active"
        if status not in (*SUBSCRIBER_STATES, "all"):
            raise ParamError(
                f"The status param must be one of {', '.join(SUBSCRIBER_STATES)}, all."
            )
        sort_field = params.get("sort_field") or "id"
        if sort_field not in SUBSCRIBER_SORTS:
            raise ParamError(f"The sort_field param must be one of {', '.join(SUBSCRIBER_SORTS)}.")
        if sort_field == "cancelled_at" and status != "cancelled":
            raise ParamError("The status param must be `cancelled` if sort_field is `cancelled_at`")
        order = params.get("sort_order") or "desc"
        if order not in ("asc", "desc"):
            raise ParamError("The sort_order param must be asc or desc.")
        items = [s for s in self.data.subscribers if status == "all" or s["state"] == status]
        email = params.get("email_address")
        if email:
            items = [s for s in items if s["email_address"].lower() == email.lower()]
        for field, stored in (("created", "created_at"), ("updated", "_updated_at")):
            after, before = _date(params, f"{field}_after"), _date(params, f"{field}_before")
            if after or before:
                items = [s for s in items if _within(s.get(stored), after, before)]
        column = SUBSCRIBER_SORTS[sort_field]

        def key(item: dict[str, Any]) -> SortKey:
            return [item["id"]] if column is None else [item[column], item["id"]]

        items.sort(key=key, reverse=order == "desc")
        return _list("subscribers", items, params, key=key, descending=order == "desc")

    def _one_subscriber(self, subscriber_id: int) -> Response:
        for item in self.data.subscribers:
            if item["id"] == subscriber_id:
                return Response.json(200, {"subscriber": public_item(item)})
        return _errors(404, *NOT_FOUND)

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

    def _tags_snapshot(self) -> list[dict[str, Any]]:
        with self._tags_lock:
            return list(self._tags)

    def _create_tag(self, request: Request) -> Response:
        body = request.json_body()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            return _errors(422, "Name can't be blank")
        name = name.strip()
        with self._tags_lock:
            for tag in self._tags:
                if tag["name"].lower() == name.lower():
                    return Response.json(200, {"tag": public_item(tag)})
            tag = {
                "id": max((t["id"] for t in self._tags), default=0) + 1,
                "name": name,
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            self._tags.append(tag)
        return Response.json(201, {"tag": tag})


def _list(
    name: str,
    items: list[dict[str, Any]],
    params: dict[str, str],
    *,
    key: Callable[[dict[str, Any]], SortKey] | None = None,
    descending: bool = False,
) -> Response:
    page, pagination = paginate(
        items, key or (lambda item: [item["id"]]), params, descending=descending
    )
    return Response.json(200, {name: [public_item(i) for i in page], "pagination": pagination})


def _date(params: dict[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    text = raw.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ParamError(f"The {name} param must be a date (yyyy-mm-dd).") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _within(stamp: str | None, after: datetime | None, before: datetime | None) -> bool:
    if stamp is None:
        return False
    value = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (after is None or value > after) and (before is None or value < before)
