"""Webhook subscriptions of the caller and their delivery log."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from polis.gateway.application.errors import InvalidInput, NotFound
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.domain.webhooks import EVENTS
from polis.gateway.security.roles import Principal, is_admin

DELIVERY_LOG_ROWS = 200


def _owned(session: Session, principal: Principal, webhook_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, webhook_id)
    if row is None or (row.owner != principal.subject and not is_admin(principal)):
        raise NotFound(f"no webhook {webhook_id}", "webhook_id")
    return row


def subscribe(
    session: Session, principal: Principal, url: str, events: list[str], now: datetime
) -> WebhookSubscription:
    """A new subscription with its signing secret (which the caller sees this once)."""
    unknown = sorted(set(events) - EVENTS)
    if unknown:
        raise InvalidInput(f"events: unknown {unknown}; known: {sorted(EVENTS)}", "events")
    row = WebhookSubscription(
        owner=principal.subject,
        owner_role=principal.role.value,
        owner_buildings=sorted(principal.buildings),
        owner_neighbourhood=principal.neighbourhood,
        url=url,
        events=sorted(set(events)),
        secret=secrets.token_urlsafe(32),
        created_at=now,
        active=True,
    )
    session.add(row)
    session.flush()
    return row


def subscriptions(session: Session, principal: Principal) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    if not is_admin(principal):
        query = query.where(WebhookSubscription.owner == principal.subject)
    return list(session.scalars(query.order_by(WebhookSubscription.id)))


def unsubscribe(session: Session, principal: Principal, webhook_id: int) -> None:
    """Deliveries not yet made are cancelled when their turn comes."""
    _owned(session, principal, webhook_id).active = False


def deliveries(session: Session, principal: Principal, webhook_id: int) -> list[WebhookDelivery]:
    _owned(session, principal, webhook_id)
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc())
        .limit(DELIVERY_LOG_ROWS)
    )
    return list(rows)
