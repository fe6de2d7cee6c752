"""Who the caller is, so clients (the dashboard) can show what the role allows."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from polis.gateway.api.deps import PrincipalDep
from polis.gateway.security.roles import Role

router = APIRouter(tags=["identity"])


class Me(BaseModel):
    subject: str
    role: Role
    buildings: list[str]
    neighbourhood: str | None
    can_control: bool


@router.get("/me", response_model=Me)
async def me(principal: PrincipalDep) -> Me:
    return Me(
        subject=principal.subject,
        role=principal.role,
        buildings=sorted(principal.buildings),
        neighbourhood=principal.neighbourhood,
        can_control=principal.role in (Role.ADMIN, Role.FACILITY_MANAGER),
    )
