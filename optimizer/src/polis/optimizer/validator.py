"""Independent check of a published plan against every constraint of its inputs.

This module deliberately shares no code with the CP-SAT model: it re-simulates each load from
the plan's power series in floating point and compares against the limits, so a modelling or
scaling mistake in the optimizer shows up here. Tolerances cover the model's documented
integer rounding (10 W, 1 mK per step, 0.1 % on efficiencies).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Load,
    Neighbourhood,
    Plan,
    ThermalZone,
    WaterTank,
)
from polis.optimizer.runs import runs_of

POWER_TOL_KW = 0.011
TEMP_TOL_K = 0.05


def _energy_tol(magnitude: float) -> float:
    return 0.01 + 0.002 * abs(magnitude)


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    comfort_deviation_kh: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, message: str) -> None:
        self.violations.append(message)


def check_deferrable(load: DeferrableLoad, power: Sequence[float], report: Report) -> None:
    on = []
    for t, p in enumerate(power):
        is_on = abs(p - load.power_kw) <= POWER_TOL_KW
        if not is_on and abs(p) > POWER_TOL_KW:
            report.add(f"{load.id}: slot {t} power {p:g} kW is neither 0 nor {load.power_kw:g}")
        if is_on and not load.earliest <= t < load.latest:
            report.add(f"{load.id}: runs in slot {t}, outside its window")
        on.append(is_on)
    if sum(on) != load.run_slots:
        report.add(f"{load.id}: runs {sum(on)} slots, needs {load.run_slots}")
    runs = runs_of(on)
    for a, b in runs:
        if b - a < load.min_run_slots:
            report.add(f"{load.id}: run {a}-{b} shorter than {load.min_run_slots} slots")
    for (_, end), (start, _) in itertools.pairwise(runs):
        if start - end < load.min_off_slots:
            report.add(f"{load.id}: off {end}-{start} shorter than {load.min_off_slots} slots")
    if load.max_starts is not None and len(runs) > load.max_starts:
        report.add(f"{load.id}: {len(runs)} starts, at most {load.max_starts} allowed")


def check_zone(
    zone: ThermalZone,
    power: Sequence[float],
    setpoints: Sequence[float],
    dt_h: float,
    report: Report,
) -> None:
    a = math.exp(-dt_h / (zone.r_k_per_kw * zone.c_kwh_per_k))
    temp = zone.initial_temp_c
    deviation = 0.0
    for t, p in enumerate(power):
        if p < -POWER_TOL_KW or p > zone.max_kw + POWER_TOL_KW:
            report.add(f"{zone.id}: slot {t} power {p:g} kW outside [0, {zone.max_kw:g}]")
        if zone.levels_kw is not None and not any(
            abs(p - lv) <= POWER_TOL_KW for lv in (0.0, *zone.levels_kw)
        ):
            report.add(f"{zone.id}: slot {t} power {p:g} kW is not one of its levels")
        heat = (1 if zone.mode.value == "heat" else -1) * zone.cop[t] * p + zone.gains_kw[t]
        temp = a * temp + (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * heat)
        if setpoints and abs(setpoints[t] - temp) > TEMP_TOL_K:
            report.add(f"{zone.id}: slot {t} planned {setpoints[t]:.3f} degC, physics {temp:.3f}")
        below = zone.comfort_lo[t] - temp
        above = temp - zone.comfort_hi[t]
        deviation += max(below, above, 0.0) * dt_h
        if zone.comfort_hard and max(below, above) > TEMP_TOL_K:
            report.add(
                f"{zone.id}: slot {t} at {temp:.2f} degC outside the hard comfort band "
                f"[{zone.comfort_lo[t]:g}, {zone.comfort_hi[t]:g}]"
            )
    report.comfort_deviation_kh[zone.id] = deviation


def check_tank(tank: WaterTank, power: Sequence[float], dt_h: float, report: Report) -> None:
    energy = tank.initial_kwh
    tol = _energy_tol(tank.max_kwh)
    for t, p in enumerate(power):
        if p < -POWER_TOL_KW or p > tank.heater_kw + POWER_TOL_KW:
            report.add(f"{tank.id}: slot {t} power {p:g} kW outside [0, {tank.heater_kw:g}]")
        if tank.on_off and min(abs(p), abs(p - tank.heater_kw)) > POWER_TOL_KW:
            report.add(f"{tank.id}: slot {t} power {p:g} kW for an on/off heater")
        energy += tank.efficiency * p * dt_h - tank.draw_kwh[t] - tank.loss_kw * dt_h
        if energy < tank.min_kwh - tol or energy > tank.max_kwh + tol:
            report.add(
                f"{tank.id}: slot {t} stores {energy:.3f} kWh outside "
                f"[{tank.min_kwh:g}, {tank.max_kwh:g}]"
            )


def check_ev(ev: EVSession, power: Sequence[float], dt_h: float, report: Report) -> None:
    delivered = 0.0
    for t, p in enumerate(power):
        if abs(p) <= POWER_TOL_KW:
            continue
        if not ev.arrival <= t < ev.departure:
            report.add(f"{ev.id}: charges in slot {t} while not plugged in")
        if p < ev.min_kw - POWER_TOL_KW or p > ev.max_kw + POWER_TOL_KW:
            report.add(f"{ev.id}: slot {t} power {p:g} kW outside [{ev.min_kw:g}, {ev.max_kw:g}]")
        delivered += p * ev.efficiency * dt_h
    if delivered < ev.energy_kwh - _energy_tol(ev.energy_kwh):
        report.add(f"{ev.id}: delivers {delivered:.3f} kWh, needs {ev.energy_kwh:g}")


def check_battery(bat: Battery, power: Sequence[float], dt_h: float, report: Report) -> None:
    soc = bat.initial_kwh
    tol = _energy_tol(bat.capacity_kwh)
    for t, p in enumerate(power):
        if p > bat.max_charge_kw + POWER_TOL_KW or -p > bat.max_discharge_kw + POWER_TOL_KW:
            report.add(f"{bat.id}: slot {t} power {p:g} kW beyond its limits")
        if p >= 0:
            soc += p * bat.charge_efficiency * dt_h
        else:
            soc += p / bat.discharge_efficiency * dt_h
        if soc < bat.min_kwh - tol or soc > bat.upper_kwh + tol:
            report.add(f"{bat.id}: slot {t} state of charge {soc:.3f} kWh outside its limits")
    if soc < min(bat.terminal_kwh, bat.upper_kwh) - tol:
        report.add(f"{bat.id}: ends at {soc:.3f} kWh, below {bat.terminal_kwh:g}")


def _check_load(
    load: Load, power: Sequence[float], setpoints: Sequence[float], dt_h: float, report: Report
) -> None:
    """Re-simulate one load from its power series with the check of its kind."""
    if isinstance(load, DeferrableLoad):
        check_deferrable(load, power, report)
    elif isinstance(load, ThermalZone):
        check_zone(load, power, setpoints, dt_h, report)
    elif isinstance(load, WaterTank):
        check_tank(load, power, dt_h, report)
    elif isinstance(load, EVSession):
        check_ev(load, power, dt_h, report)
    else:
        check_battery(load, power, dt_h, report)


def _check_loads(building: Building, plan: Plan, report: Report) -> list[float]:
    """Check every load's schedule; the summed power per slot of those with a full series."""
    slots, dt_h = building.horizon.slots, building.horizon.dt_h
    scheduled = {s.load_id: s for s in plan.loads}
    total = [0.0] * slots
    for load in building.loads:
        schedule = scheduled.get(load.id)
        if schedule is None:
            report.add(f"{building.id}: no schedule for load {load.id}")
            continue
        power = schedule.power_kw
        if len(power) != slots:
            report.add(f"{load.id}: {len(power)} slots, expected {slots}")
            continue
        for t in range(slots):
            total[t] += power[t]
        _check_load(load, power, schedule.setpoint_c, dt_h, report)
    return total


def _check_balance(building: Building, plan: Plan, total: Sequence[float], report: Report) -> None:
    """The grid series must be the base load less PV plus the loads, less any shared PV."""
    slots = building.horizon.slots
    shared = plan.shared_pv_kw or (0.0,) * slots
    for t in range(slots):
        expected = building.base_load_kw[t] - building.pv_kw[t] + total[t] - shared[t]
        if abs(expected - plan.grid_kw[t]) > 1e-6:
            report.add(
                f"{building.id}: slot {t} grid {plan.grid_kw[t]:g} kW, loads sum {expected:g}"
            )


def _check_contracted_peak(building: Building, plan: Plan, report: Report) -> None:
    limit = building.tariff.contracted_peak_kw
    if limit is None:
        return
    worst = max(plan.grid_kw)
    if worst > limit + POWER_TOL_KW * (len(building.loads) + 1):
        report.add(f"{building.id}: import {worst:.2f} kW above contracted {limit:g} kW")


def validate_plan(building: Building, plan: Plan, report: Report | None = None) -> Report:
    report = report or Report()
    slots = building.horizon.slots
    if len(plan.grid_kw) != slots:
        report.add(f"{building.id}: grid series has {len(plan.grid_kw)} slots, expected {slots}")
        return report
    total = _check_loads(building, plan, report)
    _check_balance(building, plan, total, report)
    _check_contracted_peak(building, plan, report)
    return report


def validate_neighbourhood(hood: Neighbourhood, plans: Sequence[Plan]) -> Report:
    report = Report()
    by_id = {p.building: p for p in plans}
    for building in hood.buildings:
        plan = by_id.get(building.id)
        if plan is None:
            report.add(f"{hood.id}: no plan for building {building.id}")
            continue
        validate_plan(building, plan, report)
    if report.violations or not hood.buildings:
        return report
    slots = hood.buildings[0].horizon.slots
    terms = sum(len(b.loads) + 2 for b in hood.buildings)
    tol = POWER_TOL_KW * terms
    for t in range(slots):
        used = sum(p.shared_pv_kw[t] for p in plans if p.shared_pv_kw)
        if hood.shared_pv_kw is not None and used > hood.shared_pv_kw[t] + tol:
            report.add(
                f"{hood.id}: slot {t} uses {used:.2f} kW of shared PV, "
                f"only {hood.shared_pv_kw[t]:g}"
            )
        limit = hood.limit_kw(t)
        if limit is None:
            continue
        community = (hood.shared_pv_kw[t] - used) if hood.shared_pv_kw is not None else 0.0
        flow = sum(p.grid_kw[t] for p in plans) - community
        if abs(flow) > limit + tol:
            report.add(f"{hood.id}: slot {t} transformer flow {flow:.2f} kW beyond {limit:g}")
    return report
