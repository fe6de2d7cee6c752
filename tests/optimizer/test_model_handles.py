"""The model's typed variables per load, and the LP rounding and plans read through them."""

from __future__ import annotations

import pytest

from optimizer.helpers import building, finished_model, heat_zone, relaxed, rounded
from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    ThermalZone,
    WaterTank,
)
from polis.optimizer.load_rounding import lp_power, lp_rounded_power
from polis.optimizer.model import (
    POWER_SCALE,
    BatteryVars,
    DeferrableVars,
    EVVars,
    PlanModel,
    TankVars,
    ZoneVars,
)
from polis.optimizer.validator import validate_plan

pytestmark = pytest.mark.unit

SLOTS = 12


def _zone(hard: bool) -> ThermalZone:
    zone: ThermalZone = heat_zone(SLOTS, gains_kw=0.2, comfort_hard=hard)
    return zone


def _instance() -> Building:
    prices = [0.1] * 4 + [0.3] * 4 + [0.2] * 4
    loads = (
        _zone(hard=False),
        WaterTank(
            id="dhw",
            min_kwh=1.0,
            max_kwh=6.0,
            initial_kwh=3.0,
            heater_kw=3.0,
            draw_kwh=(0.3,) * SLOTS,
            loss_kw=0.05,
            on_off=True,
        ),
        EVSession("ev", arrival=2, departure=10, energy_kwh=6.0, max_kw=7.0, min_kw=1.4),
        Battery(
            "bat",
            capacity_kwh=8.0,
            initial_kwh=4.0,
            max_charge_kw=3.0,
            max_discharge_kw=4.0,
            terminal_min_kwh=4.0,
        ),
        DeferrableLoad("pump", power_kw=1.5, earliest=1, latest=9, run_slots=3),
    )
    made: Building = building(prices, loads, base=2.0, pv=[0.0] * 6 + [3.0] * 6)
    return made


def test_each_load_hands_back_its_own_variables() -> None:
    loads = finished_model(_instance()).buildings["school"].loads
    zone, tank, ev = loads["hall"].handles, loads["dhw"].handles, loads["ev"].handles
    bat, pump = loads["bat"].handles, loads["pump"].handles
    assert isinstance(zone, ZoneVars)
    assert len(zone.power) == len(zone.temps) == len(zone.below) == len(zone.above) == SLOTS
    assert isinstance(tank, TankVars)
    assert tank.on_off
    assert len(tank.heater) == len(tank.energy) == SLOTS
    assert isinstance(ev, EVVars)
    assert sorted(ev.power) == list(range(2, 10))
    assert isinstance(bat, BatteryVars)
    assert len(bat.charge) == len(bat.discharge) == len(bat.charging) == len(bat.soc) == SLOTS
    assert isinstance(pump, DeferrableVars)
    assert sorted(pump.on) == sorted(pump.start) == list(range(1, 9))


def test_a_hard_comfort_band_has_no_slacks() -> None:
    pm = finished_model(building([0.2] * SLOTS, (_zone(hard=True),)))
    zone = pm.buildings["school"].loads["hall"].handles
    assert isinstance(zone, ZoneVars)
    assert zone.below == zone.above == ()
    assert pm.buildings["school"].loads["hall"].penalty == ()


def test_a_battery_decides_its_charge_discharge_and_direction_in_each_slot() -> None:
    lv = finished_model(_instance()).buildings["school"].loads["bat"]
    bat = lv.handles
    assert isinstance(bat, BatteryVars)
    expected = [
        (v.index, t)
        for t in range(SLOTS)
        for v in (bat.charge[t], bat.discharge[t], bat.charging[t])
    ]
    assert [(d.var.index, d.slot) for d in lv.decisions] == expected
    # 2 kW charging, then 1.5 kW discharging
    decided = dict(lv.decide([2.0] * 6 + [-1.5] * 6))
    assert decided[bat.charge[0]] == 2 * POWER_SCALE
    assert decided[bat.discharge[0]] == 0
    assert decided[bat.discharge[7]] == 1.5 * POWER_SCALE
    assert decided[bat.charging[7]] == 0


def test_lp_power_of_a_battery_is_charge_less_discharge() -> None:
    pm = finished_model(_instance())
    lv = pm.buildings["school"].loads["bat"]
    bat = lv.handles
    assert isinstance(bat, BatteryVars)
    values = [0.0] * len(pm.model.proto.variables)
    values[bat.charge[3].index] = 250.0
    values[bat.discharge[5].index] = 120.0
    power = lp_power(lv, values, SLOTS)
    assert power[3] == pytest.approx(2.5)
    assert power[5] == pytest.approx(-1.2)
    assert sum(abs(p) for p in power) == pytest.approx(3.7)


def _rounded_plan(b: Building, pm: PlanModel) -> tuple[tuple[float, ...], ...]:
    _, plan = rounded(pm, relaxed(pm))
    assert validate_plan(b, plan).ok
    return tuple(s.power_kw for s in plan.loads)


def _anonymous(b: Building) -> PlanModel:
    """The model with every variable's name cleared."""
    pm: PlanModel = finished_model(b)
    for var in pm.model.proto.variables:
        var.name = ""
    return pm


def test_a_battery_rounds_to_its_lp_flows_without_variable_names() -> None:
    b = _instance()
    pm = _anonymous(b)
    lp = relaxed(pm)
    lv = pm.buildings["school"].loads["bat"]
    bat = lv.handles
    assert isinstance(bat, BatteryVars)
    battery = next(load for load in b.loads if load.id == "bat")
    rounded = lp_rounded_power(battery, lv, lp, SLOTS, b.horizon.dt_h)
    flows = [
        (lp.values[c.index] - lp.values[d.index]) / POWER_SCALE
        for c, d in zip(bat.charge, bat.discharge, strict=True)
    ]
    assert rounded == pytest.approx(flows)
    assert any(abs(p) > 0.1 for p in flows)  # the LP does use the battery


def test_plans_do_not_depend_on_variable_names() -> None:
    b = _instance()
    assert _rounded_plan(b, _anonymous(b)) == _rounded_plan(b, finished_model(b))
