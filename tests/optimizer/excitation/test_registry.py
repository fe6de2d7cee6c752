"""Excitations are refused, with the reason, before anything touches the building: a zone
the catalogue does not enable, a building the optimizer applies plans to, too many days,
unknown names. (The runs themselves: ``test_excitation_bacnet.py``, against the simulator.)"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from polis.common.clock import Clock
from polis.optimizer.config import optimizer_view
from polis.optimizer.domain import Building, Neighbourhood
from polis.optimizer.excitation.adapter import Outcome
from polis.optimizer.excitation.registry import (
    Excitations,
    InvalidRequest,
    NotAllowed,
    UnknownTarget,
)
from polis.optimizer.planner import Mode, Planner
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout

from .simulated_catalogue import simulated_catalogue

pytestmark = pytest.mark.unit


class UntouchedBuilding:
    """The adapter of a refused request: reaching it at all is the failure."""

    async def read(self, point_id: str, now: datetime) -> float | None:
        raise AssertionError(f"read {point_id} for a refused request")

    async def write(
        self,
        point_id: str,
        value: float,
        bounds: tuple[float, float],
        duration: timedelta,
        reason: str,
    ) -> Outcome:
        raise AssertionError(f"wrote {point_id} for a refused request")

    async def relinquish(self, point_id: str, reason: str) -> bool:
        raise AssertionError(f"relinquished {point_id} for a refused request")


def _never(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    raise AssertionError("nothing is planned here")


@pytest.fixture
def planner() -> Planner:
    return Planner(_never)


@pytest.fixture
def excitations(planner: Planner) -> Excitations:
    config = load_config()
    layout = endpoint_layout(config, "127.0.0.1", 47900)
    view = optimizer_view(simulated_catalogue(config, layout, {"max_days": 7}))
    for building in view.buildings:
        planner.set_mode(building.id, Mode.DRY_RUN)
    return Excitations(view, planner, UntouchedBuilding(), Clock.realtime())


async def test_a_zone_the_catalogue_does_not_enable_is_refused(excitations: Excitations) -> None:
    with pytest.raises(NotAllowed, match=r"not enabled for town-hall/offices: its hvac load"):
        await excitations.start("town-hall", ["offices"], 1)
    with pytest.raises(NotAllowed, match=r"no zone of town-hall allows excitation"):
        await excitations.start("town-hall", [], 1)


async def test_a_building_in_apply_mode_is_refused(
    excitations: Excitations, planner: Planner
) -> None:
    planner.set_mode("library", Mode.APPLY)
    with pytest.raises(NotAllowed, match=r"optimizer applies plans to library: set it to dry run"):
        await excitations.start("library", ["reading-room"], 1)


@pytest.mark.parametrize("days", [0.0, -1.0, 7.5])
async def test_days_outside_the_zones_bound_are_refused(
    excitations: Excitations, days: float
) -> None:
    with pytest.raises(InvalidRequest, match=r"days: .* is outside 0\.\.7"):
        await excitations.start("library", ["reading-room"], days)


async def test_unknown_names_are_refused(excitations: Excitations) -> None:
    with pytest.raises(UnknownTarget, match="no building 'city-hall'"):
        await excitations.start("city-hall", [], 1)
    with pytest.raises(UnknownTarget, match="no hvac zone lobby in library"):
        await excitations.start("library", ["lobby"], 1)


def test_nothing_running_blocks_nothing(excitations: Excitations) -> None:
    assert excitations.blocks_apply("library") is None
    assert excitations.runs() == []
