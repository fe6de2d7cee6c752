"""The audit log of control actions, filtered to what the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from polis.gateway.api.deps import MAX_ID, PrincipalDep, SessionDep
from polis.gateway.api.schemas import AuditOut
from polis.gateway.db.models import AuditEntry
from polis.gateway.security.roles import Role, can_report_all, require

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditOut])
def audit_log(
    principal: PrincipalDep,
    session: SessionDep,
    building: str | None = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Page: entries older than this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    require(principal.role is not Role.NEIGHBOURHOOD_SCHEME, "the audit log is per building")
    query = select(AuditEntry)
    if not can_report_all(principal):
        query = query.where(AuditEntry.building.in_(sorted(principal.buildings)))
    if building is not None:
        query = query.where(AuditEntry.building == building)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditOut.model_validate(r, from_attributes=True) for r in rows]
