"""Neighbourhood planning by decomposition: per-building subproblems, capacity allocation.

1. Every building is solved on its own with the transformer limit relaxed (two at a time on
   the available cores). Dropping a coupling constraint can only lower the optimum, so the sum
   of the buildings' proven bounds is a valid lower bound on the neighbourhood's bill.
2. Where the summed flow exceeds the transformer limit, the overload of each slot is shared
   out among the buildings in proportion to the flexible power they plan in that slot, and
   those buildings are re-solved with a per-slot import cap (soft: exceeding it is priced
   prohibitively, so the previous plan always remains a starting point). Repeated until the
   limit holds or time runs out.

The published gap compares the plan's objective with the relaxation bound of step 1, so it is
honest (and conservative). A neighbourhood that still exceeds its limit is reported as
infeasible with the transformer named, and every building keeps its own schedule.
"""

from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor

from polis.optimizer.domain import Neighbourhood, Plan, SolveResult, SolveStatus
from polis.optimizer.model import Coordination
from polis.optimizer.solve import (
    SolverParams,
    fallback_plan,
    proven_gap,
    solve_building,
    solve_monolithic,
)


def _overload(hood: Neighbourhood, plans: dict[str, Plan]) -> list[float]:
    slots = hood.buildings[0].horizon.slots
    limit = hood.transformer_kw if hood.transformer_kw is not None else float("inf")
    return [max(0.0, abs(sum(p.grid_kw[t] for p in plans.values())) - limit) for t in range(slots)]


def _flexible_kw(plan: Plan, t: int) -> float:
    return sum(max(0.0, s.power_kw[t]) for s in plan.loads)


def solve_decomposed(hood: Neighbourhood, params: SolverParams) -> SolveResult:
    started = time.perf_counter()
    deadline = started + params.time_limit_s
    threads = max(1, min(params.workers, os.cpu_count() or 1))
    n = len(hood.buildings)
    rounds = -(-n // threads)
    each = SolverParams(
        time_limit_s=max(0.2, 0.5 * params.time_limit_s / rounds),
        relative_gap_limit=params.relative_gap_limit,
        num_workers=1,
        seed=params.seed,
    )
    results: dict[str, SolveResult] = {}
    with ThreadPoolExecutor(threads) as pool:
        for building, result in zip(
            hood.buildings,
            pool.map(lambda b: solve_building(b, each), hood.buildings),
            strict=True,
        ):
            results[building.id] = result
    plans = {bid: r.plans[0] for bid, r in results.items()}
    bound = sum(r.best_bound_eur for r in results.values())
    first_s = time.perf_counter() - started if not any(_overload(hood, plans)) else None

    by_id = {b.id: b for b in hood.buildings}
    while any(_overload(hood, plans)) and time.perf_counter() < deadline - 0.5:
        over = _overload(hood, plans)
        slots = [t for t, v in enumerate(over) if v > 0]
        caps: dict[str, list[float]] = {}
        for t in slots:
            flex = {bid: _flexible_kw(p, t) for bid, p in plans.items()}
            total = sum(flex.values())
            for bid, amount in flex.items():
                if amount <= 0 or total <= 0:
                    continue
                cap = caps.setdefault(bid, list(plans[bid].grid_kw))
                cap[t] = plans[bid].grid_kw[t] - over[t] * amount / total * 1.05
        if not caps:
            break
        remaining = deadline - time.perf_counter()
        waves = -(-len(caps) // threads)
        budget = dataclasses.replace(
            each, time_limit_s=max(0.1, min(each.time_limit_s, 0.8 * remaining / waves))
        )

        def resolve(
            bid: str, budget: SolverParams = budget, caps: dict[str, list[float]] = caps
        ) -> SolveResult:
            limits = [max(0.0, c) for c in caps[bid]]
            return solve_building(by_id[bid], budget, Coordination(import_cap_kw=limits))

        with ThreadPoolExecutor(threads) as pool:
            for bid, result in zip(caps, pool.map(resolve, list(caps)), strict=True):
                if result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
                    plans[bid] = result.plans[0]
                    results[bid] = result
        if first_s is None and not any(_overload(hood, plans)):
            first_s = time.perf_counter() - started

    met = not any(_overload(hood, plans))
    elapsed = time.perf_counter() - started
    if not met:
        worst = max(_overload(hood, plans))
        found = (
            f"{hood.id}: transformer limit {hood.transformer_kw:g} kW "
            f"(best plan still exceeds it by {worst:.2f} kW)",
        )
        fallback = tuple(fallback_plan(b, SolveStatus.INFEASIBLE, found) for b in hood.buildings)
        return SolveResult(
            status=SolveStatus.INFEASIBLE,
            plans=fallback,
            objective_eur=sum(p.planned.cost_eur for p in fallback),
            best_bound_eur=bound,
            gap=float("inf"),
            solve_time_s=elapsed,
            first_solution_s=None,
            conflicts=found,
            method="decomposition",
        )
    total = sum(r.objective_eur for r in results.values())
    gap = proven_gap(total, bound)
    status = SolveStatus.OPTIMAL if gap <= params.relative_gap_limit else SolveStatus.FEASIBLE
    published = tuple(
        dataclasses.replace(plans[b.id], status=status, gap=gap) for b in hood.buildings
    )
    return SolveResult(
        status=status,
        plans=published,
        objective_eur=total,
        best_bound_eur=bound,
        gap=gap,
        solve_time_s=elapsed,
        first_solution_s=first_s,
        method="decomposition",
    )


def solve_neighbourhood(hood: Neighbourhood, params: SolverParams | None = None) -> SolveResult:
    """Monolithic where small enough (or with shared PV), decomposition otherwise."""
    params = params or SolverParams()
    loads = sum(len(b.loads) for b in hood.buildings)
    if loads <= params.monolithic_max_loads or hood.shared_pv_kw is not None:
        return solve_monolithic(hood, params)
    return solve_decomposed(hood, params)
