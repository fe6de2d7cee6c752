"""The simulator's catalogue with the excitation a facility manager switches on, as a
document (for the adapter) and as the optimizer's view."""

from __future__ import annotations

import copy
from typing import Any

from polis.common.catalogue import Catalogue, parse_catalogue
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig
from polis.simulator.endpoints import Endpoints

# the library's one zone may be excited; every other zone keeps its catalogue entry as is
EXCITED = ("library", "reading-room")


def with_excitation(
    document: dict[str, Any],
    excitation: dict[str, Any],
    zone: tuple[str, str] = EXCITED,
    buildings: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """``document`` with ``excitation`` on ``zone``, keeping only ``buildings`` (all: None)."""
    out = copy.deepcopy(document)
    if buildings is not None:
        out["buildings"] = [b for b in out["buildings"] if b["id"] in buildings]
    for building in out["buildings"]:
        for load in building.get("loads", []):
            if (building["id"], load.get("id")) == zone and load.get("kind") == "hvac":
                load["excitation"] = excitation
    return out


def simulated_catalogue(
    config: MunicipalityConfig,
    endpoints: Endpoints,
    excitation: dict[str, Any],
    buildings: tuple[str, ...] | None = None,
    poll_s: float = 1.0,
) -> Catalogue:
    document = catalogue(config, endpoints, modbus_poll_s=poll_s, bacnet_poll_s=poll_s)
    changed = with_excitation(document, excitation, buildings=buildings)
    return parse_catalogue(changed, "simulated catalogue with excitation", complete=True)
