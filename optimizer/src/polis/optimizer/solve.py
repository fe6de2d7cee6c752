"""Planning one building, or a neighbourhood as one model: the entry points of a solve.

The work is done by ``cpsat`` (the CP-SAT driver), ``relaxation`` and ``rounding`` (the LP
bound and the plan near it), ``conflicts`` (what makes a model infeasible) and ``extract``
(plans read off a solution); this module puts their results together.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from polis.optimizer.conflicts import conflicts, limit_name
from polis.optimizer.cpsat import RawSolve, proven_gap, run
from polis.optimizer.domain import Building, Neighbourhood, SolveResult, SolveStatus
from polis.optimizer.extract import extract_plans, fallback_plan
from polis.optimizer.model import (
    MONEY_SCALE,
    OVERLOAD_PENALTY,
    POWER_SCALE,
    Coordination,
    PlanModel,
)
from polis.optimizer.params import SolverParams

__all__ = ["SolverParams", "solve_building", "solve_monolithic"]


def solve_building(
    building: Building, params: SolverParams | None = None, coordination: Coordination | None = None
) -> SolveResult:
    params = params or SolverParams()
    pm = PlanModel()
    pm.add_building(building, coordination)
    return _result(pm, run(pm, params), params, [building], None)


def solve_monolithic(hood: Neighbourhood, params: SolverParams | None = None) -> SolveResult:
    """One model for the whole neighbourhood, transformer overload priced out (see model)."""
    params = params or SolverParams()
    pm = PlanModel(soft_transformer=True)
    pm.add_neighbourhood(hood)
    raw = run(pm, params)
    if raw.has_solution and pm.overload:
        worst = max(raw.solver.value(v) for v in pm.overload) / POWER_SCALE
        if worst > 0:
            return over_limit(hood, worst, raw.bound / MONEY_SCALE, raw.wall_s)
    return _result(pm, raw, params, list(hood.buildings), hood)


def _result(
    pm: PlanModel,
    raw: RawSolve,
    params: SolverParams,
    buildings: Sequence[Building],
    hood: Neighbourhood | None,
) -> SolveResult:
    if raw.has_solution:
        return _solved(pm, raw, params)
    return _unsolved(raw, params, buildings, hood)


def _solved(pm: PlanModel, raw: RawSolve, params: SolverParams) -> SolveResult:
    solver = raw.solver
    # overload of a soft cap is a modelling device, not a cost: report the real objective
    penalty = sum(solver.value(v) for v in pm.overload) * OVERLOAD_PENALTY
    gap = proven_gap(raw.objective, raw.bound)
    optimal = raw.status == cp_model.OPTIMAL or gap <= params.relative_gap_limit + 1e-12
    status = SolveStatus.OPTIMAL if optimal else SolveStatus.FEASIBLE
    return SolveResult(
        status=status,
        plans=extract_plans(pm, solver, status, gap),
        objective_eur=(raw.objective - penalty) / MONEY_SCALE,
        best_bound_eur=raw.bound / MONEY_SCALE,
        gap=gap,
        solve_time_s=raw.wall_s,
        first_solution_s=raw.first_solution_s,
    )


def _unsolved(
    raw: RawSolve, params: SolverParams, buildings: Sequence[Building], hood: Neighbourhood | None
) -> SolveResult:
    """Every building keeps its own schedule, with the conflicts or the reason named."""
    if raw.status == cp_model.INFEASIBLE:
        found = conflicts(buildings, hood, params)
        status = SolveStatus.INFEASIBLE
    else:
        reason = raw.solver.status_name(raw.status)
        found = (f"no plan within {params.time_limit_s:g} s ({reason})",)
        status = SolveStatus.FALLBACK
    return _fallback_result(buildings, status, found, float("-inf"), raw.wall_s)


def over_limit(
    hood: Neighbourhood, worst_kw: float, best_bound_eur: float, solve_time_s: float
) -> SolveResult:
    """No plan found keeps the neighbourhood's limit: each building keeps its own schedule."""
    found = (f"{limit_name(hood)} (best plan still exceeds it by {worst_kw:.2f} kW)",)
    return _fallback_result(
        hood.buildings, SolveStatus.INFEASIBLE, found, best_bound_eur, solve_time_s
    )


def _fallback_result(
    buildings: Sequence[Building],
    status: SolveStatus,
    found: tuple[str, ...],
    best_bound_eur: float,
    solve_time_s: float,
) -> SolveResult:
    """Every building keeps its own schedule, with the conflicts or the reason named."""
    plans = tuple(fallback_plan(b, status, found) for b in buildings)
    return SolveResult(
        status=status,
        plans=plans,
        objective_eur=sum(p.planned.cost_eur for p in plans),
        best_bound_eur=best_bound_eur,
        gap=float("inf"),
        solve_time_s=solve_time_s,
        first_solution_s=None,
        conflicts=found,
    )
