"""The LP rounding: level schedules by dynamic programming, marginal prices, refitted plans."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random

import pytest

from optimizer.helpers import building, finished_model, heat_zone, relaxed, rounded
from polis.optimizer.domain import Building, Horizon, ThermalZone, WaterTank
from polis.optimizer.relaxation import MarginalPrices, marginal_prices
from polis.optimizer.synthetic import DEFAULT_START, random_building
from polis.optimizer.validator import validate_plan
from polis.optimizer.zone_levels import cheapest_levels

pytestmark = pytest.mark.unit

DT = 0.25


def _zone(slots: int, hard: bool = False, lo: float = 20.0) -> ThermalZone:
    zone: ThermalZone = heat_zone(
        slots,
        r_k_per_kw=3.0,
        c_kwh_per_k=1.5,
        initial_temp_c=19.5,
        outdoor_c=4.0,
        gains_kw=0.2,
        comfort_lo=lo,
        comfort_hi=23.0,
        baseline_setpoint=lo,
        levels_kw=(1.0, 2.0),
        comfort_hard=hard,
        comfort_penalty_eur_per_kh=2.0,
    )
    return zone


def _cost(zone: ThermalZone, prices: list[float], powers: tuple[float, ...]) -> float:
    """Energy cost plus comfort penalty of a level schedule, simulated slot by slot."""
    a = math.exp(-DT / (zone.r_k_per_kw * zone.c_kwh_per_k))
    temp, total = zone.initial_temp_c, 0.0
    for t, p in enumerate(powers):
        heat = zone.outdoor_c[t] + zone.r_k_per_kw * (zone.cop[t] * p + zone.gains_kw[t])
        temp = a * temp + (1 - a) * heat
        outside = max(0.0, zone.comfort_lo[t] - temp) + max(0.0, temp - zone.comfort_hi[t])
        total += prices[t] * p * DT + zone.comfort_penalty_eur_per_kh * outside * DT
    return total


def _marginal_prices(b: Building) -> MarginalPrices:
    pm = finished_model(b)
    return marginal_prices(pm, relaxed(pm), pm.buildings[b.id])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_level_schedule_matches_enumeration(seed: int) -> None:
    rng = random.Random(seed)
    prices = [rng.choice([0.05, 0.11, 0.24, 0.4]) for _ in range(7)]
    zone = _zone(7)
    best = min(
        _cost(zone, prices, powers) for powers in itertools.product((0.0, 1.0, 2.0), repeat=7)
    )
    schedule = cheapest_levels(zone, prices, DT)
    assert all(p in (0.0, 1.0, 2.0) for p in schedule)
    assert _cost(zone, prices, tuple(schedule)) == pytest.approx(best, rel=1e-3, abs=1e-6)


def test_level_schedule_keeps_a_hard_band_when_it_can() -> None:
    prices = [0.1, 0.1, 0.5, 0.5, 0.5, 0.5]
    zone = _zone(6, hard=True, lo=19.0)
    schedule = cheapest_levels(zone, prices, DT)
    a = math.exp(-DT / (zone.r_k_per_kw * zone.c_kwh_per_k))
    temp = zone.initial_temp_c
    for p in schedule:
        temp = a * temp + (1 - a) * (4.0 + 3.0 * (3.0 * p + 0.2))
        assert temp >= 19.0 - 1e-9
    # the cheap slots pre-heat, so the dear ones need less
    assert sum(schedule[:2]) >= sum(schedule[2:4])


def test_a_zone_without_levels_is_refused() -> None:
    zone = dataclasses.replace(_zone(3), levels_kw=None)
    with pytest.raises(ValueError, match="hall: levels_kw"):
        cheapest_levels(zone, [0.1, 0.1, 0.1], DT)


def test_marginal_price_is_the_import_price_where_the_building_imports() -> None:
    prices = [0.1, 0.3, 0.2, 0.25]
    b = building(prices, (_zone(4),), base=5.0)
    marginal = _marginal_prices(b)
    # weighted price: cost weight 1 and the default CO2 weight on 0.4 kg/kWh
    co2 = b.weights.co2_eur_per_kg * 0.4
    assert marginal.eur_per_kwh == pytest.approx([p + co2 for p in prices], abs=2e-5)


def test_marginal_price_is_the_feed_in_price_where_the_building_exports() -> None:
    prices = [0.2] * 4
    b = building(prices, (_zone(4),), base=1.0, pv=[0.0, 9.0, 9.0, 0.0], feed_in=0.05)
    marginal = _marginal_prices(b)
    assert marginal.eur_per_kwh[1] == pytest.approx(0.05, abs=2e-5)
    assert marginal.eur_per_kwh[2] == pytest.approx(0.05, abs=2e-5)


@pytest.mark.parametrize("seed", [11, 12])
def test_rounded_plan_is_valid_and_above_the_bound(seed: int) -> None:
    b = random_building(random.Random(seed), 0, Horizon(DEFAULT_START, 48))
    pm = finished_model(b)
    lp = relaxed(pm)
    solver, plan = rounded(pm, lp)
    assert solver.objective_value >= lp.bound
    report = validate_plan(b, plan)
    assert report.ok, report


def test_on_off_heater_rounding_keeps_a_tank_the_lp_holds_at_its_minimum() -> None:
    # dear energy all day: the LP heats just enough to hold the tank at its minimum, in
    # fractions of the heater's power that an on/off heater cannot follow slot by slot
    slots = 24
    tank = WaterTank(
        id="dhw",
        min_kwh=2.0,
        max_kwh=6.0,
        initial_kwh=2.2,
        heater_kw=3.0,
        draw_kwh=tuple(0.3 + 0.1 * (t % 3) for t in range(slots)),
        loss_kw=0.05,
        efficiency=0.95,
        on_off=True,
    )
    prices = [0.3 + 0.01 * (t % 5) for t in range(slots)]
    b = building(prices, (tank,), base=2.0)
    pm = finished_model(b)
    _, plan = rounded(pm, relaxed(pm))
    assert set(plan.load("dhw").power_kw) <= {0.0, 3.0}
    assert validate_plan(b, plan).ok
    # it heats no more than one slot's heat above what the draws and losses take
    used = sum(tank.draw_kwh) + tank.loss_kw * 0.25 * slots
    heat = sum(plan.load("dhw").power_kw) * 0.25 * tank.efficiency
    assert used - (tank.initial_kwh - tank.min_kwh) <= heat + 1e-6
    assert heat <= used - (tank.initial_kwh - tank.min_kwh) + 3.0 * 0.25 * tank.efficiency + 1e-6
