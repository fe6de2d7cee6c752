"""An impossible instance yields the building's own schedule and names the conflict."""

from __future__ import annotations

import pytest

from optimizer.helpers import building
from polis.optimizer.domain import DeferrableLoad, EVSession, SolveStatus
from polis.optimizer.solve import SolverParams, solve_building

pytestmark = pytest.mark.unit


def test_ev_energy_beyond_charger_and_contracted_peak_conflict() -> None:
    # 4 slots * 1 h... 4 slots of 15 min at 7 kW deliver at most 7 * 0.92 kWh; 20 are asked.
    ev = EVSession("ev", arrival=0, departure=4, energy_kwh=20.0, max_kw=7.0)
    pump = DeferrableLoad("pump", power_kw=1.0, earliest=0, latest=8, run_slots=2)
    b = building([0.2] * 8, (ev, pump), base=1.0, contracted_peak=10.0)
    result = solve_building(b, SolverParams(time_limit_s=5, num_workers=1))
    assert result.status is SolveStatus.INFEASIBLE
    assert any("ev: 20 kWh by departure" in c for c in result.conflicts)
    assert not any("pump" in c for c in result.conflicts)
    plan = result.plans[0]
    assert plan.status is SolveStatus.INFEASIBLE
    # the fallback is the as-is schedule: EV at full power from arrival, pump on its timer
    assert plan.load("ev").power_kw[:4] == (7.0, 7.0, 7.0, 7.0)
    assert plan.load("pump").power_kw[:3] == (1.0, 1.0, 0.0)
    assert plan.conflicts == result.conflicts


def test_contracted_peak_below_base_load_is_named() -> None:
    pump = DeferrableLoad("pump", power_kw=1.0, earliest=0, latest=8, run_slots=2)
    b = building([0.2] * 8, (pump,), base=5.0, contracted_peak=4.0)
    result = solve_building(b, SolverParams(time_limit_s=5, num_workers=1))
    assert result.status is SolveStatus.INFEASIBLE
    assert result.conflicts == ("school: contracted peak 4 kW",)
