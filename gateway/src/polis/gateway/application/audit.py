"""The audit log of control and administrative actions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError
from polis.gateway.db.models import AuditEntry
from polis.gateway.security.roles import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    outcome: str,
    *,
    at: datetime,
    building: str | None = None,
    neighbourhood: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    """Add an entry to the caller's unit of work (committed with it)."""
    entry = AuditEntry(
        at=at,
        actor=principal.subject,
        role=principal.role.value,
        action=action,
        outcome=outcome,
        building=building,
        neighbourhood=neighbourhood,
        detail=detail or {},
    )
    session.add(entry)
    return entry


async def record_failure(
    services: Services,
    principal: Principal,
    action: str,
    error: PeerError,
    *,
    building: str | None = None,
    neighbourhood: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit an action an internal service failed, in a unit of work of its own."""
    outcome = f"failed: {error.service}"
    at = services.clock.now()
    await services.db.run(
        lambda session: record(
            session,
            principal,
            action,
            outcome,
            at=at,
            building=building,
            neighbourhood=neighbourhood,
            detail=detail,
        )
    )
