"""Webhook deliveries as a job table, worked by every replica, each delivery by one worker.

A worker claims due deliveries (``polis.gateway.coordination.claims``: a claim token and a
claim expiry stamped in one statement), sends each one (a signed POST with httpx) and records
the outcome only while its claim stands: delivered, failed, or due again after an exponential
back-off. A replica that dies mid-attempt leaves a claim that expires, and another replica
retries the delivery; receivers deduplicate on ``X-Polis-Delivery``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
import httpx
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from polis.common.logging import get_logger
from polis.gateway.coordination import claims
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.db.sql import db_now_s
from polis.gateway.domain import webhooks

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed delivery: what to send, where, and the claim it is sent under."""

    id: str
    token: str
    attempt: int
    event: str
    payload: str
    url: str | None  # None when the subscription was deleted or deactivated
    secret: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # delivered, failed, retrying or cancelled
    code: int | None = None
    error: str | None = None
    retry_in_s: float = 0.0


class DeliveryStore:
    """The SQL of the job table (blocking; the worker calls it from a thread)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        """``now`` is the Polis clock, for the delivery log's ``delivered_at``."""
        self._engine = engine
        self._now = now

    def claim(self, limit: int, hold_s: float) -> list[Claimed]:
        token = str(uuid.uuid4())
        d = WebhookDelivery
        s = WebhookSubscription
        with self._engine.begin() as connection:
            ids = list(
                connection.execute(claims.claim(d, token, limit, hold_s).returning(d.id)).scalars()
            )
            if not ids:
                return []
            rows = connection.execute(
                select(d.id, d.attempts, d.event, d.payload, s.url, s.secret, s.active)
                .join(s, s.id == d.subscription_id)
                .where(d.id.in_(ids))
            ).all()
        return [
            Claimed(
                id=row.id,
                token=token,
                attempt=row.attempts,
                event=row.event,
                payload=row.payload,
                url=row.url if row.active else None,
                secret=row.secret,
            )
            for row in rows
        ]

    def record(self, job: Claimed, outcome: Outcome) -> bool:
        """Write the outcome if ``job``'s claim still stands; returns whether it did."""
        values: dict[str, object] = {
            "status": outcome.status,
            "last_status_code": outcome.code,
            "last_error": outcome.error,
        }
        if outcome.status == "delivered":
            values["delivered_at"] = self._now()
        if outcome.status == "retrying":
            values["due_s"] = db_now_s() + outcome.retry_in_s
        with self._engine.begin() as connection:
            result = connection.execute(claims.finish(WebhookDelivery, job.id, job.token, **values))
        return result.rowcount == 1


class DeliveryWorker:
    """Claims and sends due deliveries, at most ``concurrency`` at a time per replica."""

    def __init__(
        self,
        store: DeliveryStore,
        client: httpx.AsyncClient,
        *,
        max_attempts: int,
        backoff_s: float,
        timeout_s: float,
        poll_s: float,
        concurrency: int = 16,
    ) -> None:
        self._store = store
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._poll_s = poll_s
        self._concurrency = concurrency
        # A claim outlives one attempt (the POST's timeout) by a wide margin.
        self._hold_s = timeout_s * 2 + 10.0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._draining = False

    def wake(self) -> None:
        """Look for due deliveries now (called on the event loop, e.g. after events commit)."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                # Cleared before claiming: a wake-up during the claim is not lost.
                self._wake.clear()
                free = self._concurrency - len(self._tasks)
                claimed: list[Claimed] = []
                if free > 0 and not self._draining:
                    try:
                        claimed = await anyio.to_thread.run_sync(
                            self._store.claim, free, self._hold_s
                        )
                    except SQLAlchemyError:
                        log.warning("webhook deliveries unreachable; retrying")
                for job in claimed:
                    task = asyncio.create_task(self._attempt(job))
                    self._tasks.add(task)
                    task.add_done_callback(self._done)
                if claimed and len(claimed) == free:
                    continue  # there may be more due right now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_s)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self, timeout_s: float) -> None:
        """Claim nothing more and let the attempts under way finish (up to ``timeout_s``), so
        a replica shutting down leaves no claim for another to wait out and repeat."""
        self._draining = True
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # a slot is free

    async def _attempt(self, job: Claimed) -> None:
        outcome = await self._send(job)
        try:
            recorded = await anyio.to_thread.run_sync(self._store.record, job, outcome)
        except SQLAlchemyError:
            # The claim expires and the delivery is tried again: at least once, not lost.
            log.warning("webhook outcome not recorded", delivery=job.id)
            return
        log.info(
            "webhook delivery",
            delivery=job.id,
            attempt=job.attempt,
            outcome=outcome.status,
            status=outcome.code,
            recorded=recorded,
        )
        if recorded and outcome.status == "retrying":
            asyncio.get_running_loop().call_later(outcome.retry_in_s, self._wake.set)

    async def _send(self, job: Claimed) -> Outcome:
        if job.url is None:
            return Outcome("cancelled")
        if job.attempt > self._max_attempts:
            # Claimed again after a replica died during the last allowed attempt.
            return Outcome("failed", error="attempts exhausted")
        # Wall-clock seconds: receivers check this against their own clocks to refuse replays.
        timestamp = int(time.time())
        raw = job.payload.encode()
        headers = {
            "Content-Type": "application/json",
            webhooks.TIMESTAMP_HEADER: str(timestamp),
            webhooks.SIGNATURE_HEADER: webhooks.sign(job.secret, timestamp, raw),
            webhooks.EVENT_HEADER: job.event,
            webhooks.DELIVERY_HEADER: job.id,
        }
        code: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(job.url, content=raw, headers=headers)
            code = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        if code is not None and 200 <= code < 300:
            return Outcome("delivered", code)
        if not webhooks.should_retry(code) or job.attempt >= self._max_attempts:
            return Outcome("failed", code, error)
        return Outcome("retrying", code, error, webhooks.backoff_s(job.attempt, self._backoff_s))
