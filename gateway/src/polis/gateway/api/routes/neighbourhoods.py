"""Neighbourhood aggregates (load, PV, available flexibility) and flexibility requests."""

from __future__ import annotations

from fastapi import APIRouter

from polis.gateway.api.deps import CatalogueDep, PrincipalDep, ServicesDep, StateDep
from polis.gateway.api.problems import PEER_RESPONSES
from polis.gateway.api.schemas import Aggregate, FlexibilityCreate, FlexibilityOut
from polis.gateway.application import neighbourhoods

router = APIRouter(prefix="/neighbourhoods/{neighbourhood}", tags=["neighbourhoods"])


@router.get("/aggregate", response_model=Aggregate)
async def aggregate(
    neighbourhood: str, state: StateDep, principal: PrincipalDep, catalogue: CatalogueDep
) -> Aggregate:
    result = await neighbourhoods.aggregate(
        state.services, state.readings, principal, catalogue, neighbourhood
    )
    return Aggregate.model_validate(result, from_attributes=True)


@router.post(
    "/flexibility-requests",
    response_model=FlexibilityOut,
    responses=PEER_RESPONSES,
    summary="Ask for a neighbourhood peak limit over a window",
)
async def request_flexibility(
    neighbourhood: str,
    body: FlexibilityCreate,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> FlexibilityOut:
    order = neighbourhoods.FlexibilityOrder(
        window_start=body.window_start,
        window_end=body.window_end,
        peak_limit_kw=body.peak_limit_kw,
    )
    result = await neighbourhoods.request_flexibility(
        services, principal, catalogue, neighbourhood, order
    )
    return FlexibilityOut(
        neighbourhood=neighbourhood,
        outcome=result.outcome,
        achieved_peak_kw=result.achieved_peak_kw,
        reduction_kw=result.reduction_kw,
        message=result.message,
    )
