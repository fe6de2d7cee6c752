"""A building's commissioning report from the optimizer: the learned zone models with their
figures and reasons, and each zone's fit plot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from polis.gateway.api.commissioning_schemas import CommissioningOut
from polis.gateway.api.deps import CatalogueDep, PrincipalDep, ServicesDep
from polis.gateway.api.problems import PEER_RESPONSES
from polis.gateway.application import commissioning
from polis.gateway.domain.commissioning import report_dict

router = APIRouter(
    prefix="/buildings/{building}/commissioning", tags=["commissioning"], responses=PEER_RESPONSES
)

ZoneId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=200)]
# a report changes when commissioning runs again: short-lived in the caller's cache only
CACHE_CONTROL = "private, max-age=60"


@router.get(
    "",
    response_model=CommissioningOut,
    summary="The building's latest commissioning report (learned zone models)",
)
async def report(
    building: str, services: ServicesDep, principal: PrincipalDep, catalogue: CatalogueDep
) -> dict[str, Any]:
    found = await commissioning.report(services, principal, catalogue, building)
    return report_dict(found, f"/api/v1/buildings/{building}/commissioning/{{zone}}/plot.png")


@router.get(
    "/{zone}/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the zone's fit plot"}},
    summary="A zone's fit plot: measured temperature against the model run 24 h ahead",
)
async def plot(
    building: str,
    zone: ZoneId,
    services: ServicesDep,
    principal: PrincipalDep,
    catalogue: CatalogueDep,
) -> Response:
    found = await commissioning.plot(services, principal, catalogue, building, zone)
    return Response(
        found.data, media_type=found.media_type, headers={"Cache-Control": CACHE_CONTROL}
    )
