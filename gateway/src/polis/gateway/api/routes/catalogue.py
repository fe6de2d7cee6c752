"""Municipalities, neighbourhoods, buildings, devices and points, filtered by role."""

from __future__ import annotations

from fastapi import APIRouter

from polis.gateway.api.deps import CatalogueDep, PrincipalDep
from polis.gateway.api.schemas import Building, Device, Municipality, Neighbourhood, Point
from polis.gateway.application.access import check_building
from polis.gateway.domain.catalogue import Catalogue, PointInfo
from polis.gateway.security.roles import Principal, can_read_building, can_read_neighbourhood

router = APIRouter(tags=["catalogue"])


def _visible(principal: Principal, catalogue: Catalogue) -> tuple[set[str], set[str]]:
    """(visible buildings, visible neighbourhoods)."""
    buildings = {b for b in catalogue.buildings() if can_read_building(principal, b)}
    hoods = {n for n in catalogue.neighbourhoods() if can_read_neighbourhood(principal, n)}
    return buildings, hoods


def building_out(catalogue: Catalogue, building: str) -> Building:
    municipality, neighbourhood = catalogue.buildings()[building]
    points = catalogue.points_of(building)
    entry = catalogue.entry("buildings", building)
    return Building(
        id=building,
        name=catalogue.name("buildings", building),
        municipality=municipality,
        neighbourhood=neighbourhood,
        devices=len({p.device for p in points}),
        points=len(points),
        use=entry.use if entry else None,
        floor_area_m2=entry.floor_area_m2 if entry else None,
    )


def point_out(p: PointInfo) -> Point:
    return Point.model_validate(p, from_attributes=True)


@router.get("/municipalities", response_model=list[Municipality])
async def list_municipalities(
    principal: PrincipalDep, catalogue: CatalogueDep
) -> list[Municipality]:
    buildings, hoods = _visible(principal, catalogue)
    tree: dict[str, set[str]] = {}
    for b, (m, n) in catalogue.buildings().items():
        if b in buildings or n in hoods:
            tree.setdefault(m, set())
            if n in hoods or b in buildings:
                tree[m].add(n)
    return [
        Municipality(id=m, name=catalogue.name("municipalities", m), neighbourhoods=sorted(ns))
        for m, ns in sorted(tree.items())
    ]


@router.get("/neighbourhoods", response_model=list[Neighbourhood])
async def list_neighbourhoods(
    principal: PrincipalDep, catalogue: CatalogueDep
) -> list[Neighbourhood]:
    _, hoods = _visible(principal, catalogue)
    return [
        Neighbourhood(
            id=n,
            name=catalogue.name("neighbourhoods", n),
            municipality=m,
            buildings=len(catalogue.buildings_in(n)),
        )
        for n, m in sorted(catalogue.neighbourhoods().items())
        if n in hoods
    ]


@router.get("/buildings", response_model=list[Building])
async def list_buildings(principal: PrincipalDep, catalogue: CatalogueDep) -> list[Building]:
    buildings, _ = _visible(principal, catalogue)
    return [building_out(catalogue, b) for b in sorted(buildings)]


@router.get("/buildings/{building}", response_model=Building)
async def get_building(building: str, principal: PrincipalDep, catalogue: CatalogueDep) -> Building:
    check_building(principal, catalogue, building)
    return building_out(catalogue, building)


@router.get("/buildings/{building}/devices", response_model=list[Device])
async def list_devices(
    building: str, principal: PrincipalDep, catalogue: CatalogueDep
) -> list[Device]:
    check_building(principal, catalogue, building)
    return [
        Device(id=d, points=[point_out(p) for p in ps])
        for d, ps in sorted(catalogue.devices_of(building).items())
    ]


@router.get("/buildings/{building}/points", response_model=list[Point])
async def list_points(
    building: str, principal: PrincipalDep, catalogue: CatalogueDep
) -> list[Point]:
    check_building(principal, catalogue, building)
    return [point_out(p) for p in catalogue.points_of(building)]
