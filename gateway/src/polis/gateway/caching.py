"""Short-lived caches for hot read paths: a TTL map and a single-flight async loader.

Time is passed in as a function (``time.monotonic`` by default) so the behaviour can be tested
without sleeping. Failures are never cached: a loader that raises leaves the key empty, and
every caller waiting on that load receives the same exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlMap(Generic[K, V]):
    """A bounded map whose entries expire ``ttl_s`` seconds after they were stored."""

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 0 or max_entries < 1:
            raise ValueError("ttl_s must be >= 0 and max_entries >= 1")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self.ttl_s == 0:
            return
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._evict()
        self._entries[key] = (self._clock() + self.ttl_s, value)

    def invalidate(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _evict(self) -> None:
        now = self._clock()
        expired = [k for k, (expires, _) in self._entries.items() if now >= expires]
        for key in expired:
            del self._entries[key]
        if len(self._entries) >= self.max_entries:
            # Still full of live entries: drop the oldest half (dicts keep insertion order).
            for key in list(self._entries)[: self.max_entries // 2 or 1]:
                del self._entries[key]


class AsyncTtlCache(Generic[K, V]):
    """``get(key, load)`` answers from the cache, or runs ``load`` once for all concurrent
    callers of the same key (single flight) and keeps its result for ``ttl_s`` seconds."""

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._values: TtlMap[K, V] = TtlMap(ttl_s, max_entries, clock)
        self._loading: dict[K, asyncio.Future[V]] = {}
        self._generation = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        cached = self._values.get(key)
        if cached is not None:
            return cached
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            value = await load()
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved here, so a load nobody else awaited is not logged
            raise
        except BaseException:
            future.cancel()  # the loading request was cancelled; its waiters see that too
            raise
        else:
            future.set_result(value)
            # A load that started before an invalidation may hold old data: do not keep it.
            if generation == self._generation:
                self._values.put(key, value)
            return value
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]

    def clear(self) -> None:
        """Forget every entry, and keep no result of a load already under way."""
        self._generation += 1
        self._values.clear()
        self._loading.clear()

    def __len__(self) -> int:
        return len(self._values)
