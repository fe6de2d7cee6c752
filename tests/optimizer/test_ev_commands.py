"""EV chargers are commanded their planned charging power, sessions of one charger summed."""

from __future__ import annotations

import pytest

from optimizer.helpers import building
from polis.optimizer.commands import commands_for_slot
from polis.optimizer.domain import EVSession
from polis.optimizer.solve import SolverParams, solve_building

pytestmark = pytest.mark.unit

POINT = "larissa/depot/depot-cp1/charging-limit"


def test_an_ev_charger_gets_the_planned_kw_of_its_sessions_together() -> None:
    # two cars on one charging station: one there from the start, one from slot 2; cheap
    # energy in slots 2 and 3 only
    sessions = (
        EVSession("ev-depot-cp1@2026-01-14#0", 0, 4, 10.0, max_kw=22.0, efficiency=1.0),
        EVSession("ev-depot-cp1@2026-01-14#1", 2, 4, 8.0, max_kw=22.0, efficiency=1.0),
    )
    b = building([0.3, 0.3, 0.1, 0.1], sessions, base=1.0)
    plan = solve_building(b, SolverParams(time_limit_s=5.0, num_workers=1)).plans[0]
    points = {"ev-depot-cp1": POINT}
    for slot in range(4):
        planned = sum(plan.load(s.id).power_kw[slot] for s in sessions)
        (command,) = commands_for_slot(plan, slot, points)
        assert command.point_id == POINT
        assert command.value == pytest.approx(round(planned, 2))
    assert sum(c.value for s in range(4) for c in commands_for_slot(plan, s, points)) * 0.25 == (
        pytest.approx(18.0, abs=0.05)
    )
    # the cheap slots carry the energy
    assert commands_for_slot(plan, 0, points)[0].value == 0.0


def test_outside_its_planned_sessions_a_charger_is_not_held_back() -> None:
    # the car is planned from slot 0 to 4; a car still there afterwards, or one the plan does
    # not expect, charges at the charger's full power
    session = EVSession("ev-depot-cp1@2026-01-14#0", 0, 4, 10.0, max_kw=66.0, efficiency=1.0)
    b = building([0.3, 0.3, 0.1, 0.1, 0.3, 0.3], (session,), base=1.0)
    plan = solve_building(b, SolverParams(time_limit_s=5.0, num_workers=1)).plans[0]
    points = {"ev-depot-cp1": POINT}
    planned = plan.load(session.id).power_kw
    for slot in range(4):
        (command,) = commands_for_slot(plan, slot, points, building=b)
        assert command.value == pytest.approx(round(planned[slot], 2))
    for slot in (4, 5):
        assert planned[slot] == 0.0
        (command,) = commands_for_slot(plan, slot, points, building=b)
        assert command.value == 66.0
