"""Neighbourhood planning by decomposition: per-building subproblems, sequential capacity.

1. Every building is solved on its own (the transformer limit relaxed). The sum of their
   proven bounds is a valid lower bound on the coupled problem, since dropping a coupling
   constraint can only lower the optimum.
2. Where the summed flow exceeds the transformer limit, buildings are re-solved one at a time
   with an import cap per slot equal to the capacity the others leave (sequential capacity
   allocation), until the limit holds.

Used for neighbourhoods too large for the monolithic model; the published gap compares the
plan's objective with the relaxation bound of step 1, so it is honest (and conservative).
"""

from __future__ import annotations

import dataclasses
import time

from polis.optimizer.domain import Neighbourhood, Plan, SolveResult, SolveStatus
from polis.optimizer.model import Coordination
from polis.optimizer.solve import SolverParams, proven_gap, solve_building, solve_monolithic


def _overload(hood: Neighbourhood, plans: dict[str, Plan]) -> list[float]:
    slots = hood.buildings[0].horizon.slots
    limit = hood.transformer_kw if hood.transformer_kw is not None else float("inf")
    return [sum(p.grid_kw[t] for p in plans.values()) - limit for t in range(slots)]


def solve_decomposed(hood: Neighbourhood, params: SolverParams) -> SolveResult:
    started = time.perf_counter()
    n = len(hood.buildings)
    each = SolverParams(
        time_limit_s=max(0.2, params.time_limit_s * 0.5 / n),
        relative_gap_limit=params.relative_gap_limit,
        num_workers=params.num_workers,
        seed=params.seed,
    )
    plans: dict[str, Plan] = {}
    objective: dict[str, float] = {}
    bound = 0.0
    first_s: float | None = None
    for building in hood.buildings:
        result = solve_building(building, each)
        plans[building.id] = result.plans[0]
        objective[building.id] = result.objective_eur
        bound += result.best_bound_eur
    if all(v <= 1e-6 for v in _overload(hood, plans)):
        first_s = time.perf_counter() - started
    order = sorted(hood.buildings, key=lambda b: -max(plans[b.id].grid_kw))
    deadline = started + params.time_limit_s
    for building in order:
        over = _overload(hood, plans)
        if all(v <= 1e-6 for v in over) or time.perf_counter() > deadline:
            break
        own = plans[building.id].grid_kw
        cap = [
            own[t] - over[t] if over[t] > 0 else own[t] + max(0.0, -over[t])
            for t in range(len(own))
        ]
        remaining = max(0.2, deadline - time.perf_counter())
        budget = dataclasses.replace(each, time_limit_s=min(each.time_limit_s, remaining))
        result = solve_building(building, budget, Coordination(import_cap_kw=cap))
        if result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            plans[building.id] = result.plans[0]
            objective[building.id] = result.objective_eur
        if first_s is None and all(v <= 1e-6 for v in _overload(hood, plans)):
            first_s = time.perf_counter() - started
    met = all(v <= 1e-6 for v in _overload(hood, plans))
    total = sum(objective.values())
    gap = proven_gap(total * 1e7, bound * 1e7)
    status = (
        SolveStatus.OPTIMAL if met and gap <= params.relative_gap_limit else SolveStatus.FEASIBLE
    )
    conflicts: tuple[str, ...] = ()
    if not met:
        status = SolveStatus.INFEASIBLE
        conflicts = (f"{hood.id}: transformer limit {hood.transformer_kw:g} kW not met",)
    published = tuple(
        dataclasses.replace(plans[b.id], status=status, gap=gap, conflicts=conflicts)
        for b in hood.buildings
    )
    return SolveResult(
        status=status,
        plans=published,
        objective_eur=total,
        best_bound_eur=bound,
        gap=gap,
        solve_time_s=time.perf_counter() - started,
        first_solution_s=first_s,
        conflicts=conflicts,
        method="decomposition",
    )


def solve_neighbourhood(hood: Neighbourhood, params: SolverParams | None = None) -> SolveResult:
    """Monolithic where small enough (or with shared PV), decomposition otherwise."""
    params = params or SolverParams()
    loads = sum(len(b.loads) for b in hood.buildings)
    if loads <= params.monolithic_max_loads or hood.shared_pv_kw is not None:
        return solve_monolithic(hood, params)
    return solve_decomposed(hood, params)
