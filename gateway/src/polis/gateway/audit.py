"""The audit log of control and administrative actions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from polis.gateway.db.models import AuditEntry
from polis.gateway.security.roles import Principal


def record(
    session: Session,
    principal: Principal,
    action: str,
    outcome: str,
    *,
    building: str | None = None,
    neighbourhood: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=principal.subject,
        role=principal.role.value,
        action=action,
        outcome=outcome,
        building=building,
        neighbourhood=neighbourhood,
        detail=detail or {},
    )
    session.add(entry)
    session.commit()
    return entry
