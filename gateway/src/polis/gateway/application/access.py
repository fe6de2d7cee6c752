"""Who may see which building or neighbourhood, checked against the catalogue.

A forbidden resource is refused before any existence check, so scoped roles cannot probe which
buildings outside their scope exist.
"""

from __future__ import annotations

from polis.gateway.application.errors import InvalidInput, NotFound
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.security.roles import (
    Principal,
    can_control_building,
    can_read_building,
    can_read_neighbourhood,
    require,
)


def check_building(principal: Principal, catalogue: Catalogue, building: str) -> None:
    require(can_read_building(principal, building), f"no access to building {building}")
    if building not in catalogue.buildings():
        raise NotFound(f"no building {building}", "building")


def check_control(principal: Principal, catalogue: Catalogue, building: str) -> None:
    require(can_control_building(principal, building), f"no control of building {building}")
    check_building(principal, catalogue, building)


def check_neighbourhood(principal: Principal, catalogue: Catalogue, neighbourhood: str) -> None:
    require(
        can_read_neighbourhood(principal, neighbourhood),
        f"no access to neighbourhood {neighbourhood}",
    )
    if neighbourhood not in catalogue.neighbourhoods():
        raise NotFound(f"no neighbourhood {neighbourhood}", "neighbourhood")


def readable_points(
    principal: Principal, catalogue: Catalogue, points: list[str], building: str | None
) -> list[str]:
    """The point ids asked for (given, or all of ``building``), each checked against the
    caller's buildings."""
    if building:
        check_building(principal, catalogue, building)
        ids = [p.id for p in catalogue.points_of(building)]
        wanted = set(points)
        return [i for i in ids if i in wanted] if wanted else ids
    if not points:
        raise InvalidInput("point: give point ids or a building", "point")
    for point_id in points:
        info = catalogue.points.get(point_id)
        if info is None:
            # Unknown points are indistinguishable from forbidden ones for scoped roles.
            require(can_read_building(principal, ""), f"no access to point {point_id}")
            raise NotFound(f"no point {point_id}", "point")
        require(can_read_building(principal, info.building), f"no access to point {point_id}")
    return sorted(set(points))
