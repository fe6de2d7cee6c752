"""Solving plan models with CP-SAT: limits, progress, proven gap, conflicts and fallback."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from polis.optimizer import costing
from polis.optimizer.baseline import building_baseline
from polis.optimizer.domain import (
    Building,
    DeferrableLoad,
    LoadSchedule,
    Neighbourhood,
    Plan,
    SolveResult,
    SolveStatus,
    ThermalZone,
    WaterTank,
)
from polis.optimizer.explain import explain_load
from polis.optimizer.model import MONEY_SCALE, POWER_SCALE, TEMP_SCALE, Coordination, PlanModel


@dataclass(frozen=True)
class SolverParams:
    time_limit_s: float = 10.0
    relative_gap_limit: float = 0.01
    num_workers: int = 0  # 0: all cores
    diagnose_time_limit_s: float = 5.0
    monolithic_max_loads: int = 60
    seed: int = 0

    @property
    def workers(self) -> int:
        return self.num_workers or os.cpu_count() or 1


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records when the first feasible plan appeared."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.perf_counter()
        self.first_s: float | None = None
        self.count = 0

    def on_solution_callback(self) -> None:
        self.count += 1
        if self.first_s is None:
            self.first_s = time.perf_counter() - self.started


@dataclass
class RawSolve:
    status: int
    solver: cp_model.CpSolver
    first_solution_s: float | None
    wall_s: float

    @property
    def has_solution(self) -> bool:
        return self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def complete_hint(pm: PlanModel, time_limit_s: float) -> bool:
    """Turn the baseline decisions into a complete solution hint.

    The building's own schedule fixes the primary decisions; CP-SAT only has to propagate the
    rest (states, grid exchange, peak, comfort slacks). When it is feasible, the main search
    starts from a full solution and publishes a first plan at once.
    """
    trial = pm.model.clone()
    for var, value in pm.hints:
        trial.add(trial.get_int_var_from_proto_index(var.index) == value)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(trial)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for var, value in pm.hints:
            pm.model.add_hint(var, value)
        return False
    pm.model.clear_hints()
    for index in range(len(pm.model.proto.variables)):
        var = pm.model.get_int_var_from_proto_index(index)
        pm.model.add_hint(var, solver.value(trial.get_int_var_from_proto_index(index)))
    return True


def run(pm: PlanModel, params: SolverParams, time_limit_s: float | None = None) -> RawSolve:
    pm.finish()
    started = time.perf_counter()
    limit = time_limit_s or params.time_limit_s
    if not os.environ.get("NOHINT"):
        complete_hint(pm, min(1.0, limit / 4))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, limit - (time.perf_counter() - started))
    solver.parameters.relative_gap_limit = params.relative_gap_limit
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    progress = _Progress()
    progress.started = started
    status = solver.solve(pm.model, progress)
    return RawSolve(status, solver, progress.first_s, time.perf_counter() - started)


def proven_gap(objective: float, bound: float) -> float:
    """Relative gap as CP-SAT defines it: |objective - bound| / max(1, |objective|)."""
    return abs(objective - bound) / max(1.0, abs(objective))


def conflicts(
    buildings: list[Building], hood: Neighbourhood | None, params: SolverParams
) -> tuple[str, ...]:
    """Names of hard constraint groups that together make the problem infeasible."""
    pm = PlanModel(diagnose=True)
    if hood is not None:
        pm.add_neighbourhood(hood)
    else:
        for building in buildings:
            pm.add_building(building)
    pm.finish()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = params.diagnose_time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(pm.model)
    if status != cp_model.INFEASIBLE:
        return ("infeasible: the conflict analysis did not finish",)
    names = [
        pm.groups[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in pm.groups
    ]
    if not names:
        return ("the physical limits of the loads themselves conflict",)
    return tuple(sorted(set(names)))


def fallback_plan(building: Building, status: SolveStatus, found: tuple[str, ...]) -> Plan:
    """The building's own schedule, published when there is no optimised plan."""
    base = building_baseline(building)
    tariff, dt = building.tariff, building.horizon.dt_h
    figures = costing.figures(base.grid_kw, tariff, dt)
    loads = tuple(
        LoadSchedule(s.load_id, s.kind, s.power_kw, s.setpoint_c, f"fallback: {s.explanation}")
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


def extract_plans(
    pm: PlanModel, solver: cp_model.CpSolver, status: SolveStatus, gap: float
) -> tuple[Plan, ...]:
    plans = []
    for bv in pm.buildings.values():
        building = bv.building
        slots, dt = building.horizon.slots, building.horizon.dt_h
        schedules = []
        flex = [0.0] * slots
        for load in building.loads:
            lv = bv.loads[load.id]
            power = tuple(solver.value(expr) / POWER_SCALE for expr in lv.power)
            if isinstance(load, DeferrableLoad):
                power = tuple(load.power_kw if p > 0 else 0.0 for p in power)
            elif isinstance(load, WaterTank) and load.on_off:
                power = tuple(load.heater_kw if p > 0 else 0.0 for p in power)
            setpoints: tuple[float, ...] = ()
            if isinstance(load, ThermalZone):
                setpoints = tuple(solver.value(v) / TEMP_SCALE for v in lv.temps)
            for t in range(slots):
                flex[t] += power[t]
            explanation = explain_load(load, power, building)
            schedules.append(LoadSchedule(load.id, load.kind, power, setpoints, explanation))
        shared = tuple(solver.value(v) / POWER_SCALE for v in bv.shared_pv)
        grid = tuple(
            building.base_load_kw[t] - building.pv_kw[t] + flex[t] - (shared[t] if shared else 0.0)
            for t in range(slots)
        )
        plans.append(
            Plan(
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
        )
    return tuple(plans)


def _finish(
    pm: PlanModel,
    raw: RawSolve,
    params: SolverParams,
    buildings: list[Building],
    hood: Neighbourhood | None,
) -> SolveResult:
    solver = raw.solver
    if raw.has_solution:
        objective = solver.objective_value / MONEY_SCALE
        bound = solver.best_objective_bound / MONEY_SCALE
        gap = proven_gap(solver.objective_value, solver.best_objective_bound)
        optimal = raw.status == cp_model.OPTIMAL or gap <= params.relative_gap_limit + 1e-12
        status = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
        return SolveResult(
            status=status,
            plans=extract_plans(pm, solver, status, gap),
            objective_eur=objective,
            best_bound_eur=bound,
            gap=gap,
            solve_time_s=raw.wall_s,
            first_solution_s=raw.first_solution_s,
        )
    if raw.status == cp_model.INFEASIBLE:
        found = conflicts(buildings, hood, params)
        status = SolveStatus.INFEASIBLE
    else:
        found = (f"no plan within {params.time_limit_s:g} s ({solver.status_name(raw.status)})",)
        status = SolveStatus.FALLBACK
    plans = tuple(fallback_plan(b, status, found) for b in buildings)
    cost = sum(p.planned.cost_eur for p in plans)
    return SolveResult(
        status=status,
        plans=plans,
        objective_eur=cost,
        best_bound_eur=float("-inf"),
        gap=float("inf"),
        solve_time_s=raw.wall_s,
        first_solution_s=None,
        conflicts=found,
    )


def solve_building(
    building: Building, params: SolverParams | None = None, coordination: Coordination | None = None
) -> SolveResult:
    params = params or SolverParams()
    pm = PlanModel()
    pm.add_building(building, coordination)
    return _finish(pm, run(pm, params), params, [building], None)


def solve_monolithic(hood: Neighbourhood, params: SolverParams | None = None) -> SolveResult:
    params = params or SolverParams()
    pm = PlanModel()
    pm.add_neighbourhood(hood)
    return _finish(pm, run(pm, params), params, list(hood.buildings), hood)
