"""Commands of the current slot: zone setpoints follow the plan only where it heats."""

from __future__ import annotations

from optimizer.helpers import building
from polis.optimizer.commands import commands_for_slot
from polis.optimizer.domain import ThermalMode, ThermalZone
from polis.optimizer.solve import SolverParams, solve_building

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


def _first_setpoint(
    zone: ThermalZone, prices: list[float] | None = None
) -> tuple[float, float, float]:
    """The commanded setpoint of slot 0, the plan's power and temperature of that slot."""
    b = building(prices or [0.2] * SLOTS, (zone,), base=1.0)
    plan = solve_building(b, SolverParams(time_limit_s=5.0, num_workers=1)).plans[0]
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
    zone = _zone(gains_kw=3.0)
    b = building([0.2] * SLOTS, (zone,), base=1.0)
    plan = solve_building(b, SolverParams(time_limit_s=5.0, num_workers=1)).plans[0]
    (command,) = commands_for_slot(plan, 0, {"offices": "bms/offices-sp"})
    assert command.value == round(plan.load("offices").setpoint_c[0], 1)
