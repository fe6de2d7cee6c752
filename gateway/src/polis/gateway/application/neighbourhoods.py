"""Neighbourhood aggregates (load, PV, available flexibility) and flexibility requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread

from polis.gateway.application import audit
from polis.gateway.application.access import check_neighbourhood
from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError, PeerUnavailable
from polis.gateway.domain.aggregates import split_power
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.plans import FlexibilityRequest, FlexibilityResult, current_flexibility_kw
from polis.gateway.readings import ReadingsStore
from polis.gateway.security.roles import Principal, can_request_flexibility, require


@dataclass(frozen=True, slots=True)
class NeighbourhoodAggregate:
    neighbourhood: str
    buildings: int
    load_kw: float | None
    pv_kw: float | None
    flexibility_kw: float | None  # None while the optimizer is down
    time: datetime | None


async def _flexibility_kw(services: Services, buildings: list[str], now: datetime) -> float | None:
    total = 0.0
    for building in buildings:
        try:
            plan = await services.planning.current_plan(building)
        except PeerUnavailable:
            return None  # the rest of the aggregate still answers
        except PeerError:
            continue
        total += current_flexibility_kw(plan, now)
    return total


async def aggregate(
    services: Services,
    readings: ReadingsStore,
    principal: Principal,
    catalogue: Catalogue,
    neighbourhood: str,
) -> NeighbourhoodAggregate:
    check_neighbourhood(principal, catalogue, neighbourhood)
    buildings = catalogue.buildings_in(neighbourhood)
    power_points = [
        p for b in buildings for p in catalogue.points_of(b) if p.quantity == "active_power"
    ]
    now = services.clock.now()
    rows = []
    if power_points:
        ids = [p.id for p in power_points]
        rows = await anyio.to_thread.run_sync(lambda: readings.last({"point": ids}, now=now))
    values = {r.tags.get("point", ""): r.value for r in rows}
    load_kw, pv_kw = split_power(power_points, values)
    return NeighbourhoodAggregate(
        neighbourhood=neighbourhood,
        buildings=len(buildings),
        load_kw=load_kw,
        pv_kw=pv_kw,
        flexibility_kw=await _flexibility_kw(services, buildings, now),
        time=max((r.time for r in rows), default=None),
    )


@dataclass(frozen=True, slots=True)
class FlexibilityOrder:
    window_start: datetime
    window_end: datetime
    peak_limit_kw: float


async def request_flexibility(
    services: Services,
    principal: Principal,
    catalogue: Catalogue,
    neighbourhood: str,
    order: FlexibilityOrder,
) -> FlexibilityResult:
    """Ask the optimizer for a neighbourhood peak limit over a window; audited either way."""
    require(
        can_request_flexibility(principal, neighbourhood),
        f"no flexibility requests for neighbourhood {neighbourhood}",
    )
    check_neighbourhood(principal, catalogue, neighbourhood)
    detail: dict[str, object] = {
        "window_start": order.window_start.isoformat(),
        "window_end": order.window_end.isoformat(),
        "peak_limit_kw": order.peak_limit_kw,
    }
    request = FlexibilityRequest(
        neighbourhood=neighbourhood,
        window_start=order.window_start,
        window_end=order.window_end,
        peak_limit_kw=order.peak_limit_kw,
        requested_by=principal.subject,
    )

    try:
        result = await services.planning.request_flexibility(request)
    except PeerError as error:
        await audit.record_failure(
            services,
            principal,
            "flexibility.request",
            error,
            neighbourhood=neighbourhood,
            detail=detail,
        )
        raise
    at = services.clock.now()
    detail["achieved_peak_kw"] = result.achieved_peak_kw
    await services.db.run(
        lambda session: audit.record(
            session,
            principal,
            "flexibility.request",
            result.outcome,
            at=at,
            neighbourhood=neighbourhood,
            detail=detail,
        )
    )
    return result
