"""Plans per building; dry-run/apply mode; manual overrides and their cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from google.protobuf.duration_pb2 import Duration
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from polis.control.v1 import control_pb2
from polis.gateway import audit
from polis.gateway.api.deps import CatalogueDep, PrincipalDep, RowId, SessionDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES, Problem
from polis.gateway.api.routes.catalogue import check_building
from polis.gateway.api.schemas import (
    ModeChange,
    ModeOut,
    OverrideCreate,
    OverrideOut,
    PlanOut,
    SolveCreate,
    SolveOut,
)
from polis.gateway.db.models import BuildingMode, Override
from polis.gateway.domain.plans import MODES, plan_dict, plan_summary
from polis.gateway.peers.errors import PeerError
from polis.gateway.security.roles import can_control_building, require
from polis.planning.v1 import planning_pb2

router = APIRouter(prefix="/buildings/{building}", tags=["plans"], responses=PEER_RESPONSES)

WRITE_STATUS = {
    control_pb2.WRITE_STATUS_APPLIED: "applied",
    control_pb2.WRITE_STATUS_OVERRIDDEN: "overridden",
    control_pb2.WRITE_STATUS_UNCONFIRMED: "unconfirmed",
}


@router.get("/plan", response_model=PlanOut, summary="The plan in force, with expected savings")
async def current_plan(
    building: str, state: StateDep, principal: PrincipalDep, catalogue: CatalogueDep
) -> dict[str, Any]:
    check_building(principal, catalogue, building)
    return plan_dict(await state.peers.current_plan(building))


@router.post(
    "/plan", response_model=SolveOut, summary="Plan now (the optimizer solves this building)"
)
async def solve(
    building: str,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    session: SessionDep,
    body: SolveCreate | None = None,
) -> dict[str, Any]:
    require(can_control_building(principal, building), f"no control of building {building}")
    check_building(principal, catalogue, building)
    options = body or SolveCreate()
    try:
        response = await state.peers.solve(building, options.horizon_slots, options.time_limit_s)
    except PeerError as error:
        await run_in_threadpool(
            audit.record,
            session,
            principal,
            "plan.solve",
            f"failed: {error.service}",
            building=building,
        )
        raise
    status = planning_pb2.SolveStatus.Name(response.status).removeprefix("SOLVE_STATUS_").lower()
    plan = next((p for p in response.plans if p.building == building), None)
    await run_in_threadpool(
        audit.record,
        session,
        principal,
        "plan.solve",
        status,
        building=building,
        detail={"horizon_slots": options.horizon_slots, "gap": response.gap},
    )
    if plan is not None:
        await state.webhooks.publish("plan.updated", plan_summary(plan), building=building)
    return {
        "status": status,
        "gap": response.gap,
        "solve_time_s": response.solve_time_s,
        "conflicts": list(response.conflicts),
        "plan": plan_dict(plan) if plan is not None else None,
    }


@router.put("/mode", response_model=ModeOut, summary="Dry-run (plan only) or apply (send commands)")
async def set_mode(
    building: str,
    body: ModeChange,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    session: SessionDep,
) -> ModeOut:
    require(can_control_building(principal, building), f"no control of building {building}")
    check_building(principal, catalogue, building)
    try:
        await state.peers.set_mode(building, MODES[body.mode.value])
    except PeerError as error:
        await run_in_threadpool(
            audit.record,
            session,
            principal,
            "plan.mode",
            f"failed: {error.service}",
            building=building,
            detail={"mode": body.mode.value},
        )
        raise

    def save() -> None:
        row = session.get(BuildingMode, building) or BuildingMode(building=building)
        row.mode = body.mode.value
        row.approved_by = principal.subject
        row.updated_at = datetime.now(UTC)
        session.add(row)
        session.commit()
        audit.record(
            session,
            principal,
            "plan.mode",
            "ok",
            building=building,
            detail={"mode": body.mode.value},
        )

    await run_in_threadpool(save)
    await state.webhooks.publish(
        "plan.mode_changed",
        {"building": building, "mode": body.mode.value, "by": principal.subject},
        building=building,
    )
    return ModeOut(building=building, mode=body.mode, approved_by=principal.subject)


def _override_out(row: Override) -> OverrideOut:
    return OverrideOut.model_validate(row, from_attributes=True)


@router.post("/overrides", status_code=201, response_model=OverrideOut)
async def create_override(
    building: str,
    body: OverrideCreate,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    session: SessionDep,
) -> OverrideOut:
    require(can_control_building(principal, building), f"no control of building {building}")
    check_building(principal, catalogue, building)
    info = catalogue.points.get(body.point_id)
    if info is None or info.building != building:
        raise Problem(
            422, "Invalid request", f"point_id: not a point of {building}", field="point_id"
        )
    if info.kind != "command" and info.quantity not in ("setpoint", "status"):
        raise Problem(422, "Invalid request", "point_id: not a writable point", field="point_id")
    too_low = info.min_value is not None and body.value < info.min_value
    too_high = info.max_value is not None and body.value > info.max_value
    if too_low or too_high:
        raise Problem(
            422,
            "Invalid request",
            f"value: outside the point's limits [{info.min_value}, {info.max_value}]",
            field="value",
        )
    request = control_pb2.WriteCommandRequest(
        point_id=body.point_id,
        value=body.value,
        priority=body.priority,
        duration=Duration(seconds=body.duration_minutes * 60),
        requested_by=principal.subject,
        reason=body.reason,
    )
    try:
        response = await state.peers.write_command(request)
    except PeerError as error:
        await run_in_threadpool(
            audit.record,
            session,
            principal,
            "override.create",
            f"failed: {error.service}",
            building=building,
            detail={"point_id": body.point_id, "value": body.value},
        )
        raise
    # On the Polis clock, as the adapter that lets the override lapse counts its duration.
    now = state.clock.now()
    row = Override(
        building=building,
        point_id=body.point_id,
        value=body.value,
        priority=response.priority or body.priority,
        reason=body.reason,
        requested_by=principal.subject,
        status=WRITE_STATUS.get(response.status, "unknown"),
        present_value=response.present_value,
        created_at=now,
        expires_at=now + timedelta(minutes=body.duration_minutes),
    )

    def save() -> None:
        session.add(row)
        session.commit()
        audit.record(
            session,
            principal,
            "override.create",
            row.status,
            building=building,
            detail={
                "override": row.id,
                "point_id": body.point_id,
                "value": body.value,
                "adapter_audit_id": response.audit_id,
            },
        )

    await run_in_threadpool(save)
    if row.status in ("overridden", "unconfirmed"):
        await state.webhooks.publish(
            "alarm",
            {
                "building": building,
                "kind": f"command_{row.status}",
                "point_id": row.point_id,
                "requested_value": row.value,
                "present_value": row.present_value,
                "message": response.message,
            },
            building=building,
        )
    await state.webhooks.publish(
        "override.created",
        {
            "building": building,
            "override": row.id,
            "point_id": row.point_id,
            "value": row.value,
            "status": row.status,
        },
        building=building,
    )
    return _override_out(row)


@router.get("/overrides", response_model=list[OverrideOut])
def list_overrides(
    building: str, principal: PrincipalDep, catalogue: CatalogueDep, session: SessionDep
) -> list[OverrideOut]:
    check_building(principal, catalogue, building)
    rows = session.scalars(
        select(Override).where(Override.building == building).order_by(Override.id.desc())
    )
    return [_override_out(r) for r in rows]


@router.delete("/overrides/{override_id}", response_model=OverrideOut)
async def cancel_override(
    building: str,
    override_id: RowId,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    session: SessionDep,
) -> OverrideOut:
    require(can_control_building(principal, building), f"no control of building {building}")
    check_building(principal, catalogue, building)
    row = await run_in_threadpool(session.get, Override, override_id)
    if row is None or row.building != building:
        raise Problem(404, "Not found", f"no override {override_id}", field="override_id")
    if row.cancelled_at is not None:
        raise Problem(409, "Conflict", f"override {override_id} already cancelled")
    response = await state.peers.relinquish(
        control_pb2.RelinquishRequest(
            point_id=row.point_id,
            priority=row.priority,
            requested_by=principal.subject,
            reason="override cancelled",
        )
    )
    row.cancelled_at = datetime.now(UTC)
    row.status = "cancelled"
    row.present_value = response.present_value

    def save() -> None:
        session.commit()
        audit.record(
            session,
            principal,
            "override.cancel",
            "ok",
            building=building,
            detail={"override": row.id, "point_id": row.point_id},
        )

    await run_in_threadpool(save)
    await state.webhooks.publish(
        "override.cancelled", {"building": building, "override": row.id}, building=building
    )
    return _override_out(row)
