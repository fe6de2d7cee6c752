"""Neighbourhood planning by decomposition: a fast repaired first plan, then per-building plans.

1. **First plan.** Every building keeps its own (as-is) schedule. Where the summed flow
   exceeds the transformer limit, ``shave_peaks`` discharges the buildings' batteries in the
   overloaded slots and recharges them where there is headroom, cheapest slots first, so that
   every battery ends with the charge it must keep. This is pure arithmetic on the plans and
   takes milliseconds.
2. **Per-building plans.** Each building is solved on its own (in worker processes, one per
   core) with the transformer limit relaxed: first a quick pass for every building
   (LP bound and rounded LP plan), then CP-SAT searches on the buildings with the largest
   absolute gap first. Dropping a coupling constraint can only lower the optimum, so the sum
   of the buildings' proven bounds is a valid lower bound on the neighbourhood's objective.
3. **Coordination.** Where the summed optimised flow exceeds the limit, the batteries shave it
   first; what remains is shared out among the buildings that plan flexible power in those
   slots, which are re-solved with a per-slot import cap (soft: exceeding it is priced
   prohibitively, so a building always has a plan). Repeated until the limit holds or time
   runs out.

Every candidate is priced by ``costing.plan_objective`` from its power series. The best one
that meets the limit is published, and its gap is measured against the relaxation bound of
step 2, so it is honest (and conservative). If no candidate meets the limit, the status is
``INFEASIBLE`` with the transformer named, and every building keeps its own schedule.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)

from polis.optimizer import costing
from polis.optimizer.cpsat import proven_gap
from polis.optimizer.domain import (
    Battery,
    Building,
    LoadSchedule,
    Neighbourhood,
    Plan,
    SolveResult,
    SolveStatus,
)
from polis.optimizer.extract import baseline_plan
from polis.optimizer.model import Coordination
from polis.optimizer.params import SolverParams
from polis.optimizer.solve import over_limit, solve_building, solve_monolithic

# the repair aims this far below the limit, so float rounding never tips a slot over it
REPAIR_MARGIN_KW = 1e-4
# an import cap that does not bind (kW)
UNCAPPED_KW = 1e5
# the part of the time limit for the per-building plans, and the least each building gets
PER_BUILDING_SHARE = 0.92
MIN_BUILDING_S = 1.0
# the quick pass (LP bound and rounded LP plan) per building, and the least a search gets
QUICK_BUILDING_S = 4.0
MIN_SEARCH_S = 2.0


def flows(hood: Neighbourhood, plans: Mapping[str, Plan]) -> list[float]:
    """The transformer flow per slot (import positive)."""
    slots = hood.buildings[0].horizon.slots
    return [sum(p.grid_kw[t] for p in plans.values()) for t in range(slots)]


def overload(hood: Neighbourhood, plans: Mapping[str, Plan]) -> list[float]:
    """How far the flow of each slot exceeds its limit (kW, 0 where it holds)."""
    out = []
    for t, flow in enumerate(flows(hood, plans)):
        limit = hood.limit_kw(t)
        out.append(0.0 if limit is None else max(0.0, abs(flow) - limit))
    return out


def _meets_limit(hood: Neighbourhood, plans: Mapping[str, Plan]) -> bool:
    return all(v <= 1e-6 for v in overload(hood, plans))


@dataclasses.dataclass
class _Store:
    """One battery's planned power and the charge it implies, kept in step."""

    building: Building
    battery: Battery
    power: list[float]

    def charge(self) -> list[float]:
        """State of charge at the end of each slot (kWh)."""
        bat, dt = self.battery, self.building.horizon.dt_h
        soc, out = bat.initial_kwh, []
        for p in self.power:
            soc += (p * bat.charge_efficiency if p >= 0 else p / bat.discharge_efficiency) * dt
            out.append(soc)
        return out

    def discharge_room(self, t: int) -> float:
        """kW by which the power of slot ``t`` can fall without breaking the lower limit."""
        bat, dt = self.battery, self.building.horizon.dt_h
        margin = min(self.charge()[t:]) - bat.min_kwh
        by_energy = max(0.0, margin) * bat.discharge_efficiency / dt
        return max(0.0, min(self.power[t] + bat.max_discharge_kw, by_energy))

    def charge_room(self, t: int) -> float:
        """kW by which the power of slot ``t`` can rise without breaking the upper limit."""
        bat, dt = self.battery, self.building.horizon.dt_h
        margin = bat.upper_kwh - max(self.charge()[t:])
        # raising the power stores at most 1/discharge_eff per kWh (when it cuts a discharge)
        by_energy = max(0.0, margin) * bat.discharge_efficiency / dt
        return max(0.0, min(bat.max_charge_kw - self.power[t], by_energy))

    def missing_kwh(self) -> float:
        bat = self.battery
        return max(0.0, min(bat.terminal_kwh, bat.upper_kwh) - self.charge()[-1])


def _with_powers(building: Building, plan: Plan, powers: Mapping[str, list[float]]) -> Plan:
    """``plan`` with some loads' power series replaced, grid and figures recomputed."""
    loads = []
    grid = list(plan.grid_kw)
    for schedule in plan.loads:
        new = powers.get(schedule.load_id)
        if new is None:
            loads.append(schedule)
            continue
        for t, (old, p) in enumerate(zip(schedule.power_kw, new, strict=True)):
            grid[t] += p - old
        loads.append(
            LoadSchedule(
                schedule.load_id,
                schedule.kind,
                tuple(new),
                schedule.setpoint_c,
                "shaves the neighbourhood peak",
            )
        )
    figures = costing.figures(grid, building.tariff, building.horizon.dt_h)
    return dataclasses.replace(plan, loads=tuple(loads), grid_kw=tuple(grid), planned=figures)


@dataclasses.dataclass
class _Repair:
    """The transformer flow per slot and the change of each building's grid, kept in step
    with the batteries' power as the repair moves it."""

    flow: list[float]
    extra: dict[str, list[float]]

    def shift(self, store: _Store, t: int, kw: float) -> None:
        """Change the battery's power in slot ``t`` by ``kw`` (negative: discharge)."""
        store.power[t] += kw
        self.flow[t] += kw
        self.extra[store.building.id][t] += kw


def _battery_stores(by_id: Mapping[str, Building], plans: Mapping[str, Plan]) -> list[_Store]:
    """Every battery of the planned buildings with its planned power, in plan and load order."""
    return [
        _Store(by_id[bid], load, list(plan.load(load.id).power_kw))
        for bid, plan in plans.items()
        for load in by_id[bid].loads
        if isinstance(load, Battery)
    ]


def _discharge_slot(stores: list[_Store], t: int, limit: float, repair: _Repair) -> None:
    """Discharge the batteries in turn until slot ``t`` meets ``limit`` with the margin."""
    for store in stores:
        excess = repair.flow[t] - (limit - REPAIR_MARGIN_KW)
        if excess <= 0:
            break
        cut = min(excess, store.discharge_room(t))
        if cut > 0:
            repair.shift(store, t, -cut)


def _discharge(hood: Neighbourhood, stores: list[_Store], repair: _Repair) -> bool:
    """Discharge in every slot over its limit; ``False`` at the first slot that stays over."""
    for t in range(len(repair.flow)):
        limit = hood.limit_kw(t)
        if limit is None:
            continue
        _discharge_slot(stores, t, limit, repair)
        if abs(repair.flow[t]) > limit:
            return False
    return True


def _headroom(
    hood: Neighbourhood, plans: Mapping[str, Plan], building: Building, t: int, repair: _Repair
) -> float:
    """kW the building may add in slot ``t`` under the transformer limit and its own
    contracted peak, both with the margin."""
    limit = hood.limit_kw(t)
    headroom = math.inf if limit is None else limit - REPAIR_MARGIN_KW - repair.flow[t]
    contracted = building.tariff.contracted_peak_kw
    if contracted is not None:
        own = plans[building.id].grid_kw[t] + repair.extra[building.id][t]
        headroom = min(headroom, contracted - REPAIR_MARGIN_KW - own)
    return headroom


def _recharge(
    hood: Neighbourhood, plans: Mapping[str, Plan], store: _Store, repair: _Repair
) -> bool:
    """Recharge the battery in the cheapest slots with headroom until it ends with the charge
    it must keep; ``False`` if it cannot."""
    building, bat = store.building, store.battery
    prices = building.tariff.import_eur_per_kwh
    dt = building.horizon.dt_h
    for t in sorted(range(len(repair.flow)), key=lambda s: prices[s]):
        missing = store.missing_kwh()
        if missing <= 1e-9:
            break
        # below zero power each kW stores charge_efficiency, above it less than 1/eff
        wanted = missing / (bat.charge_efficiency * dt)
        add = min(_headroom(hood, plans, building, t, repair), store.charge_room(t), wanted)
        if add > 0:
            repair.shift(store, t, add)
    return store.missing_kwh() <= 1e-6


def _with_battery_powers(
    by_id: Mapping[str, Building], plans: Mapping[str, Plan], stores: list[_Store]
) -> dict[str, Plan]:
    """The plans with their batteries' repaired power; buildings without one unchanged."""
    changed: dict[str, dict[str, list[float]]] = {}
    for store in stores:
        changed.setdefault(store.building.id, {})[store.battery.id] = store.power
    return {
        bid: _with_powers(by_id[bid], plan, changed[bid]) if bid in changed else plan
        for bid, plan in plans.items()
    }


def shave_peaks(hood: Neighbourhood, plans: Mapping[str, Plan]) -> dict[str, Plan] | None:
    """Repair transformer overloads with the buildings' batteries; ``None`` if that fails.

    Greedy and conservative: in each overloaded slot the batteries discharge (within their
    power and state-of-charge limits) until the flow meets the limit; then each battery is
    recharged in the slots with headroom, cheapest import price first, until it ends with the
    charge it must keep. Recharging never creates a new overload or breaks a contracted peak.
    """
    by_id = {b.id: b for b in hood.buildings}
    stores = _battery_stores(by_id, plans)
    flow = flows(hood, plans)
    repair = _Repair(flow, {bid: [0.0] * len(flow) for bid in plans})
    if not _discharge(hood, stores, repair):
        return None
    for store in stores:
        if not _recharge(hood, plans, store, repair):
            return None
    return _with_battery_powers(by_id, plans, stores)


def _flexible_kw(plan: Plan, t: int) -> float:
    return sum(max(0.0, s.power_kw[t]) for s in plan.loads)


def _objective(hood: Neighbourhood, plans: Mapping[str, Plan]) -> float:
    return sum(costing.plan_objective(b, plans[b.id]) for b in hood.buildings)


def _repaired(hood: Neighbourhood, plans: Mapping[str, Plan]) -> dict[str, Plan] | None:
    if _meets_limit(hood, plans):
        return dict(plans)
    shaved = shave_peaks(hood, plans)
    return shaved if shaved is not None and _meets_limit(hood, shaved) else None


def _building_pool(workers: int) -> Executor:
    """Workers for per-building solves: processes, so that GLOP and the model building in
    Python (both holding the interpreter lock) run in parallel; threads where only one
    worker is wanted. Processes are spawned, never forked: the service runs gRPC threads."""
    if workers <= 1:
        return ThreadPoolExecutor(1)
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _search(
    pool: Executor,
    workers: int,
    by_id: Mapping[str, Building],
    results: dict[str, SolveResult],
    quick: SolverParams,
    gap_limit: float,
    phase_end: float,
) -> None:
    """CP-SAT searches on the buildings above the gap limit, largest absolute gap first.

    Each search gets an even share of the time left until ``phase_end`` as it starts (at
    least ``MIN_SEARCH_S``); once a share would fall below ``MIN_BUILDING_S`` the remaining
    buildings keep their quick plans. A better plan replaces a building's result, and the
    better of the two proven bounds is kept.
    """
    queue = sorted(
        (
            bid
            for bid, r in results.items()
            if proven_gap(r.objective_eur, r.best_bound_eur) > gap_limit
        ),
        key=lambda bid: results[bid].objective_eur - results[bid].best_bound_eur,
        reverse=True,
    )
    searched = dataclasses.replace(quick, search=True)
    running: dict[Future[SolveResult], str] = {}
    while queue or running:
        while queue and len(running) < workers:
            share = (phase_end - time.perf_counter()) * workers / len(queue)
            if share < MIN_BUILDING_S:
                queue.clear()
                break
            bid = queue.pop(0)
            budget = dataclasses.replace(searched, time_limit_s=max(MIN_SEARCH_S, share))
            running[pool.submit(solve_building, by_id[bid], budget)] = bid
        if not running:
            break
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            bid = running.pop(future)
            result = future.result()
            if result.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
                continue
            previous = results[bid]
            bound_eur = max(previous.best_bound_eur, result.best_bound_eur)
            better = result if result.objective_eur < previous.objective_eur else previous
            results[bid] = dataclasses.replace(better, best_bound_eur=bound_eur)


def solve_decomposed(hood: Neighbourhood, params: SolverParams) -> SolveResult:
    started = time.perf_counter()
    deadline = started + params.time_limit_s
    threads = max(1, min(params.workers, os.cpu_count() or 1))
    by_id = {b.id: b for b in hood.buildings}

    # 1. the as-is schedules, repaired by the batteries
    as_is = {b.id: baseline_plan(b, SolveStatus.FEASIBLE) for b in hood.buildings}
    first = _repaired(hood, as_is)
    first_s = time.perf_counter() - started if first is not None else None
    candidates: list[dict[str, Plan]] = [first] if first is not None else []

    # 2. every building on its own, without the limit: first the LP bound and the rounded
    #    LP plan of each, then CP-SAT searches on the buildings with the largest absolute gap
    #    first, the time left shared out as each one starts
    phase_end = started + PER_BUILDING_SHARE * params.time_limit_s
    each = SolverParams(
        time_limit_s=QUICK_BUILDING_S,
        relative_gap_limit=params.relative_gap_limit,
        num_workers=1,
        seed=params.seed,
        search=False,
    )
    with _building_pool(threads) as pool:
        quick = pool.map(solve_building, hood.buildings, itertools.repeat(each))
        results = dict(zip(by_id, quick, strict=True))
        _search(pool, threads, by_id, results, each, params.relative_gap_limit, phase_end)
    bound = sum(r.best_bound_eur for r in results.values())
    plans = {bid: r.plans[0] for bid, r in results.items()}
    optimised = _repaired(hood, plans)
    if optimised is not None:
        candidates.append(optimised)
        if first_s is None:
            first_s = time.perf_counter() - started

    # 3. sequential capacity allocation where the optimised plans still exceed the limit:
    #    the building with the most flexible power in overloaded slots is re-solved with an
    #    import cap of what the others leave, then the next, until the limit holds
    resolve = dataclasses.replace(
        each, num_workers=params.num_workers, time_limit_s=max(1.0, 0.1 * params.time_limit_s)
    )
    tried: set[str] = set()
    while optimised is None and time.perf_counter() < deadline - 0.2:
        over = [t for t, v in enumerate(overload(hood, plans)) if v > 0]
        movable = {
            bid: sum(_flexible_kw(plans[bid], t) for t in over) for bid in plans if bid not in tried
        }
        movable = {bid: kw for bid, kw in movable.items() if kw > 0}
        if not movable:
            break
        bid = max(movable, key=lambda b: movable[b])
        tried.add(bid)
        flow = flows(hood, plans)
        caps = []
        for t, total in enumerate(flow):
            limit = hood.limit_kw(t)
            others = total - plans[bid].grid_kw[t]
            caps.append(UNCAPPED_KW if limit is None else max(0.0, limit - others))
        budget = dataclasses.replace(
            resolve, time_limit_s=min(resolve.time_limit_s, deadline - time.perf_counter())
        )
        result = solve_building(by_id[bid], budget, Coordination(import_cap_kw=caps))
        if result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            plans[bid] = result.plans[0]
        optimised = _repaired(hood, plans)
        if optimised is not None:
            candidates.append(optimised)
            if first_s is None:
                first_s = time.perf_counter() - started

    elapsed = time.perf_counter() - started
    if not candidates:
        result = over_limit(hood, max(overload(hood, plans)), bound, elapsed)
        return dataclasses.replace(result, method="decomposition")
    scored = [(_objective(hood, c), i, c) for i, c in enumerate(candidates)]
    objective, _, chosen = min(scored)
    gap = proven_gap(objective, bound)
    status = SolveStatus.OPTIMAL if gap <= params.relative_gap_limit else SolveStatus.FEASIBLE
    published = tuple(
        dataclasses.replace(chosen[b.id], status=status, gap=gap) for b in hood.buildings
    )
    return SolveResult(
        status=status,
        plans=published,
        objective_eur=objective,
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
