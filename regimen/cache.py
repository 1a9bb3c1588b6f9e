"""A bounded memo for values derived only from immutable inputs and the knowledge base.

Pharmacy traffic repeats itself: the same order text and dose, the same interacting pair.
What depends only on a frozen order, or on the knowledge base and a few names, is computed
once and reused. The cache never changes an answer (its keys are the complete inputs); it is
emptied when full, and dict reads and writes are atomic under the GIL, so threads may share it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_SIZE = 8192


class BoundedCache(Generic[V]):
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._values: dict[Hashable, V] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        value = self._values.get(key)
        if value is None:
            value = compute()
            if len(self._values) >= self._size:
                self._values.clear()
            self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)
