"""The audit log of control and administrative actions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError
from polis.gateway.db.models import AuditEntry
from polis.gateway.security.roles import Principal, Role, can_report_all, require


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
    outcome: str | None = None,
) -> None:
    """Audit an action an internal service failed, in a unit of work of its own; the outcome
    is ``failed: <service>`` unless given."""
    outcome = outcome or f"failed: {error.service}"
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


def entries(
    session: Session,
    principal: Principal,
    *,
    building: str | None,
    before_id: int | None,
    limit: int,
) -> list[AuditEntry]:
    """The newest entries the caller may see (their buildings', or all for the department and
    admins), optionally of one building and older than ``before_id``."""
    require(principal.role is not Role.NEIGHBOURHOOD_SCHEME, "the audit log is per building")
    query = select(AuditEntry)
    if not can_report_all(principal):
        query = query.where(AuditEntry.building.in_(sorted(principal.buildings)))
    if building is not None:
        query = query.where(AuditEntry.building == building)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))
