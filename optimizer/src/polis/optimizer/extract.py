"""Plans read off a solved plan model, or the building's own schedule when there is none."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from polis.optimizer import costing
from polis.optimizer.baseline import building_baseline
from polis.optimizer.domain import (
    Building,
    DeferrableLoad,
    Load,
    LoadSchedule,
    Plan,
    SolveStatus,
    WaterTank,
)
from polis.optimizer.explain import explain_load
from polis.optimizer.model import (
    POWER_SCALE,
    TEMP_SCALE,
    BuildingVars,
    LoadVars,
    PlanModel,
    ZoneVars,
)


def baseline_plan(
    building: Building, status: SolveStatus, found: tuple[str, ...] = (), prefix: str = ""
) -> Plan:
    """The building's own (as-is) schedule as a plan."""
    base = building_baseline(building)
    tariff, dt = building.tariff, building.horizon.dt_h
    figures = costing.figures(base.grid_kw, tariff, dt)
    loads = tuple(
        LoadSchedule(s.load_id, s.kind, s.power_kw, s.setpoint_c, prefix + s.explanation)
        for s in base.loads
    )
    return Plan(
        building=building.id,
        neighbourhood=building.neighbourhood,
        horizon=building.horizon,
        loads=loads,
        grid_kw=base.grid_kw,
        planned=figures,
        baseline=figures,
        status=status,
        gap=0.0,
        conflicts=found,
    )


def fallback_plan(building: Building, status: SolveStatus, found: tuple[str, ...]) -> Plan:
    """The building's own schedule, published when there is no optimised plan."""
    return baseline_plan(building, status, found, prefix="fallback: ")


def extract_plans(
    pm: PlanModel, solver: cp_model.CpSolver, status: SolveStatus, gap: float
) -> tuple[Plan, ...]:
    """Every building's plan in ``solver``'s solution of the model."""
    return tuple(_plan(bv, solver, status, gap) for bv in pm.buildings.values())


def _plan(bv: BuildingVars, solver: cp_model.CpSolver, status: SolveStatus, gap: float) -> Plan:
    building = bv.building
    slots, dt = building.horizon.slots, building.horizon.dt_h
    schedules = [_schedule(load, bv.loads[load.id], solver, building) for load in building.loads]
    flex = [0.0] * slots
    for schedule in schedules:
        for t in range(slots):
            flex[t] += schedule.power_kw[t]
    shared = tuple(solver.value(v) / POWER_SCALE for v in bv.shared_pv)
    grid = tuple(
        building.base_load_kw[t] - building.pv_kw[t] + flex[t] - (shared[t] if shared else 0.0)
        for t in range(slots)
    )
    return Plan(
        building=building.id,
        neighbourhood=building.neighbourhood,
        horizon=building.horizon,
        loads=tuple(schedules),
        grid_kw=grid,
        planned=costing.figures(grid, building.tariff, dt),
        baseline=costing.figures(bv.baseline.grid_kw, building.tariff, dt),
        status=status,
        gap=gap,
        shared_pv_kw=shared,
    )


def _schedule(
    load: Load, lv: LoadVars, solver: cp_model.CpSolver, building: Building
) -> LoadSchedule:
    """One load's power (kW) and, for a zone, temperature per slot, with its explanation."""
    power = _power(load, [solver.value(expr) / POWER_SCALE for expr in lv.power])
    setpoints: tuple[float, ...] = ()
    if isinstance(lv.handles, ZoneVars):
        setpoints = tuple(solver.value(v) / TEMP_SCALE for v in lv.handles.temps)
    explanation = explain_load(load, power, building)
    return LoadSchedule(load.id, load.kind, power, setpoints, explanation)


def _power(load: Load, power: Sequence[float]) -> tuple[float, ...]:
    """An on/off load at its exact rated power, not the power the model rounded to 10 W."""
    if isinstance(load, DeferrableLoad):
        return tuple(load.power_kw if p > 0 else 0.0 for p in power)
    if isinstance(load, WaterTank) and load.on_off:
        return tuple(load.heater_kw if p > 0 else 0.0 for p in power)
    return tuple(power)
