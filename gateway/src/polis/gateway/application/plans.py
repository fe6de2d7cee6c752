"""Plans per building: read, "plan now", dry-run/apply mode; ``plan.updated`` once per plan."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import update
from sqlalchemy.orm import Session

from polis.gateway.application import audit
from polis.gateway.application.access import check_building, check_control
from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError
from polis.gateway.db.models import BuildingMode, PlanVersion
from polis.gateway.db.sql import insert_for
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.plans import Mode, Plan, SolveResult, plan_summary
from polis.gateway.security.roles import Principal


class Sighting(Enum):
    FIRST = "first"  # no plan of this building was seen before
    NEW = "new"  # a plan other than the one last seen
    SAME = "same"


def record_plan(session: Session, services: Services, plan: Plan) -> Sighting:
    """Remember ``plan`` as the building's newest, atomically across replicas.

    Insert-if-absent, then compare-and-set: of two replicas (or a "plan now" and the watcher)
    seeing the same new plan, exactly one gets NEW and announces it.
    """
    now = services.clock.now()
    dialect = session.get_bind().dialect
    inserted = session.execute(
        insert_for(dialect, PlanVersion)
        .values(building=plan.building, version=plan.version, seen_at=now)
        .on_conflict_do_nothing(index_elements=["building"])
        .returning(PlanVersion.building)
    ).first()
    if inserted is not None:
        return Sighting.FIRST
    changed = session.execute(
        update(PlanVersion)
        .where(PlanVersion.building == plan.building, PlanVersion.version != plan.version)
        .values(version=plan.version, seen_at=now)
        .returning(PlanVersion.building)
    ).first()
    return Sighting.NEW if changed is not None else Sighting.SAME


def announce_plan(session: Session, services: Services, plan: Plan, *, first: bool) -> bool:
    """Record ``plan`` and queue ``plan.updated`` if it is new (or, with ``first``, if no plan
    of the building was seen before); returns whether it was announced."""
    sighting = record_plan(session, services, plan)
    if sighting is Sighting.NEW or (first and sighting is Sighting.FIRST):
        services.events.queue(session, "plan.updated", plan_summary(plan), building=plan.building)
        return True
    return False


async def current_plan(
    services: Services, principal: Principal, catalogue: Catalogue, building: str
) -> Plan:
    check_building(principal, catalogue, building)
    return await services.planning.current_plan(building)


@dataclass(frozen=True, slots=True)
class SolveOrder:
    horizon_slots: int
    time_limit_s: float


async def solve(
    services: Services,
    principal: Principal,
    catalogue: Catalogue,
    building: str,
    order: SolveOrder,
) -> SolveResult:
    """Plan now: the optimizer solves this building; a new plan is announced."""
    check_control(principal, catalogue, building)
    try:
        result = await services.planning.solve(building, order.horizon_slots, order.time_limit_s)
    except PeerError as error:
        await audit.record_failure(services, principal, "plan.solve", error, building=building)
        raise
    plan = result.plan_of(building)
    at = services.clock.now()

    def save(session: Session) -> None:
        audit.record(
            session,
            principal,
            "plan.solve",
            result.status,
            at=at,
            building=building,
            detail={"horizon_slots": order.horizon_slots, "gap": result.gap},
        )
        if plan is not None:
            announce_plan(session, services, plan, first=True)

    await services.db.run(save)
    return result


async def set_mode(
    services: Services,
    principal: Principal,
    catalogue: Catalogue,
    building: str,
    mode: Mode,
) -> None:
    check_control(principal, catalogue, building)
    detail: dict[str, object] = {"mode": mode.value}
    try:
        await services.planning.set_mode(building, mode)
    except PeerError as error:
        await audit.record_failure(
            services, principal, "plan.mode", error, building=building, detail=detail
        )
        raise
    now = services.clock.now()

    def save(session: Session) -> None:
        # An upsert: two replicas may set the first mode of a building at once.
        values = {"mode": mode.value, "approved_by": principal.subject, "updated_at": now}
        session.execute(
            insert_for(session.get_bind().dialect, BuildingMode)
            .values(building=building, **values)
            .on_conflict_do_update(index_elements=["building"], set_=values)
        )
        audit.record(
            session, principal, "plan.mode", "ok", at=now, building=building, detail=detail
        )
        services.events.queue(
            session,
            "plan.mode_changed",
            {"building": building, "mode": mode.value, "by": principal.subject},
            building=building,
        )

    await services.db.run(save)
