"""The short-lived caches of the hot read paths (pure; time is a fake clock)."""

from __future__ import annotations

import asyncio

import pytest

from polis.gateway.caching import AsyncTtlCache, TtlMap
from polis.gateway.security import keys
from polis.gateway.security.key_cache import KeyCache, KeyRecord, verify
from polis.gateway.security.roles import Principal, Role

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    clock = FakeClock()
    cache: TtlMap[str, int] = TtlMap(2.0, clock=clock)
    cache.put("a", 1)
    clock.now += 1.999
    assert cache.get("a") == 1
    clock.now += 0.001
    assert cache.get("a") is None
    assert len(cache) == 0


def test_zero_ttl_keeps_nothing() -> None:
    cache: TtlMap[str, int] = TtlMap(0.0)
    cache.put("a", 1)
    assert cache.get("a") is None


def test_a_full_map_drops_expired_entries_first_then_the_oldest() -> None:
    clock = FakeClock()
    cache: TtlMap[int, int] = TtlMap(10.0, max_entries=4, clock=clock)
    cache.put(0, 0)
    clock.now += 11  # entry 0 has expired
    for i in range(1, 4):
        cache.put(i, i)
    cache.put(4, 4)  # full: the expired entry goes, the live ones stay
    assert [cache.get(i) for i in range(5)] == [None, 1, 2, 3, 4]
    cache.put(5, 5)  # full of live entries: the oldest half goes
    assert [cache.get(i) for i in range(1, 6)] == [None, None, 3, 4, 5]


async def test_concurrent_callers_share_one_load() -> None:
    cache: AsyncTtlCache[str, int] = AsyncTtlCache(60.0)
    calls = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 42

    waiting = [asyncio.create_task(cache.get("k", load)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [42] * 10
    assert await cache.get("k", load) == 42
    assert calls == 1


async def test_a_failed_load_is_not_cached_and_reaches_every_waiter() -> None:
    cache: AsyncTtlCache[str, int] = AsyncTtlCache(60.0)
    gate = asyncio.Event()

    async def failing() -> int:
        await gate.wait()
        raise RuntimeError("store down")

    async def working() -> int:
        return 7

    waiting = [asyncio.create_task(cache.get("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await cache.get("k", working) == 7


async def test_clear_discards_a_load_that_was_under_way() -> None:
    cache: AsyncTtlCache[str, int] = AsyncTtlCache(60.0)
    gate = asyncio.Event()
    values = iter([1, 2])

    async def load() -> int:
        await gate.wait()
        return next(values)

    first = asyncio.create_task(cache.get("k", load))
    await asyncio.sleep(0)
    cache.clear()  # e.g. data was imported while the old report was being fetched
    gate.set()
    assert await first == 1
    assert await cache.get("k", load) == 2


def _record(secret: str, *, revoked: bool = False) -> KeyRecord:
    principal = Principal(subject="key:abc", role=Role.ENERGY_DEPARTMENT)
    return KeyRecord(keys.hash_secret(secret), principal, revoked)


@pytest.mark.parametrize(
    ("record", "secret", "accepted"),
    [
        (_record("right"), "right", True),
        (_record("right"), "wrong", False),
        (_record("right", revoked=True), "right", False),
        (None, "", False),
        (None, "anything", False),
    ],
)
def test_verify_needs_the_right_secret_of_a_live_key(
    record: KeyRecord | None, secret: str, accepted: bool
) -> None:
    principal = verify(record, secret)
    assert (principal is not None) == accepted
    if accepted:
        assert record is not None
        assert principal == record.principal


def test_a_record_loaded_before_a_revocation_is_not_kept() -> None:
    cache = KeyCache(30.0)
    before = cache.generation
    cache.invalidate("abc")  # revoked while the old row was being read
    cache.put("abc", _record("s"), before)
    assert cache.get("abc") is None
    cache.put("abc", _record("s"), cache.generation)
    assert cache.get("abc") is not None
    cache.invalidate("abc")
    assert cache.get("abc") is None
