"""Every published plan of a random small instance passes the independent validator."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.helpers import building
from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Load,
    SolveStatus,
    ThermalMode,
    ThermalZone,
    WaterTank,
)
from polis.optimizer.solve import SolverParams, solve_building
from polis.optimizer.validator import validate_plan

pytestmark = pytest.mark.unit

SLOTS = 16
FAST = SolverParams(time_limit_s=2.0, num_workers=1)


@st.composite
def instances(draw: st.DrawFn) -> Building:
    prices = draw(
        st.lists(st.sampled_from([0.08, 0.12, 0.18, 0.25]), min_size=SLOTS, max_size=SLOTS)
    )
    loads: list[Load] = []
    if draw(st.booleans()):
        earliest = draw(st.integers(0, 6))
        run = draw(st.integers(1, 4))
        loads.append(
            DeferrableLoad(
                "pump",
                power_kw=draw(st.floats(0.5, 3.0)),
                earliest=earliest,
                latest=earliest + run + draw(st.integers(0, 8)),
                run_slots=run,
                min_run_slots=draw(st.integers(1, run)),
                min_off_slots=draw(st.integers(0, 2)),
                max_starts=draw(st.integers(1, 3)),
            )
        )
    if draw(st.booleans()):
        lo = 18.0 + draw(st.floats(0, 2))
        loads.append(
            ThermalZone(
                id="zone",
                mode=ThermalMode.HEAT,
                r_k_per_kw=draw(st.floats(1.0, 4.0)),
                c_kwh_per_k=draw(st.floats(2.0, 8.0)),
                initial_temp_c=draw(st.floats(17, 21)),
                max_kw=3.0,
                cop=(3.0,) * SLOTS,
                outdoor_c=(draw(st.floats(-2, 12)),) * SLOTS,
                gains_kw=(0.2,) * SLOTS,
                comfort_lo=(lo,) * SLOTS,
                comfort_hi=(lo + 4,) * SLOTS,
                baseline_setpoint=(lo,) * SLOTS,
                levels_kw=draw(st.sampled_from([None, (1.5, 3.0)])),
            )
        )
    if draw(st.booleans()):
        loads.append(
            WaterTank(
                "tank",
                min_kwh=1.0,
                max_kwh=6.0,
                initial_kwh=draw(st.floats(2.0, 6.0)),
                heater_kw=2.0,
                draw_kwh=(0.1,) * SLOTS,
                loss_kw=0.02,
                on_off=draw(st.booleans()),
            )
        )
    if draw(st.booleans()):
        arrival = draw(st.integers(0, 8))
        loads.append(
            EVSession(
                "ev",
                arrival=arrival,
                departure=arrival + 8,
                energy_kwh=draw(st.floats(0.0, 10.0)),
                max_kw=7.0,
                min_kw=1.4,
            )
        )
    if draw(st.booleans()):
        loads.append(
            Battery(
                "bat",
                capacity_kwh=5.0,
                initial_kwh=draw(st.floats(1.0, 4.0)),
                max_charge_kw=2.0,
                max_discharge_kw=2.0,
                min_kwh=0.5,
            )
        )
    made: Building = building(
        prices,
        tuple(loads),
        base=draw(st.floats(0.5, 4.0)),
        pv=draw(st.floats(0.0, 3.0)),
        demand_charge=draw(st.sampled_from([0.0, 0.5])),
        feed_in=0.05,
    )
    return made


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_published_plans_pass_the_validator(b: Building) -> None:
    result = solve_building(b, FAST)
    assert result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    plan = result.plans[0]
    report = validate_plan(b, plan)
    assert report.ok, report.violations
    # a plan is never worse than the building's own schedule when that is feasible
    assert result.objective_eur >= result.best_bound_eur - 1e-6
