"""A large practice account: subscribers made on the fly from their position, never stored.

``SandboxServer(subscriber_count=N)`` (``python -m kit_desktop.sandbox --subscribers N``)
gives the account N subscribers. Beyond the dataset's own 1,320, each is computed from its
id when asked for (:class:`GeneratedSubscribers`), so 100,000 cost no memory and a page of
them costs what building 1,000 dicts costs. They are active, newer than every stored one
(their ids and ``created_at`` carry on in order) and belong to no tag, form or sequence.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from kit_desktop.sandbox import data as sample

Item = dict[str, Any]

_MULTIPLIER = 2654435761  # Knuth's multiplicative hash: a cheap, fixed "random" per id
_ID_IN_EMAIL = re.compile(r"\.(\d+)@")


def _pick(options: Sequence[Any], value: int) -> Any:
    return options[value % len(options)]


class _Lazy(Sequence[Item]):
    """A read-only sequence whose items are made when read (``_item``), never stored."""

    _size = 0

    def _item(self, index: int) -> Item:
        raise NotImplementedError

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> Item: ...
    @overload
    def __getitem__(self, index: slice) -> list[Item]: ...
    def __getitem__(self, index: int | slice) -> Item | list[Item]:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(self._size))]
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(index)
        return self._item(index)


class GeneratedSubscribers(_Lazy):
    """``count`` subscribers with ids from ``first_id`` on, made when read; the same each time.

    Args:
        count: How many.
        first_id: The first one's id; ids go up by one.
        since: Unix seconds after which the first one was created.
        until: Unix seconds before which the last one was created.
    """

    def __init__(self, count: int, first_id: int, since: int, until: int) -> None:
        self._size, self.first_id = max(0, count), first_id
        self.since, self.span = since, max(1, until - since)

    def __iter__(self) -> Iterator[Item]:
        return (self._item(i) for i in range(self._size))

    def position(self, subscriber_id: int) -> int | None:
        """Return the position of the subscriber with this id, or ``None``."""
        index = subscriber_id - self.first_id
        return index if 0 <= index < self._size else None

    def id_for_email(self, email: str) -> int | None:
        """Return the id of the subscriber with this email address (any case), or ``None``."""
        found = _ID_IN_EMAIL.search(email)
        if found is None:
            return None
        subscriber_id = int(found.group(1))
        index = self.position(subscriber_id)
        if index is None or self._item(index)["email_address"] != email.strip().lower():
            return None
        return subscriber_id

    def _item(self, index: int) -> Item:
        subscriber_id = self.first_id + index
        mix = (subscriber_id * _MULTIPLIER) & 0xFFFFFFFF
        first = None if mix % 13 == 0 else _pick(sample._FIRST_NAMES, mix >> 4)
        last = _pick(sample._LAST_NAMES, mix >> 11)
        local = sample._email_word(first or "reader") + "." + sample._email_word(last)
        created = self.since + (index + 1) * self.span // (self._size + 1)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
        return {
            "id": subscriber_id,
            "first_name": first,
            "email_address": f"{local}.{subscriber_id}@{_pick(sample._DOMAINS, mix >> 17)}",
            "state": "active",
            "created_at": stamp,
            "fields": {
                "last_name": last if mix % 10 < 7 else None,
                "company": _pick(sample._COMPANIES, mix >> 19) if mix % 5 == 0 else None,
                "category": _pick(sample._CATEGORIES, mix >> 21),
                "city": _pick(sample._CITIES, mix >> 23) if mix % 5 < 2 else None,
            },
            "_updated_at": stamp,
            "_cancelled_at": None,
        }


def sized_dataset(
    dataset: sample.Dataset, subscriber_count: int | None
) -> tuple[sample.Dataset, int]:
    """Return ``dataset`` with ``subscriber_count`` subscribers, and how many to make on read.

    Fewer than the dataset holds keeps its first ones; more keeps them all and asks for
    the rest to be made on the fly. ``None`` keeps the dataset as it is.

    Raises:
        ValueError: ``subscriber_count`` is negative.
    """
    if subscriber_count is None:
        return dataset, 0
    if subscriber_count < 0:
        raise ValueError("The number of subscribers cannot be negative.")
    stored = len(dataset.subscribers)
    if subscriber_count <= stored:
        return dataclasses.replace(dataset, subscribers=dataset.subscribers[:subscriber_count]), 0
    return dataset, subscriber_count - stored


def generated_after(stored: Sequence[Item], count: int) -> GeneratedSubscribers:
    """Return ``count`` generated subscribers that follow the ``stored`` ones in id and time."""
    last = stored[-1] if stored else None
    first_id = (last["id"] if last else 100) + 1
    since = sample._epoch(last["created_at"]) if last else sample._epoch("2023-01-03T08:00:00Z")
    return GeneratedSubscribers(count, first_id, since, sample._AS_OF - 60)


class SubscriberView(_Lazy):
    """Several id-ordered runs of subscribers read as one sequence, without copying them.

    Args:
        parts: The runs, in id order (each sorted by id, each one's ids above the last's).
        changed: Subscribers replaced since they were made, by id (read instead).
        descending: Read from the highest id down.
    """

    def __init__(
        self,
        parts: Sequence[Sequence[Item]],
        changed: Mapping[int, Item],
        *,
        descending: bool = False,
    ) -> None:
        self.parts, self.changed, self.descending = parts, changed, descending
        self._size = sum(len(p) for p in parts)

    def _item(self, index: int) -> Item:
        if self.descending:
            index = self._size - 1 - index
        for part in self.parts:
            if index < len(part):
                item = part[index]
                return self.changed.get(item["id"], item)
            index -= len(part)
        raise IndexError(index)
