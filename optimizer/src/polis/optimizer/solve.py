"""Solving plan models with CP-SAT: limits, progress, proven gap, conflicts and fallback."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

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
from polis.optimizer.model import (
    MONEY_SCALE,
    OVERLOAD_PENALTY,
    POWER_SCALE,
    TEMP_SCALE,
    Coordination,
    PlanModel,
)


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
    status: Any  # CpSolverStatus
    solver: cp_model.CpSolver
    first_solution_s: float | None
    wall_s: float
    objective: float = 0.0
    bound: float = 0.0

    @property
    def has_solution(self) -> bool:
        return self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def baseline_solution(pm: PlanModel, time_limit_s: float) -> cp_model.CpSolver | None:
    """The building's own decisions completed into a full solution of the model.

    The baseline fixes the primary decisions; CP-SAT only propagates the rest (states, grid
    exchange, peak, comfort slacks). This is the first feasible plan, available in a fraction
    of a second; ``None`` when the as-is schedule breaks a hard constraint.
    """
    trial = pm.model.clone()
    for var, value in pm.hints:
        trial.add(trial.get_int_var_from_proto_index(var.index) == value)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(trial)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


def run(pm: PlanModel, params: SolverParams, time_limit_s: float | None = None) -> RawSolve:
    """Two phases: the completed baseline as a first plan, then the free LP-guided search.

    The main search starts without a hint (anchoring it on the as-is schedule slows the
    LP-guided search down) but with the first plan's objective as a cut-off; whichever plan
    is better is returned, with CP-SAT's proven bound.
    """
    pm.finish()
    started = time.perf_counter()
    limit = time_limit_s or params.time_limit_s
    first = baseline_solution(pm, min(max(0.5, limit / 4), 10.0))
    first_s = time.perf_counter() - started if first is not None else None
    if first is not None:
        pm.model.add(pm.objective <= round(first.objective_value))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, limit - (time.perf_counter() - started))
    solver.parameters.relative_gap_limit = params.relative_gap_limit
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    if params.workers <= 2:
        # On small machines the one full-problem worker is the LP-guided search; its
        # max_lp variant (full linearisation) finds markedly better plans on these models.
        solver.parameters.subsolvers.append("max_lp")
        solver.parameters.linearization_level = 2
    progress = _Progress()
    progress.started = started
    status = solver.solve(pm.model, progress)
    wall = time.perf_counter() - started
    if first_s is None:
        first_s = progress.first_s
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return RawSolve(
            status, solver, first_s, wall, solver.objective_value, solver.best_objective_bound
        )
    if first is not None:
        # nothing better than the first plan: it stands, with whatever bound was proven
        bound = (
            solver.best_objective_bound if status != cp_model.INFEASIBLE else first.objective_value
        )
        if status == cp_model.INFEASIBLE or bound >= first.objective_value:
            bound = first.objective_value  # the cut-off excluded only worse plans
        return RawSolve(cp_model.FEASIBLE, first, first_s, wall, first.objective_value, bound)
    return RawSolve(status, solver, first_s, wall)


def proven_gap(objective: float, bound: float) -> float:
    """Relative gap as CP-SAT defines it: |objective - bound| / max(1, |objective|)."""
    return abs(objective - bound) / max(1.0, abs(objective))


def conflicts(
    buildings: list[Building], hood: Neighbourhood | None, params: SolverParams
) -> tuple[str, ...]:
    """Names of hard constraint groups that together make the problem infeasible.

    Every hard group is guarded by an assumption literal; CP-SAT returns a sufficient set of
    assumptions, which is then shrunk by deletion (drop a group, keep it out if the rest is
    still infeasible) so the message names only groups that really conflict.
    """
    pm = PlanModel(diagnose=True)
    if hood is not None:
        pm.add_neighbourhood(hood)
    else:
        for building in buildings:
            pm.add_building(building)
    pm.finish()
    deadline = time.perf_counter() + params.diagnose_time_limit_s

    def infeasible(literals: list[int]) -> bool | None:
        pm.model.clear_assumptions()
        pm.model.add_assumptions([pm.model.get_bool_var_from_proto_index(i) for i in literals])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, deadline - time.perf_counter())
        status = solver.solve(pm.model)
        if status == cp_model.INFEASIBLE:
            core[:] = [
                i for i in solver.sufficient_assumptions_for_infeasibility() if i in pm.groups
            ]
            return True
        return False if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None

    core: list[int] = []
    if not infeasible(list(pm.groups)):
        return ("infeasible: the conflict analysis did not finish",)
    if not core:
        return ("the physical limits of the loads themselves conflict",)
    needed = list(core)
    for literal in list(needed):
        if time.perf_counter() >= deadline:
            break
        trial = [i for i in needed if i != literal]
        if trial and infeasible(trial):
            needed = [i for i in trial if i in core] or trial
    return tuple(sorted({pm.groups[i] for i in needed}))


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
        # overload of a soft cap is a modelling device, not a cost: report the real objective
        penalty = sum(solver.value(v) for v in pm.overload) * OVERLOAD_PENALTY
        objective = (raw.objective - penalty) / MONEY_SCALE
        bound = raw.bound / MONEY_SCALE
        gap = proven_gap(raw.objective, raw.bound)
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
    """One model for the whole neighbourhood, transformer overload priced out (see model)."""
    params = params or SolverParams()
    pm = PlanModel(soft_transformer=True)
    pm.add_neighbourhood(hood)
    raw = run(pm, params)
    if raw.has_solution and pm.overload:
        worst = max(raw.solver.value(v) for v in pm.overload) / POWER_SCALE
        if worst > 0:
            found = (
                f"{hood.id}: transformer limit {hood.transformer_kw:g} kW "
                f"(best plan still exceeds it by {worst:.2f} kW)",
            )
            plans = tuple(fallback_plan(b, SolveStatus.INFEASIBLE, found) for b in hood.buildings)
            return SolveResult(
                status=SolveStatus.INFEASIBLE,
                plans=plans,
                objective_eur=sum(p.planned.cost_eur for p in plans),
                best_bound_eur=raw.bound / MONEY_SCALE,
                gap=float("inf"),
                solve_time_s=raw.wall_s,
                first_solution_s=None,
                conflicts=found,
            )
    return _finish(pm, raw, params, list(hood.buildings), hood)
