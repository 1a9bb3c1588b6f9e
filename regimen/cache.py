"""The engine's one cache: order records (regimenguard.regimen.order_record) by the order's content.

Pharmacy traffic and a nightly review repeat their orders (the same ibuprofen 600 mg three times
a day in thousands of regimens). What an order contributes (whether it can be checked, its
product, ingredients, amounts, the nodes of its route, the names it could not resolve, its MME)
depends only on the order and the knowledge base, so ``RegimenChecker`` keeps its record here,
bounded, and counts hits and misses for the metrics (``regimenguard_order_records_*``). The key
is the received order, or at the gRPC door the bytes of its message (an order whose message
cannot be decoded is never kept). An unknown name's close matches (a costly search over every
known name) are kept here too, keyed ``("close matches", name)``: orders that differ in their
amounts often share the same unknown name. It never changes an answer: the key is the whole
order, or the name. A record also keeps what a request's facts take from its order at each index
the order was checked at (regimenguard.regimen.facts: the resolved order, its markers, each
ingredient's use as that order alone makes it), which depends on the order and its index alone.
It is emptied when full, and a value with a ``release`` method is told so (a record then drops
the entries that refer back to it, so that it is freed at once rather than by the cyclic
garbage collector's next full pass over every live object); dict reads and writes are atomic
under the GIL, so
threads may share it (the counters are then approximate). There is no other cache on the
checking path.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_SIZE = 8192


@dataclass(frozen=True, slots=True)
class CacheStats:
    entries: int
    hits: int
    misses: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class OrderRecords(Generic[V]):
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._values: dict[Hashable, V] = {}
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        value = self._values.get(key)
        if value is None:
            self.misses += 1
            value = compute()
            if len(self._values) >= self._size:
                self._empty()
            self._values[key] = value
        else:
            self.hits += 1
        return value

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key`` (counted as a hit), or None (not counted: see ``put``)."""
        value = self._values.get(key)
        if value is not None:
            self.hits += 1
        return value

    def lookup(self, keys: Iterable[Hashable]) -> tuple[list[V | None], int]:
        """The value kept for each of ``keys``, or None (``get`` of each, those found counted
        as hits, in C loops), and how many were not found."""
        found = list(map(self._values.get, keys))
        new = found.count(None)
        self.hits += len(found) - new
        return found, new

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` for ``key``, computed after ``get`` found none (counted as a miss)."""
        self.misses += 1
        if len(self._values) >= self._size:
            self._empty()
        self._values[key] = value
        return value

    def _empty(self) -> None:
        values, self._values = self._values, {}
        for value in values.values():
            release = getattr(value, "release", None)
            if release is not None:
                release()

    def stats(self) -> CacheStats:
        return CacheStats(len(self._values), self.hits, self.misses)

    def __len__(self) -> int:
        return len(self._values)
