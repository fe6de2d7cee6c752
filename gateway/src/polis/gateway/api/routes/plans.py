"""Plans per building; dry-run/apply mode; manual overrides and their cancellation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from polis.gateway.api.deps import CatalogueDep, PrincipalDep, RowId, ServicesDep, SessionDep
from polis.gateway.api.problems import PEER_RESPONSES
from polis.gateway.api.schemas import (
    ModeChange,
    ModeOut,
    OverrideCreate,
    OverrideOut,
    PlanOut,
    SolveCreate,
    SolveOut,
)
from polis.gateway.application import overrides, plans
from polis.gateway.db.models import Override
from polis.gateway.domain.plans import Mode, plan_dict

router = APIRouter(prefix="/buildings/{building}", tags=["plans"], responses=PEER_RESPONSES)


@router.get("/plan", response_model=PlanOut, summary="The plan in force, with expected savings")
async def current_plan(
    building: str, services: ServicesDep, principal: PrincipalDep, catalogue: CatalogueDep
) -> dict[str, Any]:
    return plan_dict(await plans.current_plan(services, principal, catalogue, building))


@router.post(
    "/plan", response_model=SolveOut, summary="Plan now (the optimizer solves this building)"
)
async def solve(
    building: str,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    body: SolveCreate | None = None,
) -> dict[str, Any]:
    options = body or SolveCreate()
    order = plans.SolveOrder(options.horizon_slots, options.time_limit_s)
    result = await plans.solve(services, principal, catalogue, building, order)
    plan = result.plan_of(building)
    return {
        "status": result.status,
        "gap": result.gap,
        "solve_time_s": result.solve_time_s,
        "conflicts": list(result.conflicts),
        "plan": plan_dict(plan) if plan is not None else None,
    }


@router.put("/mode", response_model=ModeOut, summary="Dry-run (plan only) or apply (send commands)")
async def set_mode(
    building: str,
    body: ModeChange,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> ModeOut:
    await plans.set_mode(services, principal, catalogue, building, Mode(body.mode.value))
    return ModeOut(building=building, mode=body.mode, approved_by=principal.subject)


def _override_out(row: Override) -> OverrideOut:
    return OverrideOut.model_validate(row, from_attributes=True)


@router.post("/overrides", status_code=201, response_model=OverrideOut)
async def create_override(
    building: str,
    body: OverrideCreate,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> OverrideOut:
    order = overrides.OverrideOrder(
        point_id=body.point_id,
        value=body.value,
        duration_minutes=body.duration_minutes,
        priority=body.priority,
        reason=body.reason,
    )
    row = await overrides.create_override(services, principal, catalogue, building, order)
    return _override_out(row)


@router.get("/overrides", response_model=list[OverrideOut])
def list_overrides(
    building: str, principal: PrincipalDep, catalogue: CatalogueDep, session: SessionDep
) -> list[OverrideOut]:
    rows = overrides.list_overrides(session, principal, catalogue, building)
    return [_override_out(r) for r in rows]


@router.delete("/overrides/{override_id}", response_model=OverrideOut)
async def cancel_override(
    building: str,
    override_id: RowId,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> OverrideOut:
    row = await overrides.cancel_override(services, principal, catalogue, building, override_id)
    return _override_out(row)
