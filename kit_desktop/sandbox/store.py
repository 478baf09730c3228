"""The practice account's changeable data, shared by the API's threads under one lock.

Subscribers, tags, and who is in which tag, form and sequence. The dataset
(:mod:`kit_desktop.sandbox.data`) has the subscribers, tags, forms and sequences; which
subscriber belongs where is seeded here from it, deterministically, with Kit's timestamps
(``tagged_at``, ``added_at``) and, for forms, the referrer the subscriber came from.

Items are never changed in place once shared: an update replaces the subscriber's dict in
the dataset's list, so a snapshot taken under the lock stays consistent while other
requests write.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from kit_desktop.sandbox.data import DATA_AS_OF, Dataset
from kit_desktop.sandbox.seeded import SubscriberView, generated_after

Item = dict[str, Any]
Kind = Literal["tags", "forms", "sequences"]
KINDS: tuple[Kind, ...] = ("tags", "forms", "sequences")


def now_iso() -> str:
    """Return the current UTC time as Kit writes it (``2026-11-16T12:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Membership:
    """One subscriber in one tag, form or sequence.

    Attributes:
        id: Increases with each new membership of its kind (Kit's cursor and order).
        owner: The tag, form or sequence id.
        subscriber_id: The subscriber's id.
        at: When it happened: ``tagged_at`` or ``added_at``.
        referrer: Forms only: the page the subscriber signed up on ('' when unknown).
    """

    id: int
    owner: int
    subscriber_id: int
    at: str
    referrer: str = ""


class AccountStore:
    """The account's subscribers, tags and memberships; every method is thread-safe.

    Args:
        dataset: The account's data. Its ``subscribers`` list is shared, not copied: new
            and updated subscribers appear in it (updated ones as new dicts).
        more_subscribers: How many subscribers to add after the dataset's, made on the fly
            (:mod:`kit_desktop.sandbox.seeded`); an updated one is kept apart.
    """

    def __init__(self, dataset: Dataset, *, more_subscribers: int = 0) -> None:
        self._lock = threading.Lock()
        self._data = dataset
        self._subscribers = dataset.subscribers
        self._generated = generated_after(self._subscribers, more_subscribers)
        self._before_generated = len(self._subscribers)
        self._changed: dict[int, Item] = {}
        self._index = {s["id"]: i for i, s in enumerate(self._subscribers)}
        self._emails = {s["email_address"].lower(): s["id"] for s in self._subscribers}
        self._tags = [dict(tag) for tag in dataset.tags]
        self._owners: dict[Kind, dict[int, Item]] = {
            "forms": {f["id"]: f for f in dataset.forms},
            "sequences": {s["id"]: s for s in dataset.sequences},
        }
        # Seeded on first use, from the subscribers there were before any write.
        self._seed_from = dataclasses.replace(dataset, subscribers=list(dataset.subscribers))
        self._seeded: dict[Kind, list[Membership]] | None = None

    def _members(self, kind: Kind) -> list[Membership]:
        """Return one kind's memberships, seeding them all on first use (hold the lock)."""
        if self._seeded is None:
            self._seeded = seed_memberships(self._seed_from)
        return self._seeded[kind]

    # --- subscribers ------------------------------------------------------------------------

    def subscribers(self) -> list[Item]:
        """Return every subscriber (a snapshot, in id order)."""
        with self._lock:
            if not self._generated:
                return list(self._subscribers)
            return list(self._view(lambda _item: True, with_generated=True))

    def subscriber_view(self, state: str, *, descending: bool) -> Sequence[Item]:
        """Return the subscribers in ``state`` (or ``all``), in id order, without copying.

        Made-on-the-fly subscribers are made only when read, so a page of a large account
        costs one page's worth of work.
        """
        with self._lock:
            view = self._view(
                lambda item: state in ("all", item["state"]),
                with_generated=state in ("all", "active"),
            )
        return SubscriberView(view.parts, view.changed, descending=descending)

    def subscriber(self, subscriber_id: int) -> Item | None:
        """Return one subscriber, or ``None``."""
        with self._lock:
            index = self._index.get(subscriber_id)
            if index is not None:
                return self._subscribers[index]
            return self._generated_one(subscriber_id)

    def subscriber_by_email(self, email: str) -> Item | None:
        """Return the subscriber with this email address (any case), or ``None``."""
        with self._lock:
            found = self._emails.get(email.strip().lower())
            if found is not None:
                return self._subscribers[self._index[found]]
            generated = self._generated.id_for_email(email)
            return None if generated is None else self._generated_one(generated)

    def _view(self, keep: Callable[[Item], bool], *, with_generated: bool) -> SubscriberView:
        """The stored subscribers ``keep`` accepts, around the made ones (hold the lock)."""
        split = self._before_generated
        head = [s for s in self._subscribers[:split] if keep(s)]
        tail = [s for s in self._subscribers[split:] if keep(s)]
        middle: Sequence[Item] = self._generated if with_generated else ()
        return SubscriberView((head, middle, tail), dict(self._changed))

    def _generated_one(self, subscriber_id: int) -> Item | None:
        """A made-on-the-fly subscriber (as changed since, if it was), or ``None``."""
        index = self._generated.position(subscriber_id)
        if index is None:
            return None
        return self._changed.get(subscriber_id) or self._generated[index]

    def upsert_subscriber(
        self, email: str, changes: Mapping[str, Any], state: str
    ) -> tuple[Item, bool]:
        """Create the subscriber with ``email``, or update the one that has it.

        Args:
            email: The email address (matched without regard to case).
            changes: ``first_name`` and/or ``fields`` (a dict of custom field values) to set.
            state: The state of a new subscriber (an existing one keeps its state).

        Returns:
            The subscriber as stored, and whether it was created.
        """
        stamp = now_iso()
        fields = dict(changes.get("fields") or {})
        with self._lock:
            found = self._emails.get(email.lower())
            made = None if found is not None else self._generated.id_for_email(email)
            if found is not None or made is not None:
                old = (
                    self._subscribers[self._index[found]]
                    if found is not None
                    else self._generated_one(made or 0) or {}
                )
                updated = {**old, "fields": {**old["fields"], **fields}, "_updated_at": stamp}
                if "first_name" in changes:
                    updated["first_name"] = changes["first_name"]
                if found is not None:
                    self._subscribers[self._index[found]] = updated
                else:
                    self._changed[updated["id"]] = updated
                return updated, False
            last_made = self._generated.first_id + len(self._generated) - 1
            new_id = max(max(self._index, default=100), last_made) + 1
            keys = [f["key"] for f in self._data.custom_fields]
            created: Item = {
                "id": new_id,
                "first_name": changes.get("first_name"),
                "email_address": email,
                "state": state,
                "created_at": stamp,
                "fields": {**dict.fromkeys(keys), **fields},
                "_updated_at": stamp,
                "_cancelled_at": stamp if state == "cancelled" else None,
            }
            self._index[new_id] = len(self._subscribers)
            self._emails[email.lower()] = new_id
            self._subscribers.append(created)
            return created, True

    # --- tags, forms, sequences -------------------------------------------------------------

    def tags(self) -> list[Item]:
        """Return every tag (a snapshot, in id order)."""
        with self._lock:
            return list(self._tags)

    def create_tag(self, name: str) -> tuple[Item, bool]:
        """Return the tag called ``name`` (any case), creating it if there is none.

        Returns:
            The tag, and whether it was created.
        """
        with self._lock:
            for tag in self._tags:
                if tag["name"].lower() == name.lower():
                    return tag, False
            tag = {
                "id": max((t["id"] for t in self._tags), default=0) + 1,
                "name": name,
                "created_at": now_iso(),
            }
            self._tags.append(tag)
            return tag, True

    def owner(self, kind: Kind, owner_id: int) -> Item | None:
        """Return the tag, form or sequence with this id, or ``None``."""
        with self._lock:
            if kind == "tags":
                return next((t for t in self._tags if t["id"] == owner_id), None)
            return self._owners[kind].get(owner_id)

    def sequences(self) -> list[Item]:
        """Return the sequences, each ``subscriber_count`` counting its members now."""
        with self._lock:
            counts: dict[int, int] = {}
            for member in self._members("sequences"):
                counts[member.owner] = counts.get(member.owner, 0) + 1
        return [{**s, "subscriber_count": counts.get(s["id"], 0)} for s in self._data.sequences]

    # --- memberships ------------------------------------------------------------------------

    def members(self, kind: Kind, owner_id: int) -> list[tuple[Membership, Item]]:
        """Return the memberships of one tag, form or sequence with their subscribers."""
        with self._lock:
            return [
                (m, self._subscribers[self._index[m.subscriber_id]])
                for m in self._members(kind)
                if m.owner == owner_id
            ]

    def taggings_of(self, subscriber_id: int) -> list[tuple[Membership, Item]]:
        """Return one subscriber's taggings with their tags."""
        with self._lock:
            tags = {t["id"]: t for t in self._tags}
            return [
                (m, tags[m.owner])
                for m in self._members("tags")
                if m.subscriber_id == subscriber_id
            ]

    def join(
        self, kind: Kind, owner_id: int, subscriber_id: int, referrer: str = ""
    ) -> tuple[Membership, bool]:
        """Put a subscriber in a tag, form or sequence, unless it is there already.

        Returns:
            The membership (the existing one if there was one), and whether it is new.
        """
        with self._lock:
            members = self._members(kind)
            for member in members:
                if member.owner == owner_id and member.subscriber_id == subscriber_id:
                    return member, False
            member = Membership(
                max((m.id for m in members), default=0) + 1,
                owner_id,
                subscriber_id,
                now_iso(),
                referrer,
            )
            members.append(member)
            return member, True


# --- seeding --------------------------------------------------------------------------------

_CAMPAIGNS = [
    ("instagram", "social", "bio_link", "", ""),
    ("youtube", "video", "gear_review", "", "description"),
    ("newsletter", "email", "friend_referral", "", ""),
    ("facebook", "cpc", "black_friday", "photographers", "get_10_off"),
    ("podcast", "audio", "episode_42", "", ""),
]
_PAGES = ["", "blog/lighting-basics", "blog/gear-checklist", "about", "courses/foundations"]


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _referrer(rng: random.Random, form: Item) -> str:
    base = form["embed_url"] if form["type"] == "hosted" else "https://www.example.com/"
    if form["type"] != "hosted":
        base += rng.choice(_PAGES)
    if rng.random() < 0.55:
        return base
    source, medium, campaign, term, content = rng.choice(_CAMPAIGNS)
    utm = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    utm.update({k: v for k, v in (("utm_term", term), ("utm_content", content)) if v})
    return f"{base}?{urlencode(utm)}"


def seed_memberships(dataset: Dataset) -> dict[Kind, list[Membership]]:
    """Return who is in which tag, form and sequence; the same dataset gives the same answer.

    Tags have a popularity each; most subscribers signed up through one form (on the day they
    were created), some through a second one later; each sequence holds exactly its
    ``subscriber_count`` subscribers. Ids follow the time of joining, per kind.
    """
    subscribers = dataset.subscribers
    first = subscribers[0]["email_address"] if subscribers else ""
    rng = random.Random(f"memberships/{len(subscribers)}/{first}")  # noqa: S311 - sample data
    end = _epoch(DATA_AS_OF)
    joined: dict[Kind, list[tuple[int, int, int, str]]] = {kind: [] for kind in KINDS}

    def later(*starts: int) -> int:
        start = max(starts)
        return rng.randint(start, max(start, end - 1))

    tags = [(tag["id"], _epoch(tag["created_at"]), rng.uniform(0.01, 0.3)) for tag in dataset.tags]
    created = {sub["id"]: _epoch(sub["created_at"]) for sub in subscribers}
    for sub in subscribers:
        since = created[sub["id"]]
        for tag_id, tag_created, popularity in tags:
            if rng.random() < popularity:
                joined["tags"].append((later(since, tag_created), tag_id, sub["id"], ""))
        forms = [f for f in dataset.forms if f["created_at"] <= sub["created_at"]]
        if forms and rng.random() < 0.85:
            form = rng.choice(forms)
            joined["forms"].append((since, form["id"], sub["id"], _referrer(rng, form)))
            others = [f for f in forms if f is not form]
            if others and rng.random() < 0.12:
                other = rng.choice(others)
                joined["forms"].append(
                    (later(since), other["id"], sub["id"], _referrer(rng, other))
                )
    for sequence in dataset.sequences:
        count = min(sequence["subscriber_count"], len(subscribers))
        start = _epoch(sequence["created_at"])
        for sub in rng.sample(subscribers, count):
            joined["sequences"].append(
                (later(created[sub["id"]], start), sequence["id"], sub["id"], "")
            )
    return {kind: list(_numbered(rows)) for kind, rows in joined.items()}


def _numbered(rows: list[tuple[int, int, int, str]]) -> Iterator[Membership]:
    for number, (when, owner, subscriber_id, referrer) in enumerate(sorted(rows), start=1):
        yield Membership(number, owner, subscriber_id, _iso(when), referrer)
