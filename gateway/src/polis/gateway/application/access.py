"""Who may see which building or neighbourhood, checked against the catalogue.

A forbidden resource is refused before any existence check, so scoped roles cannot probe which
buildings outside their scope exist.
"""

from __future__ import annotations

from polis.gateway.application.errors import NotFound
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
