"""Webhook subscriptions of the caller and their delivery log."""

from __future__ import annotations

from fastapi import APIRouter

from polis.gateway.api.deps import PrincipalDep, RowId, ServicesDep
from polis.gateway.api.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut
from polis.gateway.application import subscriptions

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate, principal: PrincipalDep, services: ServicesDep
) -> WebhookCreated:
    now = services.clock.now()
    row = services.db.run_sync(
        lambda session: subscriptions.subscribe(session, principal, str(body.url), body.events, now)
    )
    return WebhookCreated.model_validate(row, from_attributes=True)


@router.get("", response_model=list[WebhookOut])
def list_webhooks(principal: PrincipalDep, services: ServicesDep) -> list[WebhookOut]:
    rows = services.db.run_sync(lambda session: subscriptions.subscriptions(session, principal))
    return [WebhookOut.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: RowId, principal: PrincipalDep, services: ServicesDep) -> None:
    services.db.run_sync(lambda session: subscriptions.unsubscribe(session, principal, webhook_id))


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def deliveries(
    webhook_id: RowId, principal: PrincipalDep, services: ServicesDep
) -> list[DeliveryOut]:
    rows = services.db.run_sync(
        lambda session: subscriptions.deliveries(session, principal, webhook_id)
    )
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]
