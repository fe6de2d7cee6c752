"""Shared state of gateway replicas on SQLite: rate buckets, the leader lease, delivery claims,
cache epochs and plan versions. The same code runs on PostgreSQL in test_replicas.py."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from polis.gateway.application.database import Database
from polis.gateway.coordination import epochs
from polis.gateway.coordination.deliveries import DeliveryStore, Outcome
from polis.gateway.coordination.lease import Lease
from polis.gateway.db.engine import session_factory
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.security.ratelimit import SharedTokenBuckets

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_shared_bucket_allows_burst_then_refills_at_rate(engine: Engine) -> None:
    buckets = SharedTokenBuckets(engine, rate=2.0, burst=3)
    t0 = 1_000_000.0
    assert [buckets.take("k", now=t0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k", now=t0) == pytest.approx(0.5)
    assert buckets.take("other", now=t0) == 0.0
    assert buckets.take("k", now=t0 + 0.5) == 0.0  # one token back after 1/rate seconds
    assert buckets.take("k", now=t0 + 0.5) == pytest.approx(0.5)
    # An earlier instant (another replica's statement, committed later) takes no tokens back.
    assert buckets.take("k", now=t0) == pytest.approx(0.5)
    assert buckets.take("k", rate=10.0, now=t0 + 100.0) == 0.0


def test_two_limiters_on_one_database_share_each_bucket(engine: Engine) -> None:
    one, two = SharedTokenBuckets(engine, 0.001, 5), SharedTokenBuckets(engine, 0.001, 5)
    waits = [(one if i % 2 else two).take("k") for i in range(9)]
    assert waits.count(0.0) == 5
    assert all(w > 900 for w in waits[5:])  # 1 token at 0.001/s: about 1000 s away


def test_full_buckets_are_pruned(engine: Engine) -> None:
    buckets = SharedTokenBuckets(engine, rate=1000.0, burst=2)
    buckets.take("idle", now=1.0)  # full again 1 ms later, long before the database's now
    buckets.take("busy", rate=1e-9, now=time.time())  # refills in centuries
    assert buckets.prune() == 1
    assert buckets.take("busy", rate=1e-9, now=time.time()) == 0.0
    assert buckets.take("busy", rate=1e-9, now=time.time()) > 0


def test_lease_is_held_by_one_replica_until_it_expires_or_is_released(engine: Engine) -> None:
    a = Lease(engine, "gateway", "replica-a", ttl_s=0.5)
    b = Lease(engine, "gateway", "replica-b", ttl_s=0.5)
    first = a.acquire()
    assert first is not None
    assert b.acquire() is None
    renewed = a.acquire()
    assert renewed is not None
    assert renewed.term == first.term  # a renewal, not a new term
    assert a.holder_now() == "replica-a"
    time.sleep(0.6)  # a stops renewing: the lease expires on the database's clock
    taken = b.acquire()
    assert taken is not None
    assert taken.term == first.term + 1
    assert a.acquire() is None
    b.release()
    assert b.holder_now() is None
    again = a.acquire()
    assert again is not None
    assert again.term == first.term + 2


def _queue(engine: Engine, count: int) -> None:
    with session_factory(engine)() as session:
        sub = WebhookSubscription(
            owner="key:x",
            owner_role="admin",
            owner_buildings=[],
            url="http://127.0.0.1:9/hook",
            events=["alarm"],
            secret="s" * 40,
            created_at=NOW,
            active=True,
        )
        session.add(sub)
        session.flush()
        for i in range(count):
            session.add(
                WebhookDelivery(
                    id=f"d{i:02d}",
                    subscription_id=sub.id,
                    event="alarm",
                    payload="{}",
                    status="pending",
                    attempts=0,
                    created_at=NOW,
                    due_s=0.0,
                )
            )
        session.commit()


def test_claims_are_exclusive_and_outcomes_need_the_claim(engine: Engine) -> None:
    _queue(engine, 5)
    one, two = DeliveryStore(engine, lambda: NOW), DeliveryStore(engine, lambda: NOW)
    first = one.claim(3, hold_s=60)
    second = two.claim(10, hold_s=60)
    assert (len(first), len(second)) == (3, 2)
    assert not {j.id for j in first} & {j.id for j in second}
    assert two.claim(10, hold_s=60) == []  # all held
    assert (first[0].attempt, first[0].url) == (1, "http://127.0.0.1:9/hook")

    assert one.record(first[0], Outcome("delivered", 200))
    assert one.record(first[1], Outcome("retrying", 503, retry_in_s=3600))
    # A claim that lapsed and was taken over cannot record over the new holder's outcome.
    stale = dataclasses.replace(first[2], token="lapsed")
    assert not one.record(stale, Outcome("failed", 410))
    with session_factory(engine)() as session:
        rows = {d.id: d for d in session.scalars(select(WebhookDelivery))}
    assert rows[first[0].id].status == "delivered"
    assert rows[first[0].id].delivered_at == NOW
    assert rows[first[1].id].status == "retrying"
    assert rows[first[1].id].due_s > time.time() + 3000  # not due again for an hour
    assert rows[first[2].id].status == "pending"


def test_expired_claims_are_claimed_again(engine: Engine) -> None:
    _queue(engine, 1)
    store = DeliveryStore(engine, lambda: NOW)
    [job] = store.claim(1, hold_s=0.2)
    time.sleep(0.3)  # the worker died mid-attempt
    [again] = store.claim(1, hold_s=60)
    assert (again.id, again.attempt) == (job.id, 2)
    assert again.token != job.token
    assert not store.record(job, Outcome("delivered", 200))
    assert store.record(again, Outcome("delivered", 200))


async def test_epoch_watcher_clears_caches_whose_epoch_moved(engine: Engine) -> None:
    db = Database(session_factory(engine))
    cleared: list[str] = []
    watcher = epochs.EpochWatcher(
        db, {"keys": lambda: cleared.append("keys"), "reports": lambda: cleared.append("r")}, 1.0
    )
    assert await watcher.check() == []
    db.run_sync(lambda session: epochs.bump(session, "keys"))
    assert await watcher.check() == ["keys"]
    assert await watcher.check() == []
    db.run_sync(lambda session: epochs.bump(session, "keys"))
    db.run_sync(lambda session: epochs.bump(session, "reports"))
    assert sorted(await watcher.check()) == ["keys", "reports"]
    assert cleared == ["keys", "keys", "r"]
