"""Commands of the current slot: zone setpoints follow the plan only where it heats."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer.helpers import building
from polis.optimizer.commands import commands_for_slot, floating_setpoint
from polis.optimizer.domain import Building, Plan, ThermalMode, ThermalZone
from polis.optimizer.solve import SolverParams, solve_building

pytestmark = pytest.mark.unit

SLOTS = 8


def _zone(gains_kw: float, initial_c: float = 21.0) -> ThermalZone:
    return ThermalZone(
        id="offices",
        mode=ThermalMode.HEAT,
        r_k_per_kw=5.0,
        c_kwh_per_k=2.0,
        initial_temp_c=initial_c,
        max_kw=3.0,
        cop=(3.0,) * SLOTS,
        outdoor_c=(10.0,) * SLOTS,
        gains_kw=(gains_kw,) * SLOTS,
        comfort_lo=(20.0,) * SLOTS,
        comfort_hi=(26.0,) * SLOTS,
        baseline_setpoint=(21.0,) * SLOTS,
        comfort_penalty_eur_per_kh=5.0,
    )


def _planned(zone: ThermalZone, prices: list[float] | None = None) -> tuple[Building, Plan]:
    """A building with the zone alone, and its plan."""
    b: Building = building(prices or [0.2] * SLOTS, (zone,), base=1.0)
    return b, solve_building(b, SolverParams(time_limit_s=5.0, num_workers=1)).plans[0]


def _setback(cooling_offset_k: float) -> ThermalZone:
    """Evening setback: the floor falls to 14 degC while the day's gains left the zone near
    24 degC, its controller linked to a cooling setpoint ``cooling_offset_k`` above."""
    return dataclasses.replace(
        _zone(gains_kw=3.0, initial_c=24.0),
        comfort_lo=(14.0,) * SLOTS,
        control_band_k=0.5,
        cooling_offset_k=cooling_offset_k,
    )


def _first_setpoint(
    zone: ThermalZone, prices: list[float] | None = None
) -> tuple[float, float, float]:
    """The commanded setpoint of slot 0, the plan's power and temperature of that slot."""
    b, plan = _planned(zone, prices)
    schedule = plan.load("offices")
    (command,) = commands_for_slot(plan, 0, {"offices": "bms/offices-sp"}, building=b)
    assert command.point_id == "bms/offices-sp"
    return command.value, schedule.power_kw[0], schedule.setpoint_c[0]


def test_a_floating_zone_warmed_by_gains_is_commanded_its_comfort_floor() -> None:
    # gains of 3 kW through R = 5 K/kW hold the zone near 25 degC without heating: the plan
    # lets it float upwards, and the controller must not be asked to heat it there
    setpoint, power, planned = _first_setpoint(_zone(gains_kw=3.0))
    assert power == 0.0
    assert planned > 21.0
    assert setpoint == 20.0


def test_a_heated_zone_is_commanded_its_planned_temperature() -> None:
    # no gains and cheap energy now, dear later: the plan pre-heats above the floor
    prices = [0.05, 0.05] + [0.5] * (SLOTS - 2)
    setpoint, power, planned = _first_setpoint(_zone(gains_kw=0.0, initial_c=20.0), prices)
    assert power > 0.5
    assert planned > 20.1
    assert setpoint == round(planned, 1)


def test_without_the_building_the_planned_temperature_is_commanded() -> None:
    _, plan = _planned(_zone(gains_kw=3.0))
    (command,) = commands_for_slot(plan, 0, {"offices": "bms/offices-sp"})
    assert command.value == round(plan.load("offices").setpoint_c[0], 1)


def _controller_output(zone: ThermalZone, setpoint: float, temperature: float) -> float:
    """A proportional heating/cooling controller on one setpoint, as the simulator's zones
    have: +1 full heating, -1 full cooling, 0 idle."""
    band = zone.control_band_k
    heat = (setpoint + band / 2 - temperature) / band
    if heat > 0:
        return min(heat, 1.0)
    if zone.cooling_offset_k is None:
        return 0.0
    cool = (temperature - (setpoint + zone.cooling_offset_k - band / 2)) / band
    return -min(cool, 1.0) if cool > 0 else 0.0


def test_a_floating_zone_warmed_by_gains_is_not_cooled_by_a_linked_cooling_setpoint() -> None:
    # a setpoint at the floor, 14 degC, would start cooling at 14 + 5 - 0.25 degC
    zone = _setback(cooling_offset_k=5.0)
    value = floating_setpoint(zone, 0, 23.6, 24.0)
    assert value == 24.0 - 5.0 + 0.25 + 0.15
    for t in (23.6, 23.8, 24.0):
        assert _controller_output(zone, round(value, 1), t) == 0.0
    # without the linked cooling the floor itself is safe
    assert floating_setpoint(dataclasses.replace(zone, cooling_offset_k=None), 0, 23.6, 24.0) == 14


def test_a_floating_zone_stays_outside_the_proportional_band() -> None:
    # occupied, floor 20 degC, the zone floats from 20.6 to 20.4 degC: a setpoint at the
    # floor would leave 20.4 inside the 1 K band around it and heat
    zone = dataclasses.replace(_zone(gains_kw=0.0), control_band_k=1.0)
    value = floating_setpoint(zone, 0, 20.4, 20.6)
    assert value == 20.4 - 0.5 - 0.15
    assert _controller_output(zone, round(value, 1), 20.4) == 0.0
    # a zone well above its floor gets the floor
    assert floating_setpoint(zone, 0, 23.0, 23.5) == 20.0


def test_a_floating_cooling_zone_is_commanded_above_its_band() -> None:
    zone = dataclasses.replace(
        _zone(gains_kw=0.0), mode=ThermalMode.COOL, control_band_k=0.4, comfort_hi=(26.0,) * SLOTS
    )
    assert floating_setpoint(zone, 0, 25.0, 25.9) == 25.9 + 0.2 + 0.15
    assert floating_setpoint(zone, 0, 22.0, 23.0) == 26.0


def test_the_first_slot_floats_from_the_measured_temperature() -> None:
    # gains hold the zone up; the plan floats in slot 0 from the measured 24 degC
    zone = _setback(cooling_offset_k=3.0)
    b, plan = _planned(zone)
    schedule = plan.load("offices")
    assert schedule.power_kw[0] == 0.0
    (command,) = commands_for_slot(plan, 0, {"offices": "bms/offices-sp"}, building=b)
    for t in (24.0, schedule.setpoint_c[0]):
        assert _controller_output(zone, command.value, t) == 0.0
