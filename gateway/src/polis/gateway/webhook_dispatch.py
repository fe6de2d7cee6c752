"""Webhook deliveries: signed POSTs sent with httpx, retried with back-off, logged in the DB."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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

    def publish(
        self,
        event: str,
        data: dict[str, Any],
        *,
        building: str | None = None,
        neighbourhood: str | None = None,
    ) -> list[str]:
        """Queue one delivery per matching subscription; returns the delivery ids."""
        body = json.dumps(
            {"event": event, "at": datetime.now(UTC).isoformat(), "data": data},
            separators=(",", ":"),
            sort_keys=True,
        )
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
        for delivery_id in ids:
            self._spawn(delivery_id)
        return ids

    def wants(self, event: str) -> bool:
        """Whether any active subscription listens for ``event`` (saves work when none does)."""
        with self._sessions() as session:
            subs = session.scalars(
                select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))
            ).all()
        return any(event in events for events in subs)

    def resume(self) -> int:
        """Restart deliveries a previous process left unfinished; returns how many."""
        with self._sessions() as session:
            ids = session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.status.in_(UNFINISHED))
            ).all()
        for delivery_id in ids:
            self._spawn(delivery_id)
        return len(ids)

    def _spawn(self, delivery_id: str) -> None:
        task = asyncio.create_task(self._deliver(delivery_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery_id: str) -> None:
        with self._sessions() as session:
            done = session.get(WebhookDelivery, delivery_id)
            first = (done.attempts if done is not None else 0) + 1
        for attempt in range(first, self._max_attempts + 1):
            with self._sessions() as session:
                delivery = session.get(WebhookDelivery, delivery_id)
                if delivery is None:
                    return
                sub = session.get(WebhookSubscription, delivery.subscription_id)
                if sub is None or not sub.active:
                    delivery.status = "cancelled"
                    session.commit()
                    return
                url, secret, body, event = sub.url, sub.secret, delivery.payload, delivery.event
            timestamp = int(self._clock())
            raw = body.encode()
            headers = {
                "Content-Type": "application/json",
                webhooks.TIMESTAMP_HEADER: str(timestamp),
                webhooks.SIGNATURE_HEADER: webhooks.sign(secret, timestamp, raw),
                webhooks.EVENT_HEADER: event,
                webhooks.DELIVERY_HEADER: delivery_id,
            }
            code: int | None = None
            error: str | None = None
            try:
                response = await self._client.post(url, content=raw, headers=headers)
                code = response.status_code
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            ok = code is not None and 200 <= code < 300
            final = ok or not webhooks.should_retry(code) or attempt == self._max_attempts
            with self._sessions() as session:
                delivery = session.get(WebhookDelivery, delivery_id)
                if delivery is None:
                    return
                delivery.attempts = attempt
                delivery.last_status_code = code
                delivery.last_error = error
                if ok:
                    delivery.status = "delivered"
                    delivery.delivered_at = datetime.now(UTC)
                elif final:
                    delivery.status = "failed"
                else:
                    delivery.status = "retrying"
                session.commit()
            log.info("webhook delivery", delivery=delivery_id, attempt=attempt, status=code)
            if final:
                return
            await asyncio.sleep(webhooks.backoff_s(attempt, self._backoff_s))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
