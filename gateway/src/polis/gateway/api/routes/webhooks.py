"""Webhook subscriptions of the caller and their delivery log."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from sqlalchemy import select

from polis.gateway.api.deps import PrincipalDep, RowId, SessionDep
from polis.gateway.api.problems import Problem
from polis.gateway.api.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.domain.webhooks import EVENTS
from polis.gateway.security.roles import Principal, is_admin

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _owned(session: SessionDep, principal: Principal, webhook_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, webhook_id)
    if row is None or (row.owner != principal.subject and not is_admin(principal)):
        raise Problem(404, "Not found", f"no webhook {webhook_id}", field="webhook_id")
    return row


def _out(row: WebhookSubscription) -> dict[str, object]:
    return {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "active": row.active,
        "created_at": row.created_at,
    }


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate, principal: PrincipalDep, session: SessionDep
) -> dict[str, object]:
    unknown = sorted(set(body.events) - EVENTS)
    if unknown:
        raise Problem(
            422,
            "Invalid request",
            f"events: unknown {unknown}; known: {sorted(EVENTS)}",
            field="events",
        )
    row = WebhookSubscription(
        owner=principal.subject,
        owner_role=principal.role.value,
        owner_buildings=sorted(principal.buildings),
        owner_neighbourhood=principal.neighbourhood,
        url=str(body.url),
        events=sorted(set(body.events)),
        secret=secrets.token_urlsafe(32),
        active=True,
    )
    session.add(row)
    session.commit()
    return {**_out(row), "secret": row.secret}


@router.get("", response_model=list[WebhookOut])
def list_webhooks(principal: PrincipalDep, session: SessionDep) -> list[dict[str, object]]:
    query = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    if not is_admin(principal):
        query = query.where(WebhookSubscription.owner == principal.subject)
    return [_out(r) for r in session.scalars(query.order_by(WebhookSubscription.id))]


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: RowId, principal: PrincipalDep, session: SessionDep) -> None:
    row = _owned(session, principal, webhook_id)
    row.active = False
    session.commit()


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def deliveries(
    webhook_id: RowId, principal: PrincipalDep, session: SessionDep
) -> list[DeliveryOut]:
    _owned(session, principal, webhook_id)
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc())
        .limit(200)
    )
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
