"""The gateway's notion of "now": the shared Polis clock, virtual in demos and simulations."""

from __future__ import annotations

from fastapi import APIRouter

from polis.gateway.api.deps import PrincipalDep, StateDep
from polis.gateway.api.schemas import ClockOut

router = APIRouter(tags=["identity"])


@router.get(
    "/clock",
    response_model=ClockOut,
    summary="Current time on the Polis clock",
    description=(
        "Clients pick time ranges from this instant, not their own clock: in a simulation the "
        "Polis clock runs ahead of (or behind) the wall clock, `speed` times as fast."
    ),
)
async def clock(state: StateDep, _principal: PrincipalDep) -> ClockOut:
    shared = state.clock
    return ClockOut(
        now=shared.now(),
        speed=shared.speed,
        virtual=shared.speed != 1.0 or shared.start != shared.origin,
    )
