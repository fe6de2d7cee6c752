"""The audit log of control actions, filtered to what the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from polis.gateway.api.deps import MAX_ID, PrincipalDep, SessionDep
from polis.gateway.api.schemas import AuditOut
from polis.gateway.application import audit

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
    rows = audit.entries(session, principal, building=building, before_id=before_id, limit=limit)
    return [AuditOut.model_validate(r, from_attributes=True) for r in rows]
