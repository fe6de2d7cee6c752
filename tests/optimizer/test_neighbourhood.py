"""Neighbourhood coupling: the shared transformer limit moves one building's load."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from optimizer.helpers import building, lossless_battery
from polis.optimizer.decompose import overload, shave_peaks, solve_decomposed, solve_neighbourhood
from polis.optimizer.domain import Building, DeferrableLoad, Load, Neighbourhood, Plan, SolveStatus
from polis.optimizer.extract import baseline_plan
from polis.optimizer.solve import SolverParams
from polis.optimizer.validator import validate_neighbourhood

pytestmark = pytest.mark.unit

PRICES = [0.10, 0.20, 0.30, 0.30]
EXACT = SolverParams(time_limit_s=10, relative_gap_limit=0.0, num_workers=2)


def _in_n1(name: str, load: Load, base: float | list[float] = 1.0) -> Building:
    """A building of neighbourhood n1 with one load."""
    b: Building = building(PRICES, (load,), base=base)
    return replace(b, id=name, neighbourhood="n1")


def member(name: str) -> Building:
    return _in_n1(name, DeferrableLoad("pump", power_kw=3.0, earliest=0, latest=4, run_slots=1))


def test_transformer_limit_shifts_one_pump_to_the_next_slot() -> None:
    hood = Neighbourhood("n1", (member("a"), member("b")), transformer_kw=5.0)
    result = solve_neighbourhood(hood, EXACT)
    assert result.status is SolveStatus.OPTIMAL
    assert validate_neighbourhood(hood, result.plans).ok
    starts = sorted(p.load("pump").power_kw.index(3.0) for p in result.plans)
    assert starts == [0, 1]
    # by hand: base 2 kW * 4 slots, pumps at 0.10 and 0.20, all * 0.25 h
    base = 2 * 1.0 * 0.25 * sum(PRICES)
    assert sum(p.planned.cost_eur for p in result.plans) == pytest.approx(
        base + 3.0 * 0.25 * (0.10 + 0.20)
    )


def test_impossible_transformer_limit_is_named() -> None:
    hood = Neighbourhood("n1", (member("a"), member("b")), transformer_kw=1.5)
    result = solve_neighbourhood(hood, EXACT)
    assert result.status is SolveStatus.INFEASIBLE
    assert result.conflicts[0].startswith("n1: transformer limit 1.5 kW")
    assert all(p.status is SolveStatus.INFEASIBLE for p in result.plans)


def battery_pair(base: list[float]) -> tuple[Neighbourhood, dict[str, Plan]]:
    """Two alike buildings with a battery behind a 7 kW transformer, and their as-is plans."""
    members = tuple(_in_n1(name, lossless_battery(2.0), base) for name in ("a", "b"))
    hood = Neighbourhood("n1", members, transformer_kw=7.0)
    return hood, {b.id: baseline_plan(b, SolveStatus.FEASIBLE) for b in hood.buildings}


def test_batteries_shave_an_overload_and_recharge_in_the_cheapest_headroom() -> None:
    # as-is flows 6, 9, 6, 6 kW against a 7 kW transformer: slot 1 is 2 kW over
    hood, as_is = battery_pair([3.0, 4.5, 3.0, 3.0])
    assert overload(hood, as_is) == [0.0, 2.0, 0.0, 0.0]
    shaved = shave_peaks(hood, as_is)
    assert shaved is not None
    assert validate_neighbourhood(hood, list(shaved.values())).ok
    total = [sum(p.grid_kw[t] for p in shaved.values()) for t in range(4)]
    # 2 kW (0.5 kWh) out in slot 1; the same energy back in the cheapest slots with room:
    # 1 kW in slot 0 (0.10 EUR/kWh), then 1 kW in slot 2 (slot 1 has none left)
    assert total == pytest.approx([7.0, 7.0, 7.0, 6.0], abs=1e-3)
    assert max(total) <= 7.0 + 1e-9


def test_shaving_fails_without_enough_storage() -> None:
    hood, as_is = battery_pair([3.0, 9.0, 3.0, 3.0])
    # 11 kW over, the two batteries give 8 kW at most
    assert shave_peaks(hood, as_is) is None


def pumps_member(name: str, power: float) -> Building:
    pump = DeferrableLoad("pump", power_kw=power, earliest=0, latest=4, run_slots=2, max_starts=2)
    return _in_n1(name, pump)


def test_decomposition_meets_the_limit_and_its_bound_is_below_the_optimum() -> None:
    members = (pumps_member("a", 3.0), pumps_member("b", 2.0), pumps_member("c", 1.5))
    hood = Neighbourhood("n1", members, transformer_kw=7.0)
    # brute force: each pump picks 2 of 4 slots (max 2 starts, min run 1)
    best = math.inf
    for picks in itertools.product(itertools.combinations(range(4), 2), repeat=3):
        flow = [3.0] * 4
        for pump, slots in zip((3.0, 2.0, 1.5), picks, strict=True):
            for t in slots:
                flow[t] += pump
        if max(flow) <= 7.0 + 1e-9:
            best = min(best, sum(f * p * 0.25 for f, p in zip(flow, PRICES, strict=True)))
    params = SolverParams(time_limit_s=10, relative_gap_limit=0.0, num_workers=2)
    result = solve_decomposed(hood, params)
    assert result.method == "decomposition"
    assert validate_neighbourhood(hood, result.plans).ok
    assert result.best_bound_eur <= best + 1e-6
    assert result.objective_eur >= best - 1e-6
    assert result.objective_eur == pytest.approx(sum(p.planned.cost_eur for p in result.plans))


def test_requested_flow_limit_applies_only_inside_its_window() -> None:
    limits = (None, 4.0, None, None)
    hood = Neighbourhood("n1", (member("a"),), flow_limit_kw=limits)
    result = solve_neighbourhood(hood, EXACT)
    assert validate_neighbourhood(hood, result.plans).ok
    (plan,) = result.plans
    # without the request the pump runs in the cheapest slot 0; slot 1 now caps at 4 kW
    assert plan.load("pump").power_kw == (3.0, 0.0, 0.0, 0.0)
    tight = Neighbourhood("n1", (member("a"),), flow_limit_kw=(3.0, None, None, None))
    moved = solve_neighbourhood(tight, EXACT).plans[0]
    assert validate_neighbourhood(tight, [moved]).ok
    assert moved.load("pump").power_kw == (0.0, 3.0, 0.0, 0.0)
