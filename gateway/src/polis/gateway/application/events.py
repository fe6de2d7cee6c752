"""Webhook events, queued in the same transaction as the change they announce (an outbox).

A use case calls ``Events.queue`` inside its unit of work: one delivery row per subscription
that wants the event and whose owner may read what it is about. The rows commit or roll back
with the change itself, and ``polis.gateway.coordination.deliveries`` sends them, whichever
replica queued them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from polis.common.clock import Clock
from polis.gateway.application.database import after_commit
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.security.roles import Principal, Role, can_read_building, can_read_neighbourhood


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


def _nothing() -> None:
    pass


class Events:
    def __init__(self, clock: Clock, queued: Callable[[], None] = _nothing) -> None:
        """``queued`` is called after a unit of work that queued deliveries commits (it wakes
        this replica's delivery worker, so the first attempt does not wait for a poll)."""
        self._clock = clock
        self._queued = queued

    def queue(
        self,
        session: Session,
        event: str,
        data: dict[str, Any],
        *,
        building: str | None = None,
        neighbourhood: str | None = None,
    ) -> list[str]:
        """Add one delivery per matching subscription to the session; returns their ids."""
        subs = session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        ).all()
        wanted = [s for s in subs if event in s.events and may_receive(s, building, neighbourhood)]
        if not wanted:
            return []
        now = self._clock.now()
        body = json.dumps(
            {"event": event, "at": now.isoformat(), "data": data},
            separators=(",", ":"),
            sort_keys=True,
        )
        ids: list[str] = []
        for sub in wanted:
            delivery = WebhookDelivery(
                id=str(uuid.uuid4()),
                subscription_id=sub.id,
                event=event,
                payload=body,
                status="pending",
                attempts=0,
                created_at=now,
                due_s=0.0,  # due at once
            )
            session.add(delivery)
            ids.append(delivery.id)
        after_commit(session, self._queued)
        return ids

    @staticmethod
    def wanted(session: Session, event: str) -> bool:
        """Whether any active subscription listens for ``event`` (saves work when none does)."""
        subs = session.scalars(
            select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))
        ).all()
        return any(event in events for events in subs)
