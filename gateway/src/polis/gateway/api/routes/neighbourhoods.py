"""Neighbourhood aggregates (load, PV, available flexibility) and flexibility requests."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from google.protobuf.timestamp_pb2 import Timestamp
from starlette.concurrency import run_in_threadpool

from polis.gateway import audit
from polis.gateway.api.deps import CatalogueDep, PrincipalDep, SessionDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES
from polis.gateway.api.routes.catalogue import check_neighbourhood
from polis.gateway.api.schemas import Aggregate, FlexibilityCreate, FlexibilityOut
from polis.gateway.domain.aggregates import split_power
from polis.gateway.domain.plans import current_flexibility_kw
from polis.gateway.peers.errors import PeerError, PeerUnavailable
from polis.gateway.security.roles import can_request_flexibility, require
from polis.planning.v1 import planning_pb2

router = APIRouter(prefix="/neighbourhoods/{neighbourhood}", tags=["neighbourhoods"])


@router.get("/aggregate", response_model=Aggregate)
async def aggregate(
    neighbourhood: str, state: StateDep, principal: PrincipalDep, catalogue: CatalogueDep
) -> Aggregate:
    check_neighbourhood(principal, catalogue, neighbourhood)
    buildings = catalogue.buildings_in(neighbourhood)
    power_points = [
        p for b in buildings for p in catalogue.points_of(b) if p.quantity == "active_power"
    ]
    rows = []
    now = state.clock.now()
    if power_points:
        ids = [p.id for p in power_points]
        rows = await run_in_threadpool(lambda: state.readings.last({"point": ids}, now=now))
    values = {r.tags.get("point", ""): r.value for r in rows}
    load_kw, pv_kw = split_power(power_points, values)
    flexibility: float | None = 0.0
    for building in buildings:
        try:
            plan = await state.peers.current_plan(building)
        except PeerUnavailable:
            flexibility = None  # the rest of the aggregate still answers
            break
        except PeerError:
            continue
        flexibility = (flexibility or 0.0) + current_flexibility_kw(plan, now)
    return Aggregate(
        neighbourhood=neighbourhood,
        buildings=len(buildings),
        load_kw=load_kw,
        pv_kw=pv_kw,
        flexibility_kw=flexibility,
        time=max((r.time for r in rows), default=None),
    )


OUTCOMES = {
    planning_pb2.FlexibilityResponse.OUTCOME_ACCEPTED: "accepted",
    planning_pb2.FlexibilityResponse.OUTCOME_PARTIAL: "partial",
    planning_pb2.FlexibilityResponse.OUTCOME_REJECTED: "rejected",
}


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


@router.post(
    "/flexibility-requests",
    response_model=FlexibilityOut,
    responses=PEER_RESPONSES,
    summary="Ask for a neighbourhood peak limit over a window",
)
async def request_flexibility(
    neighbourhood: str,
    body: FlexibilityCreate,
    state: StateDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
    session: SessionDep,
) -> FlexibilityOut:
    require(
        can_request_flexibility(principal, neighbourhood),
        f"no flexibility requests for neighbourhood {neighbourhood}",
    )
    check_neighbourhood(principal, catalogue, neighbourhood)
    request = planning_pb2.FlexibilityRequest(
        neighbourhood=neighbourhood,
        window_start=_ts(body.window_start),
        window_end=_ts(body.window_end),
        peak_limit_kw=body.peak_limit_kw,
        requested_by=principal.subject,
    )
    detail: dict[str, object] = {
        "window_start": body.window_start.isoformat(),
        "window_end": body.window_end.isoformat(),
        "peak_limit_kw": body.peak_limit_kw,
    }
    try:
        response = await state.peers.request_flexibility(request)
    except PeerError as error:
        await run_in_threadpool(
            audit.record,
            session,
            principal,
            "flexibility.request",
            f"failed: {error.service}",
            neighbourhood=neighbourhood,
            detail=detail,
        )
        raise
    outcome = OUTCOMES.get(response.outcome, "unspecified")
    await run_in_threadpool(
        audit.record,
        session,
        principal,
        "flexibility.request",
        outcome,
        neighbourhood=neighbourhood,
        detail={**detail, "achieved_peak_kw": response.achieved_peak_kw},
    )
    return FlexibilityOut(
        neighbourhood=neighbourhood,
        outcome=outcome,
        achieved_peak_kw=response.achieved_peak_kw,
        reduction_kw=response.reduction_kw,
        message=response.message,
    )
