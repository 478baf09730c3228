"""Seeded, deterministic sample data for the local Kit sandbox (one creator account)."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACCOUNT_SUBDOMAIN",
    "DATA_AS_OF",
    "DEFAULT_SEED",
    "SUBSCRIBER_COUNT",
    "SUBSCRIBER_STATE_COUNTS",
    "Dataset",
    "build_dataset",
    "public_item",
]

DEFAULT_SEED = 2026
"""The seed the sandbox uses unless told otherwise."""

DATA_AS_OF = "2026-11-16T12:00:00Z"
"""The sandbox's fixed "now": nothing was created after it, scheduled broadcasts send after it."""

ACCOUNT_SUBDOMAIN = "sandbox-creator-studio"
"""The creator's ``<subdomain>.kit.com`` name, used in form and post URLs."""

SUBSCRIBER_STATE_COUNTS: dict[str, int] = {
    "active": 1062,
    "cancelled": 118,
    "inactive": 71,
    "bounced": 50,
    "complained": 19,
}
"""How many subscribers are in each state (the same for every seed)."""

SUBSCRIBER_COUNT = sum(SUBSCRIBER_STATE_COUNTS.values())
"""How many subscribers every dataset holds (1,320)."""


@dataclass(frozen=True)
class Dataset:
    """Everything the sandbox's account holds, as Kit's V4 API returns it.

    Each list item is a dict with exactly the public fields of that list endpoint's item, plus
    internal keys starting with ``_`` that the API layer uses for filtering and strips with
    :func:`public_item` before answering. Every list is sorted by ``id`` ascending, and ids and
    ``created_at`` increase together.

    Attributes:
        account: The exact body of ``GET /v4/account``.
        subscribers: ``GET /v4/subscribers`` items. Internal keys: ``_updated_at`` (ISO string)
            and ``_cancelled_at`` (ISO string for cancelled subscribers, else ``None``).
        tags: ``GET /v4/tags`` items.
        forms: ``GET /v4/forms`` items. Internal key: ``_status`` (``active``, ``archived``
            or ``trashed``).
        sequences: ``GET /v4/sequences`` items.
        broadcasts: ``GET /v4/broadcasts`` items, including the newer public ``status``
            (``draft``, ``scheduled``, ``sending``, ``completed`` or ``aborted``).
        custom_fields: ``GET /v4/custom_fields`` items; their ``key`` values key every
            subscriber's ``fields``.
        email_templates: ``GET /v4/email_templates`` items.
    """

    account: dict[str, Any]
    subscribers: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    forms: list[dict[str, Any]]
    sequences: list[dict[str, Any]]
    broadcasts: list[dict[str, Any]]
    custom_fields: list[dict[str, Any]]
    email_templates: list[dict[str, Any]]


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``item`` without its internal (``_``-prefixed) keys.

    The copy is shallow: nested values are shared with ``item``.

    Args:
        item: A list item from a :class:`Dataset`.

    Returns:
        The item as the API answers it.
    """
    return {key: value for key, value in item.items() if not key.startswith("_")}


def build_dataset(seed: int = DEFAULT_SEED) -> Dataset:
    """Build the sandbox account's data; the same seed always gives an equal dataset.

    Args:
        seed: Seeds the (non-cryptographic) generator that picks names, dates and ids.

    Returns:
        A fresh dataset; callers may mutate its lists and dicts.
    """
    rng = random.Random(seed)  # noqa: S311 - sample data, never anything secret
    account = _account()
    email_templates = _email_templates()
    custom_fields = _custom_fields()
    tags = _tags(rng)
    forms = _forms(rng)
    sequences = _sequences(rng, email_templates)
    broadcasts = _broadcasts(rng, email_templates, tags)
    subscribers = _subscribers(rng)
    return Dataset(
        account=account,
        subscribers=subscribers,
        tags=tags,
        forms=forms,
        sequences=sequences,
        broadcasts=broadcasts,
        custom_fields=custom_fields,
        email_templates=email_templates,
    )


# --- time and ids ---------------------------------------------------------------------------

_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


def _epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_AS_OF = _epoch(DATA_AS_OF)
_ACCOUNT_CREATED = "2022-11-08T15:04:12Z"


def _increasing_times(
    rng: random.Random, count: int, start: str, end: int, skew: float
) -> list[int]:
    """Return ``count`` strictly increasing epoch seconds in ``[start, end)``.

    ``skew`` below 1 crowds the times towards ``end`` (a list that grows faster over time).
    """
    first = _epoch(start)
    span = end - first
    times = sorted(first + int(span * rng.random() ** skew) for _ in range(count))
    for index in range(1, count):
        if times[index] <= times[index - 1]:
            times[index] = times[index - 1] + 1
    return times


def _increasing_ids(rng: random.Random, count: int, first: int, max_gap: int) -> list[int]:
    """Return ``count`` increasing positive ids from ``first``, with gaps of deleted records."""
    ids = [first]
    for _ in range(count - 1):
        ids.append(ids[-1] + rng.randint(1, max_gap))
    return ids


# --- account, templates, custom fields --------------------------------------------------------

_DEFAULT_SENDER = "hello@example.com"


def _account() -> dict[str, Any]:
    return {
        "user": {"email": "creator@example.com", "id": 7},
        "account": {
            "id": 7,
            "name": "Sandbox Creator Studio",
            "plan_type": "creator",
            "primary_email_address": "creator@example.com",
            "created_at": _ACCOUNT_CREATED,
            "timezone": {
                "name": "America/New_York",
                "friendly_name": "Eastern Time (US & Canada)",
                "utc_offset": "-05:00",
            },
            "sending_addresses": [
                {
                    "email_address": _DEFAULT_SENDER,
                    "from_name": "Sandbox Creator Studio",
                    "status": "verified",
                    "is_default": True,
                    "is_verified": True,
                    "is_dmarc_configured": True,
                },
                {
                    "email_address": "newsletter@example.org",
                    "from_name": "Sam at Sandbox Studio",
                    "status": "pending",
                    "is_default": False,
                    "is_verified": False,
                    "is_dmarc_configured": False,
                },
            ],
        },
    }


def _email_templates() -> list[dict[str, Any]]:
    rows = [
        (1, "Card", False, "HTML"),
        (2, "Classic", False, "HTML"),
        (6, "Text Only", True, "HTML"),
        (8, "Story", False, "Starting point"),
    ]
    return [
        {"id": id_, "name": name, "is_default": is_default, "category": category}
        for id_, name, is_default, category in rows
    ]


# ``category`` is always a string: Kit's published schema marks it required and non-null.
_CUSTOM_FIELDS = [
    (1, "last_name", "Last name"),
    (2, "company", "Company"),
    (3, "category", "Category"),
    (5, "city", "City"),
]


def _custom_fields() -> list[dict[str, Any]]:
    return [
        {"id": id_, "name": f"ck_field_{id_}_{key}", "key": key, "label": label}
        for id_, key, label in _CUSTOM_FIELDS
    ]


# --- tags, forms, sequences -------------------------------------------------------------------

# Roughly in the order the creator added them; dates are spread over the account's life.
_TAG_NAMES = [
    "Newsletter",
    "Lead magnet: Starter guide",
    "Customer",
    "Interested: Photography",
    "Webinar: Lighting basics",
    "Purchased: Ebook",
    "Interested: Writing",
    "Podcast listener",
    "VIP",
    "Course: Foundations",
    "Webinar: Editing live",
    "Beta tester",
    "Lead magnet: Gear checklist",
    "Interested: Video",
    "Affiliate",
    "Purchased: Presets pack",
    "Webinar: Portfolio review",
    "Survey responder",
    "Workshop attendee",
    "Cold subscriber",
    "Holiday sale buyer",
    "Re-engaged",
    "Course: Advanced editing",
    "Referral program",
    "Community member",
]


def _tags(rng: random.Random) -> list[dict[str, Any]]:
    ids = _increasing_ids(rng, len(_TAG_NAMES), 11, 4)
    times = _increasing_times(rng, len(_TAG_NAMES), "2022-11-20T10:00:00Z", _AS_OF - 20 * _DAY, 1.0)
    return [
        {"id": id_, "name": name, "created_at": _iso(when)}
        for id_, name, when in zip(ids, _TAG_NAMES, times, strict=True)
    ]


# (name, type, format, internal status); embed forms have a format, landing pages do not.
_FORMS: list[tuple[str, str, str | None, str]] = [
    ("Newsletter sign-up", "embed", "inline", "active"),
    ("Starter guide landing page", "hosted", None, "active"),
    ("Exit-intent popup", "embed", "modal", "archived"),
    ("Webinar registration", "hosted", None, "archived"),
    ("Footer opt-in", "embed", "inline", "active"),
    ("Gear checklist slide-in", "embed", "slide in", "trashed"),
    ("Link in bio", "hosted", None, "active"),
    ("Launch sticky bar", "embed", "sticky bar", "active"),
]


def _forms(rng: random.Random) -> list[dict[str, Any]]:
    ids = _increasing_ids(rng, len(_FORMS), 41, 6)
    times = _increasing_times(rng, len(_FORMS), "2022-11-21T09:00:00Z", _AS_OF - 30 * _DAY, 1.0)
    forms = []
    for id_, when, (name, kind, form_format, status) in zip(ids, times, _FORMS, strict=True):
        uid = f"{rng.getrandbits(40):010x}"
        url = f"https://{ACCOUNT_SUBDOMAIN}.kit.com/{uid}"
        forms.append(
            {
                "id": id_,
                "name": name,
                "created_at": _iso(when),
                "type": kind,
                "format": form_format,
                "embed_js": f"{url}/index.js",
                "embed_url": url,
                "archived": status == "archived",
                "uid": uid,
                "_status": status,
            }
        )
    return forms


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
_EVERY_DAY = [*_WEEKDAYS, "saturday", "sunday"]

# (name, send days, active, hold, repeat)
_SEQUENCES: list[tuple[str, list[str], bool, bool, bool]] = [
    ("Welcome series", _EVERY_DAY, True, False, False),
    ("Free course: 5 days to better photos", _WEEKDAYS, True, False, True),
    ("Evergreen newsletter", _EVERY_DAY, True, True, False),
    ("Customer onboarding", _WEEKDAYS, True, False, False),
    ("Re-engagement", ["tuesday", "thursday"], False, False, False),
]


def _sequences(rng: random.Random, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = _increasing_ids(rng, len(_SEQUENCES), 5, 3)
    times = _increasing_times(rng, len(_SEQUENCES), "2022-12-01T14:00:00Z", _AS_OF - 60 * _DAY, 1.0)
    sequences = []
    for id_, when, (name, days, active, hold, repeat) in zip(ids, times, _SEQUENCES, strict=True):
        updated = when + rng.randint(_HOUR, _AS_OF - when - _DAY)
        custom_sender = rng.random() < 0.4
        custom_template = rng.random() < 0.4
        sequences.append(
            {
                "id": id_,
                "name": name,
                "hold": hold,
                "repeat": repeat,
                "created_at": _iso(when),
                "updated_at": _iso(updated),
                "email_address": _DEFAULT_SENDER if custom_sender else None,
                "email_template_id": rng.choice(templates)["id"] if custom_template else None,
                "send_days": list(days),
                "send_hour": rng.randint(6, 18),
                "time_zone": "America/New_York",
                "active": active,
                "exclude_subscriber_sources": [],
                "email_count": rng.randint(3, 12),
                "subscriber_count": rng.randint(40, 900) if active else rng.randint(0, 60),
            }
        )
    return sequences


# --- broadcasts -----------------------------------------------------------------------------

_SUBJECTS = [
    "Welcome to the studio newsletter",
    "Three lighting tricks I use every week",
    "My gear bag, unpacked",
    "The one editing habit that changed everything",
    "Behind the scenes: a rainy shoot",
    "Your questions, answered",
    "New course: Foundations is open",
    "Last call: Foundations closes tonight",
    "What I learned from 100 portraits",
    "A short note about pricing",
    "Presets pack is here",
    "Why I shoot in manual (and when I don't)",
    "Field notes from Lisbon",
    "The webinar replay is up",
    "Five books on seeing better",
    "How to build a portfolio that gets replies",
    "Quick tip: fixing mixed white balance",
    "A year of the newsletter",
    "Holiday sale: 40% off everything",
    "The sale ends at midnight",
    "Ask me anything, live next week",
    "Colour grading without the guesswork",
    "Notes on slowing down",
    "The studio is moving",
    "New workshop dates",
    "Reader spotlight: your best shots",
    "Composition rules worth breaking",
    "Printing your work at home",
    "My yearly planning template",
    "Winter light, explained",
    "Small studio, big lessons",
    "A gentle reminder to back up your photos",
    "Getting started with video",
    "Travel light: a minimal kit",
]

_PREVIEWS = [
    "Plus a free checklist inside.",
    "It only takes five minutes.",
    "Short one this week.",
    "You asked, so here it is.",
    "Doors close soon.",
    "A quick update from the studio.",
]

# Positions of the newest broadcasts: one still sending, then scheduled ones and drafts.
_RECENT_STATUSES = ["scheduled", "scheduled", "draft", "draft", "draft"]
_BROADCAST_COUNT = 30
_ABORTED_COUNT = 2


def _broadcasts(
    rng: random.Random, templates: list[dict[str, Any]], tags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    recent = list(_RECENT_STATUSES)
    rng.shuffle(recent)
    older_count = _BROADCAST_COUNT - 1 - len(recent)
    statuses = ["completed"] * older_count + ["sending", *recent]
    for index in rng.sample(range(older_count), _ABORTED_COUNT):
        statuses[index] = "aborted"

    times = _increasing_times(rng, older_count, "2023-02-02T15:00:00Z", _AS_OF - 10 * _DAY, 1.0)
    times += _increasing_times(
        rng, _BROADCAST_COUNT - older_count, "2026-11-07T09:00:00Z", _AS_OF - _HOUR, 1.0
    )
    ids = _increasing_ids(rng, _BROADCAST_COUNT, 3, 3)
    publication_ids = _increasing_ids(rng, _BROADCAST_COUNT, 3, 5)
    subjects = rng.sample(_SUBJECTS, _BROADCAST_COUNT)
    default_template = next(t for t in templates if t["is_default"])

    broadcasts = []
    for index, status in enumerate(statuses):
        id_ = ids[index]
        created = times[index]
        subject = subjects[index]
        send_at: int | None
        if status in ("completed", "aborted"):
            send_at = created + rng.randint(_HOUR, 4 * _DAY)
        elif status == "sending":
            send_at = _AS_OF - 20 * _MINUTE
        elif status == "scheduled":
            send_at = _AS_OF + rng.randint(3, 45) * _DAY + rng.randint(0, 23) * _HOUR
        else:
            send_at = None
        is_public = status == "completed" and rng.random() < 0.7
        slug = "".join(c if c.isalnum() else "-" for c in subject.lower()).strip("-")
        slug = "-".join(part for part in slug.split("-") if part)
        has_thumbnail = is_public and rng.random() < 0.6
        template = default_template if rng.random() < 0.7 else rng.choice(templates)
        subscriber_filter: list[dict[str, Any]]
        if rng.random() < 0.85:
            subscriber_filter = [{"all": [{"type": "all_subscribers"}]}]
        else:
            subscriber_filter = [{"all": [{"type": "tag", "ids": [rng.choice(tags)["id"]]}]}]
        is_bare_draft = status == "draft" and rng.random() < 0.5
        broadcasts.append(
            {
                "id": id_,
                "publication_id": publication_ids[index],
                "created_at": _iso(created),
                "subject": subject,
                "preview_text": None if is_bare_draft else rng.choice(_PREVIEWS),
                "description": subject if is_public and rng.random() < 0.3 else None,
                "content": None if is_bare_draft else _content(subject),
                "public": is_public,
                "published_at": _iso(send_at) if is_public and send_at is not None else None,
                "send_at": None if send_at is None else _iso(send_at),
                "thumbnail_alt": f"Cover image for {subject}" if has_thumbnail else None,
                "thumbnail_url": (
                    f"https://images.example.com/broadcasts/{id_}/cover.jpg"
                    if has_thumbnail
                    else None
                ),
                "public_url": (
                    f"https://{ACCOUNT_SUBDOMAIN}.kit.com/posts/{slug}" if is_public else None
                ),
                "email_address": _DEFAULT_SENDER,
                "email_template": {"id": template["id"], "name": template["name"]},
                "subscriber_filter": subscriber_filter,
                "status": status,
            }
        )
    return broadcasts


def _content(subject: str) -> str:
    return (
        "<p>Hi {{ subscriber.first_name | default: 'there' }},</p>"
        f"<p>{subject}.</p>"
        "<p>Thanks for reading,<br>Sam</p>"
    )


# --- subscribers ----------------------------------------------------------------------------

_FIRST_NAMES = [
    "Aaliyah",
    "Aaron",
    "Abigail",
    "Adam",
    "Adrian",
    "Aisha",
    "Alejandro",
    "Alex",
    "Alice",
    "Amara",
    "Amelia",
    "Ana",
    "Andrew",
    "Anna",
    "Aoife",
    "Arjun",
    "Ava",
    "Ben",
    "Björn",
    "Camila",
    "Carlos",
    "Charlotte",
    "Chen",
    "Chloé",
    "Chris",
    "Daniel",
    "David",
    "Diego",
    "Dmitri",
    "Elena",
    "Eli",
    "Elif",
    "Emily",
    "Emma",
    "Ethan",
    "Fatima",
    "Finn",
    "Freya",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Harper",
    "Hiro",
    "Ibrahim",
    "Imani",
    "Isabella",
    "Jack",
    "James",
    "Jamie",
    "Jasmine",
    "Javier",
    "Jessica",
    "John",
    "José",
    "Julia",
    "Kai",
    "Karen",
    "Kenji",
    "Laura",
    "Leah",
    "Leo",
    "Liam",
    "Lily",
    "Lucas",
    "Lucía",
    "Maya",
    "Mateo",
    "Mei",
    "Mia",
    "Michael",
    "Mohammed",
    "Nadia",
    "Naomi",
    "Nina",
    "Noah",
    "Olivia",
    "Omar",
    "Oscar",
    "Priya",
    "Rachel",
    "Rafael",
    "Ravi",
    "Renée",
    "Rosa",
    "Ryan",
    "Sara",
    "Sebastian",
    "Siobhán",
    "Sofia",
    "Søren",
    "Sophie",
    "Tariq",
    "Theo",
    "Tom",
    "Valentina",
    "Wei",
    "William",
    "Yara",
    "Yusuf",
    "Zara",
    "Zoë",
    "Mary-Jane",
    "Jean-Luc",
]

_LAST_NAMES = [
    "Adams",
    "Ahmed",
    "Alvarez",
    "Andersen",
    "Baker",
    "Bianchi",
    "Brown",
    "Campbell",
    "Chen",
    "Clarke",
    "Costa",
    "Davis",
    "Dubois",
    "Dvořák",
    "Edwards",
    "Evans",
    "Fernandes",
    "Fischer",
    "Garcia",
    "Gonzalez",
    "Green",
    "Hall",
    "Hansen",
    "Hernández",
    "Hughes",
    "Ito",
    "Jackson",
    "Johnson",
    "Kaur",
    "Khan",
    "Kim",
    "Kowalski",
    "Lee",
    "Lopez",
    "Martin",
    "Müller",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "O'Brien",
    "O'Connor",
    "Okafor",
    "Patel",
    "Perez",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Suzuki",
    "Taylor",
    "Thomas",
    "Tanaka",
    "Van der Berg",
    "Walker",
    "Wang",
    "Williams",
    "Wilson",
    "Wright",
    "Yilmaz",
    "Zhang",
]

_COMPANIES = [
    "Northwind Studio",
    "Blue Fern Media",
    "Lumen & Co",
    "Harbor Photo",
    "Kestrel Labs",
    "Maple Street Bakery",
    "Quiet Pixel",
    "Riverbend Weddings",
    "Atlas Travel Co",
    "Brightside Design",
    "Copper Kettle Cafe",
    "Fieldnote Press",
]

_CATEGORIES = ["Reader", "Reader", "Reader", "Customer", "Student", "Podcast listener", "Workshop"]

_CITIES = [
    "Austin",
    "Berlin",
    "Brooklyn",
    "Cape Town",
    "Chicago",
    "Dublin",
    "Lisbon",
    "London",
    "Melbourne",
    "Mexico City",
    "Montréal",
    "Nairobi",
    "Osaka",
    "Portland",
    "São Paulo",
    "Seattle",
    "Toronto",
    "Vancouver",
]

_DOMAINS = ["example.com", "example.com", "example.com", "example.org", "example.net"]

_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "ß": "ss"})


def _email_word(name: str) -> str:
    """Fold a name to the lowercase ASCII letters an email address would use."""
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII_FOLD))
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


def _email_local(rng: random.Random, first: str | None, last: str) -> str:
    surname = _email_word(last)
    if first is None:
        pattern = rng.randrange(3)
        if pattern == 0:
            return f"{surname}{rng.randint(1, 999)}"
        if pattern == 1:
            return f"reader{rng.randint(100, 99999)}"
        return f"hello.{surname}"
    given = _email_word(first)
    pattern = rng.randrange(6)
    if pattern == 0:
        return f"{given}.{surname}"
    if pattern == 1:
        return f"{given}{surname[0]}"
    if pattern == 2:
        return f"{given[0]}{surname}"
    if pattern == 3:
        return f"{given}_{surname}{rng.randint(70, 99)}"
    if pattern == 4:
        return f"{given}{rng.randint(1, 2026)}"
    return f"{given}+newsletter"


def _subscribers(rng: random.Random) -> list[dict[str, Any]]:
    states = [state for state, count in SUBSCRIBER_STATE_COUNTS.items() for _ in range(count)]
    rng.shuffle(states)
    ids = _increasing_ids(rng, SUBSCRIBER_COUNT, 101, 3)
    # A list that grows faster over time: later dates are more crowded.
    times = _increasing_times(rng, SUBSCRIBER_COUNT, "2023-01-03T08:00:00Z", _AS_OF - 2 * _DAY, 0.8)

    used: set[str] = set()
    subscribers = []
    for id_, created, state in zip(ids, times, states, strict=True):
        first = None if rng.random() < 0.08 else rng.choice(_FIRST_NAMES)
        last = rng.choice(_LAST_NAMES)
        local = _email_local(rng, first, last)
        email = f"{local}@{rng.choice(_DOMAINS)}"
        suffix = 2
        while email in used:
            email = f"{local}{suffix}@{rng.choice(_DOMAINS)}"
            suffix += 1
        used.add(email)

        room = _AS_OF - created
        cancelled_at: int | None = None
        if state == "cancelled":
            cancelled_at = created + rng.randint(_HOUR, room - _HOUR)
            updated = cancelled_at
        elif state in ("bounced", "complained") or rng.random() < 0.5:
            updated = created + rng.randint(_MINUTE, room - _MINUTE)
        else:
            updated = created

        subscribers.append(
            {
                "id": id_,
                "first_name": first,
                "email_address": email,
                "state": state,
                "created_at": _iso(created),
                "fields": {
                    "last_name": last if rng.random() < 0.7 else None,
                    "company": rng.choice(_COMPANIES) if rng.random() < 0.2 else None,
                    "category": rng.choice(_CATEGORIES),
                    "city": rng.choice(_CITIES) if rng.random() < 0.4 else None,
                },
                "_updated_at": _iso(updated),
                "_cancelled_at": None if cancelled_at is None else _iso(cancelled_at),
            }
        )
    return subscribers
