"""The solver's plan cost equals an optimum found by brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import pytest

from optimizer.helpers import building, finished_model, heat_zone, lossless_battery, relaxed
from polis.optimizer.costing import plan_objective
from polis.optimizer.domain import Building, DeferrableLoad, Plan, SolveResult
from polis.optimizer.model import MONEY_SCALE
from polis.optimizer.runs import runs_of
from polis.optimizer.solve import SolverParams, solve_building
from polis.optimizer.validator import validate_plan

pytestmark = pytest.mark.unit

EXACT = SolverParams(time_limit_s=20, relative_gap_limit=0.0, num_workers=2)
DT = 0.25


def bill(grid: list[float], prices: list[float], demand_charge: float = 0.0) -> float:
    energy = sum(max(g, 0.0) * p * DT for g, p in zip(grid, prices, strict=True))
    return energy + demand_charge * max(max(grid), 0.0)


def _solved(b: Building) -> tuple[SolveResult, Plan]:
    """The exact solve of the building, and its plan, which the validator accepts."""
    result = solve_building(b, EXACT)
    plan = result.plans[0]
    assert validate_plan(b, plan).ok
    return result, plan


def test_deferrable_load_matches_enumeration_with_demand_charge() -> None:
    prices = [0.30, 0.12, 0.25, 0.10, 0.11, 0.28, 0.09, 0.26, 0.20, 0.15]
    base = [2.0, 2.0, 5.0, 5.0, 2.0, 2.0, 4.0, 2.0, 2.0, 2.0]
    pump = DeferrableLoad(
        "pump",
        power_kw=3.0,
        earliest=1,
        latest=9,
        run_slots=4,
        min_run_slots=2,
        min_off_slots=2,
        max_starts=2,
    )
    b = building(prices, (pump,), base=base, demand_charge=0.5)
    best = math.inf
    for on in itertools.product((0, 1), repeat=len(prices)):
        if sum(on) != 4 or on[0] or on[9]:
            continue
        r = runs_of(on)
        if len(r) > 2 or any(e - s < 2 for s, e in r):
            continue
        if any(r[i + 1][0] - r[i][1] < 2 for i in range(len(r) - 1)):
            continue
        grid = [base[t] + 3.0 * on[t] for t in range(len(prices))]
        best = min(best, bill(grid, prices, 0.5))
    result, plan = _solved(b)
    assert plan.planned.cost_eur == pytest.approx(best, abs=1e-6)
    assert result.best_bound_eur <= best + 1e-6
    # the GLOP relaxation alone is a valid bound as well
    lp = relaxed(finished_model(b))
    assert lp.bound / MONEY_SCALE <= best + 1e-6


def test_two_level_heat_pump_matches_enumeration() -> None:
    prices = [0.10, 0.10, 0.30, 0.30, 0.30, 0.30]
    zone = heat_zone(
        6,
        initial_temp_c=19.0,
        outdoor_c=5.0,
        comfort_lo=(16.0, 16.0, 18.0, 18.0, 18.0, 18.0),
        comfort_hi=26.0,
        levels_kw=(1.0, 2.0),
        comfort_hard=True,
    )
    b = building(prices, (zone,), base=0.5)
    a = math.exp(-DT / 4.0)
    best = math.inf
    for powers in itertools.product((0.0, 1.0, 2.0), repeat=6):
        temp, ok = 19.0, True
        for t, p in enumerate(powers):
            temp = a * temp + (1 - a) * (5.0 + 2.0 * 3.0 * p)
            ok &= zone.comfort_lo[t] - 1e-9 <= temp <= 26.0
        if ok:
            best = min(best, bill([0.5 + p for p in powers], prices))
    _, plan = _solved(b)
    assert plan.planned.cost_eur == pytest.approx(best, abs=1e-4)
    # the cheap early slots pre-heat the zone
    assert "pre-heats" in plan.load("hall").explanation


def test_battery_arbitrage_by_hand() -> None:
    # 4 kWh usable, 4 kW both ways, lossless: charge 1 h cheap, discharge 1 h dear.
    prices = [0.10] * 4 + [0.30] * 4
    bat = lossless_battery(0.0, terminal_min_kwh=0.0)
    b = building(prices, (bat,), base=4.0)
    _, plan = _solved(b)
    # baseline 8 slots * 4 kW * 0.25 h = 8 kWh: 4 kWh at 0.10 + 4 kWh at 0.30 = 1.6 EUR.
    # optimum: 8 kWh at 0.10 and none at 0.30 = 0.8 EUR.
    assert plan.baseline.cost_eur == pytest.approx(1.6)
    assert plan.planned.cost_eur == pytest.approx(0.8, abs=1e-6)
    assert plan.savings.cost_eur == pytest.approx(0.8, abs=1e-6)


def test_soft_comfort_objective_matches_the_independent_evaluation() -> None:
    prices = [0.10, 0.10, 0.30, 0.30, 0.30, 0.30]
    zone = heat_zone(
        6,
        initial_temp_c=17.0,
        outdoor_c=0.0,
        comfort_lo=(16.0, 16.0, 21.0, 21.0, 21.0, 21.0),
        comfort_hi=26.0,
        comfort_penalty_eur_per_kh=2.0,
    )
    b = building(prices, (zone,), base=0.5)
    result, plan = _solved(b)
    # the band cannot be reached from 17 degC at 0 degC outside: penalties are part of it
    assert plan_objective(b, plan) > plan.planned.cost_eur
    assert plan_objective(b, plan) == pytest.approx(result.objective_eur, abs=2e-3)
    assert result.best_bound_eur <= result.objective_eur + 1e-9
