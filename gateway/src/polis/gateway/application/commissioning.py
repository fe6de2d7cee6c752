"""A building's commissioning report and fit plots, readable as the building's other data.

The reports live with the optimizer (its reports directory, ``GetReport``), so every
gateway replica serves the same one without sharing files (gateway/README.md).
"""

from __future__ import annotations

from polis.gateway.application.access import check_building
from polis.gateway.application.context import Services
from polis.gateway.application.ports import Commissioning, PeerUnavailable
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.commissioning import CommissioningReport, Plot
from polis.gateway.security.roles import Principal


def _port(services: Services) -> Commissioning:
    if services.commissioning is None:
        raise PeerUnavailable("optimizer", "no commissioning reports are served here")
    return services.commissioning


async def report(
    services: Services, principal: Principal, catalogue: Catalogue, building: str
) -> CommissioningReport:
    check_building(principal, catalogue, building)
    return await _port(services).commissioning_report(building)


async def plot(
    services: Services, principal: Principal, catalogue: Catalogue, building: str, zone: str
) -> Plot:
    check_building(principal, catalogue, building)
    return await _port(services).commissioning_plot(building, zone)
