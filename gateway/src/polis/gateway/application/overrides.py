"""Manual overrides of a building's command points: create, list, cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from polis.gateway.application import audit
from polis.gateway.application.access import check_building, check_control
from polis.gateway.application.context import Services
from polis.gateway.application.errors import Conflict, InvalidInput, NotFound
from polis.gateway.application.ports import PeerConflict, PeerError
from polis.gateway.db.models import Override
from polis.gateway.domain.catalogue import Catalogue, PointInfo
from polis.gateway.domain.control import (
    REFUSED_BY_DEVICE,
    CommandRequest,
    CommandResult,
    RelinquishRequest,
)
from polis.gateway.security.roles import Principal


@dataclass(frozen=True, slots=True)
class OverrideOrder:
    point_id: str
    value: float
    duration_minutes: int
    priority: int
    reason: str


def writable_point(catalogue: Catalogue, building: str, order: OverrideOrder) -> PointInfo:
    """The point to command, after checking it belongs to ``building``, takes commands and
    admits the value."""
    info = catalogue.points.get(order.point_id)
    if info is None or info.building != building:
        raise InvalidInput(f"point_id: not a point of {building}", "point_id")
    if info.kind != "command" and info.quantity not in ("setpoint", "status"):
        raise InvalidInput("point_id: not a writable point", "point_id")
    too_low = info.min_value is not None and order.value < info.min_value
    too_high = info.max_value is not None and order.value > info.max_value
    if too_low or too_high:
        raise InvalidInput(
            f"value: outside the point's limits [{info.min_value}, {info.max_value}]", "value"
        )
    return info


async def create_override(
    services: Services,
    principal: Principal,
    catalogue: Catalogue,
    building: str,
    order: OverrideOrder,
) -> Override:
    check_control(principal, catalogue, building)
    writable_point(catalogue, building, order)
    request = CommandRequest(
        point_id=order.point_id,
        value=order.value,
        priority=order.priority,
        duration=timedelta(minutes=order.duration_minutes),
        requested_by=principal.subject,
        reason=order.reason,
    )
    try:
        result = await services.control.write_command(request)
    except PeerError as error:
        detail: dict[str, object] = {"point_id": order.point_id, "value": order.value}
        # the device answered and refused the write (the adapter's FAILED_PRECONDITION):
        # a refusal for control.command_refused, not an outage
        refused = isinstance(error, PeerConflict)
        await audit.record_failure(
            services,
            principal,
            "override.create",
            error,
            building=building,
            detail={**detail, "error": error.message} if refused else detail,
            outcome=REFUSED_BY_DEVICE if refused else None,
        )
        raise
    # On the Polis clock, as the adapter that lets the override lapse counts its duration.
    now = services.clock.now()
    row = Override(
        building=building,
        point_id=order.point_id,
        value=order.value,
        priority=result.priority or order.priority,
        reason=order.reason,
        requested_by=principal.subject,
        status=result.status.value,
        present_value=result.present_value,
        created_at=now,
        expires_at=now + request.duration,
    )
    return await services.db.run(
        lambda session: _save_override(services, session, principal, row, result)
    )


def _save_override(
    services: Services,
    session: Session,
    principal: Principal,
    row: Override,
    result: CommandResult,
) -> Override:
    session.add(row)
    session.flush()  # the row's id, for the audit entry and the events
    building = row.building
    audit.record(
        session,
        principal,
        "override.create",
        row.status,
        at=row.created_at,
        building=building,
        detail={
            "override": row.id,
            "point_id": row.point_id,
            "value": row.value,
            "adapter_audit_id": result.audit_id,
        },
    )
    if result.status.is_alarm:
        services.events.queue(
            session,
            "alarm",
            {
                "building": building,
                "kind": f"command_{row.status}",
                "point_id": row.point_id,
                "requested_value": row.value,
                "present_value": row.present_value,
                "message": result.message,
            },
            building=building,
        )
    services.events.queue(
        session,
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
    return row


def list_overrides(
    session: Session, principal: Principal, catalogue: Catalogue, building: str
) -> list[Override]:
    check_building(principal, catalogue, building)
    rows = session.scalars(
        select(Override).where(Override.building == building).order_by(Override.id.desc())
    )
    return list(rows)


def _open_override(session: Session, building: str, override_id: int) -> Override:
    row = session.get(Override, override_id)
    if row is None or row.building != building:
        raise NotFound(f"no override {override_id}", "override_id")
    if row.cancelled_at is not None:
        raise Conflict(f"override {override_id} already cancelled")
    return row


async def cancel_override(
    services: Services,
    principal: Principal,
    catalogue: Catalogue,
    building: str,
    override_id: int,
) -> Override:
    check_control(principal, catalogue, building)
    row = await services.db.run(lambda session: _open_override(session, building, override_id))
    result = await services.control.relinquish(
        RelinquishRequest(
            point_id=row.point_id,
            priority=row.priority,
            requested_by=principal.subject,
            reason="override cancelled",
        )
    )
    now = services.clock.now()

    def save(session: Session) -> Override:
        current = _open_override(session, building, override_id)
        current.cancelled_at = now
        current.status = "cancelled"
        current.present_value = result.present_value
        audit.record(
            session,
            principal,
            "override.cancel",
            "ok",
            at=now,
            building=building,
            detail={"override": current.id, "point_id": current.point_id},
        )
        services.events.queue(
            session,
            "override.cancelled",
            {"building": building, "override": current.id},
            building=building,
        )
        return current

    return await services.db.run(save)
