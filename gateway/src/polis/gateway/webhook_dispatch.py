"""Webhook deliveries: signed POSTs sent with httpx, retried with back-off, logged in the DB.

Database work runs in worker threads so the event loop never waits on SQL.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from polis.common.logging import get_logger
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.domain import webhooks
from polis.gateway.security.roles import Principal, Role, can_read_building, can_read_neighbourhood

log = get_logger(__name__)
UNFINISHED = ("pending", "retrying")


def owner_principal(sub: WebhookSubscription) -> Principal:
    return Principal(
        subject=sub.owner,
        role=Role(sub.owner_role),
        buildings=frozenset(sub.owner_buildings),
        neighbourhood=sub.owner_neighbourhood,
    )


def may_receive(sub: WebhookSubscription, building: str | None, neighbourhood: str | None) -> bool:
    owner = owner_principal(sub)
    if building is not None:
        return can_read_building(owner, building)
    if neighbourhood is not None:
        return can_read_neighbourhood(owner, neighbourhood)
    return owner.role in (Role.ADMIN, Role.ENERGY_DEPARTMENT)


@dataclass(frozen=True, slots=True)
class Attempt:
    url: str
    secret: str
    body: str
    event: str


class WebhookDispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        client: httpx.AsyncClient,
        *,
        max_attempts: int,
        backoff_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    # database steps (worker threads) -----------------------------------------------------
    def _queue(
        self, event: str, body: str, building: str | None, neighbourhood: str | None
    ) -> list[str]:
        ids: list[str] = []
        with self._sessions() as session:
            subs = session.scalars(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
            ).all()
            for sub in subs:
                if event not in sub.events or not may_receive(sub, building, neighbourhood):
                    continue
                delivery = WebhookDelivery(
                    id=str(uuid.uuid4()), subscription_id=sub.id, event=event, payload=body
                )
                session.add(delivery)
                ids.append(delivery.id)
            session.commit()
        return ids

    def _wants(self, event: str) -> bool:
        with self._sessions() as session:
            subs = session.scalars(
                select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))
            ).all()
        return any(event in events for events in subs)

    def _unfinished(self) -> list[str]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(WebhookDelivery.id).where(WebhookDelivery.status.in_(UNFINISHED))
                )
            )

    def _next_attempt(self, delivery_id: str) -> tuple[int, Attempt] | None:
        """(attempt number, what to send), or None when there is nothing left to send."""
        with self._sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status not in UNFINISHED:
                return None
            sub = session.get(WebhookSubscription, delivery.subscription_id)
            if sub is None or not sub.active:
                delivery.status = "cancelled"
                session.commit()
                return None
            return delivery.attempts + 1, Attempt(
                sub.url, sub.secret, delivery.payload, delivery.event
            )

    def _record(
        self, delivery_id: str, attempt: int, code: int | None, error: str | None, status: str
    ) -> None:
        with self._sessions() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts = attempt
            delivery.last_status_code = code
            delivery.last_error = error
            delivery.status = status
            if status == "delivered":
                delivery.delivered_at = datetime.now(UTC)
            session.commit()

    # event loop ---------------------------------------------------------------------------
    async def publish(
        self,
        event: str,
        data: dict[str, Any],
        *,
        building: str | None = None,
        neighbourhood: str | None = None,
    ) -> list[str]:
        """Queue one delivery per matching subscription and start sending; returns their ids."""
        body = json.dumps(
            {"event": event, "at": datetime.now(UTC).isoformat(), "data": data},
            separators=(",", ":"),
            sort_keys=True,
        )
        ids = await run_in_threadpool(self._queue, event, body, building, neighbourhood)
        for delivery_id in ids:
            self._spawn(delivery_id)
        return ids

    async def wants(self, event: str) -> bool:
        """Whether any active subscription listens for ``event`` (saves work when none does)."""
        return await run_in_threadpool(self._wants, event)

    async def resume(self) -> int:
        """Restart deliveries a previous process left unfinished; returns how many."""
        ids = await run_in_threadpool(self._unfinished)
        for delivery_id in ids:
            self._spawn(delivery_id)
        return len(ids)

    def _spawn(self, delivery_id: str) -> None:
        task = asyncio.create_task(self._deliver(delivery_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery_id: str) -> None:
        while True:
            step = await run_in_threadpool(self._next_attempt, delivery_id)
            if step is None:
                return
            attempt, what = step
            timestamp = int(self._clock())
            raw = what.body.encode()
            headers = {
                "Content-Type": "application/json",
                webhooks.TIMESTAMP_HEADER: str(timestamp),
                webhooks.SIGNATURE_HEADER: webhooks.sign(what.secret, timestamp, raw),
                webhooks.EVENT_HEADER: what.event,
                webhooks.DELIVERY_HEADER: delivery_id,
            }
            code: int | None = None
            error: str | None = None
            try:
                response = await self._client.post(what.url, content=raw, headers=headers)
                code = response.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            ok = code is not None and 200 <= code < 300
            final = ok or not webhooks.should_retry(code) or attempt >= self._max_attempts
            status = "delivered" if ok else "failed" if final else "retrying"
            await run_in_threadpool(self._record, delivery_id, attempt, code, error, status)
            log.info("webhook delivery", delivery=delivery_id, attempt=attempt, status=code)
            if final:
                return
            await asyncio.sleep(webhooks.backoff_s(attempt, self._backoff_s))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
