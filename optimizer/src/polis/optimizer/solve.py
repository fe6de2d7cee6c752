"""Solving plan models with CP-SAT: limits, progress, proven gap, conflicts and fallback."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat.python import cp_model

from polis.optimizer import costing
from polis.optimizer.baseline import building_baseline
from polis.optimizer.domain import (
    Building,
    DeferrableLoad,
    EVSession,
    Load,
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
    BatteryVars,
    BuildingVars,
    Coordination,
    DeferrableVars,
    EVVars,
    LoadVars,
    PlanModel,
    TankVars,
    ZoneVars,
)
from polis.optimizer.zone_levels import cheapest_levels


@dataclass(frozen=True)
class SolverParams:
    time_limit_s: float = 10.0
    relative_gap_limit: float = 0.01
    num_workers: int = 0  # 0: all cores
    diagnose_time_limit_s: float = 5.0
    monolithic_max_loads: int = 60
    seed: int = 0
    # False: stop after the LP rounding (a quick plan and the LP bound, no CP-SAT search)
    search: bool = True

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


def completed(
    pm: PlanModel,
    decisions: list[tuple[cp_model.IntVar, int]],
    time_limit_s: float,
    slack: int = 0,
    first_only: bool = True,
    work_limit: float | None = None,
) -> cp_model.CpSolver | None:
    """Primary decisions completed into a full solution of the model.

    Each decision is fixed, or with ``slack`` kept within that many units of its value
    inside the same interval of its domain (levels and on/off choices stay fixed) and hinted
    at its value. CP-SAT then propagates (and, unless ``first_only``, optimises) the rest:
    states, grid exchange, peak, comfort slacks. ``work_limit`` bounds CP-SAT's deterministic
    time as well as its wall time. ``None`` when the decisions break a hard constraint.
    """
    trial = pm.model.clone()
    domains = trial.proto.variables
    for var, value in decisions:
        copy = trial.get_int_var_from_proto_index(var.index)
        if var.index in pm.free_literals and slack:
            continue
        lo = hi = value
        bounds = list(domains[var.index].domain)
        if slack and bounds != [0, 1]:
            for start, end in zip(bounds[::2], bounds[1::2], strict=True):
                if start <= value <= end:
                    lo, hi = max(start, value - slack), min(end, value + slack)
            trial.add_hint(copy, value)
        trial.add_linear_constraint(copy, lo, hi)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.stop_after_first_solution = first_only
    if not first_only:
        solver.parameters.relative_gap_limit = COMPLETION_GAP
    if work_limit is not None:
        # a deterministic limit: the result does not depend on how loaded the machine is
        solver.parameters.max_deterministic_time = work_limit
    status = solver.solve(trial)
    return solver if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None


# how far (in power units) a rounded LP schedule's continuous powers may move to fit
ROUNDING_SLACK = 10
# an optimising completion stops this close to its own bound
COMPLETION_GAP = 0.001
# an optimising completion of a rounded LP point: its deterministic work limit (about 20
# times what it takes on a 10-load building) and the least wall time it gets (s)
COMPLETION_WORK = 0.25
COMPLETION_S = 2.0


def baseline_solution(pm: PlanModel, time_limit_s: float) -> cp_model.CpSolver | None:
    """The building's own decisions completed into a full solution of the model.

    This is the first feasible plan, available in a fraction of a second; ``None`` when the
    as-is schedule breaks a hard constraint.
    """
    return completed(pm, pm.hints, time_limit_s)


def _sigma_delta(values: Sequence[float], snap: Callable[[float], float]) -> list[float]:
    """Round a series onto allowed values, carrying each slot's error into the next."""
    out, carry = [], 0.0
    for value in values:
        chosen = snap(value + carry)
        carry += value - chosen
        out.append(chosen)
    return out


def _best_block(load: DeferrableLoad, on: Sequence[float], slots: int) -> list[float]:
    """One continuous run of the load where the LP uses it most (always feasible)."""
    latest = min(load.latest, slots) - load.run_slots
    if load.run_slots == 0 or latest < load.earliest:
        return [0.0] * slots
    start = max(range(load.earliest, latest + 1), key=lambda s: sum(on[s : s + load.run_slots]))
    return [load.power_kw if start <= t < start + load.run_slots else 0.0 for t in range(slots)]


def _track_levels(zone: ThermalZone, power: Sequence[float], dt_h: float) -> list[float]:
    """Levels that keep the zone at or just above the temperature the LP power gives.

    Rounding the power alone lets the temperature swing below the LP's, which the comfort
    penalty charges; tracking the LP temperature costs a little energy instead.
    """
    a = zone.decay(dt_h)
    levels = sorted({0.0, *(zone.levels_kw or ())})
    target = actual = zone.initial_temp_c
    out = []
    for t, p in enumerate(power):
        drift = (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * zone.gains_kw[t])
        gain = (1 - a) * zone.r_k_per_kw * zone.cop[t] * zone.sign
        target = a * target + drift + gain * p
        free = a * actual + drift
        if zone.sign > 0:
            chosen = next((lv for lv in levels if free + gain * lv >= target - 1e-3), levels[-1])
        else:
            chosen = next((lv for lv in levels if free + gain * lv <= target + 1e-3), levels[-1])
        actual = free + gain * chosen
        out.append(chosen)
    return out


def _track_storage(tank: WaterTank, power: Sequence[float], dt_h: float) -> list[float]:
    """On/off heating that keeps the tank at or just above the energy the LP power gives.

    The LP often keeps a tank exactly at its minimum; rounding the heater's power with the
    error carried forward would dip below it. Heating whenever the tank would otherwise fall
    below the LP's level (and the heat fits under the maximum) stays above it instead.
    """
    gain = tank.efficiency * tank.heater_kw * dt_h
    target = actual = tank.initial_kwh
    out = []
    for t, p in enumerate(power):
        used = tank.draw_kwh[t] + tank.loss_kw * dt_h
        target += tank.efficiency * p * dt_h - used
        idle = actual - used
        below = idle < target - 1e-6 or idle < tank.min_kwh
        on = below and (idle + gain <= tank.max_kwh + 1e-9 or idle < tank.min_kwh)
        actual = idle + gain if on else idle
        out.append(tank.heater_kw if on else 0.0)
    return out


def lp_rounded_power(
    load: Load,
    lv: LoadVars,
    lp: LpRelaxation,
    slots: int,
    dt_h: float,
    marginal: MarginalPrices | None = None,
) -> list[float]:
    """A schedule (kW per slot) of one load that follows its LP power as closely as allowed.

    With ``marginal`` prices, a zone with levels takes the cheapest level schedule at those
    prices instead of tracking the LP's temperature.
    """
    power = lp_power(lv, lp.values, slots)
    if isinstance(load, DeferrableLoad):
        return _best_block(load, power, slots)
    if isinstance(load, WaterTank) and load.on_off:
        return _track_storage(load, [p * load.heater_kw for p in power], dt_h)
    if isinstance(load, ThermalZone) and load.levels_kw is not None:
        if marginal is not None:
            return cheapest_levels(load, marginal.eur_per_kwh, dt_h, marginal.comfort_weight)
        return _track_levels(load, power, dt_h)
    if isinstance(load, EVSession) and load.min_kw > 0:

        def semi(v: float) -> float:
            if v < load.min_kw / 2:
                return 0.0
            return min(max(v, load.min_kw), load.max_kw)

        rounded = _sigma_delta(power, semi)
        _top_up(rounded, sum(power) - sum(rounded), load, power)
        return rounded
    return power


def lp_power(lv: LoadVars, values: Sequence[float], slots: int) -> list[float]:
    """One load's power (kW) in each slot at the LP point; an on/off load's on fraction."""
    h = lv.handles
    power = [0.0] * slots
    if isinstance(h, DeferrableVars):
        for t, on in h.on.items():
            power[t] = values[on.index]
    elif isinstance(h, TankVars):
        scale = 1 if h.on_off else POWER_SCALE
        for t, heater in enumerate(h.heater):
            power[t] = values[heater.index] / scale
    elif isinstance(h, BatteryVars):
        for t, (c, d) in enumerate(zip(h.charge, h.discharge, strict=True)):
            power[t] = values[c.index] / POWER_SCALE - values[d.index] / POWER_SCALE
    elif isinstance(h, EVVars):
        for t, p in h.power.items():
            power[t] = values[p.index] / POWER_SCALE
    else:
        for t, p in enumerate(h.power):
            power[t] = values[p.index] / POWER_SCALE
    return power


def _top_up(rounded: list[float], deficit: float, ev: EVSession, lp: Sequence[float]) -> None:
    """Give back the energy rounding left out: raise running slots, then start new ones."""
    for t in sorted(range(len(rounded)), key=lambda s: -lp[s]):
        if deficit <= 1e-9:
            return
        if not ev.arrival <= t < ev.departure:
            continue
        if rounded[t] > 0:
            add = min(deficit, ev.max_kw - rounded[t])
        else:
            add = min(max(deficit, ev.min_kw), ev.max_kw)
        rounded[t] += add
        deficit -= add


def _choice_bounds(
    pm: PlanModel, decisions: Sequence[tuple[cp_model.IntVar, int]]
) -> dict[int, tuple[int, int]]:
    """The discrete part of rounded decisions, as variable bounds for the LP.

    An on/off decision or a level is fixed; a semi-continuous power keeps the interval of
    its domain that the rounded value lies in (off, or between its minimum and maximum);
    continuous powers and free literals are left to the LP.
    """
    domains = pm.model.proto.variables
    out: dict[int, tuple[int, int]] = {}
    for var, value in decisions:
        if var.index in pm.free_literals:
            continue
        bounds = list(domains[var.index].domain)
        if bounds == [0, 1]:
            out[var.index] = (value, value)
            continue
        if len(bounds) == 2:
            continue
        for start, end in zip(bounds[::2], bounds[1::2], strict=True):
            if start <= value <= end:
                out[var.index] = (start, end)
    return out


def _in_domain(pm: PlanModel, var: cp_model.IntVar, value: float) -> int:
    """``value`` rounded to the nearest value of ``var``'s domain."""
    bounds = list(pm.model.proto.variables[var.index].domain)
    target = round(value)
    candidates = [
        min(max(target, int(lo)), int(hi)) for lo, hi in zip(bounds[::2], bounds[1::2], strict=True)
    ]
    return min(candidates, key=lambda v: abs(v - target))


@dataclass(frozen=True)
class MarginalPrices:
    """What one more kWh costs a building in each slot, by the LP's duals (EUR/kWh)."""

    eur_per_kwh: tuple[float, ...]
    comfort_weight: float


def marginal_prices(pm: PlanModel, lp: LpRelaxation, bv: BuildingVars) -> MarginalPrices:
    """The dual value of each slot's grid balance, as EUR per kWh of flexible demand.

    A load's power enters the balance with the opposite sign of the import, so one more unit
    of it costs what the dual charges for one more unit of import: the import price where
    the building imports, the feed-in price where it exports, and in between what the
    battery, the demand charge or the transformer make of it.
    """
    proto = pm.model.proto
    dt = bv.building.horizon.dt_h
    prices = []
    for t, index in enumerate(bv.balance):
        linear = proto.constraints[index].linear
        sign = linear.coeffs[list(linear.vars).index(bv.imports[t].index)]
        prices.append(sign * lp.duals.get(index, 0.0) * POWER_SCALE / (dt * MONEY_SCALE))
    return MarginalPrices(tuple(prices), bv.building.weights.comfort)


Decisions = list[tuple[cp_model.IntVar, int]]


def _rounded(pm: PlanModel, lp: LpRelaxation, priced: bool) -> tuple[Decisions, bool]:
    """Every load's rounded decisions; whether any zone took its level schedule by price."""
    out: Decisions = []
    used = False
    for bv in pm.buildings.values():
        slots, dt_h = bv.building.horizon.slots, bv.building.horizon.dt_h
        marginal = marginal_prices(pm, lp, bv) if priced and lp.duals else None
        for load in bv.building.loads:
            lv = bv.loads.get(load.id)
            if lv is None:
                continue
            out += lv.decide(lp_rounded_power(load, lv, lp, slots, dt_h, marginal))
            used |= marginal is not None and isinstance(load, ThermalZone) and bool(load.levels_kw)
    return out, used


def lp_rounded_solution(
    pm: PlanModel, lp: LpRelaxation, time_limit_s: float
) -> cp_model.CpSolver | None:
    """The LP point rounded onto the discrete choices, the rest re-optimised, then completed.

    Deferrable loads take the single run where the LP uses them most; zones with levels take
    the cheapest level schedule at the LP's marginal prices or track the LP's temperature,
    whichever the LP below prefers; on/off heaters and EV minimum powers are rounded with
    the error carried to the next slot. With those choices fixed, the LP is solved again, so
    the continuous powers (batteries, tanks, continuous heat pumps, EV charging rates) adapt
    to them; CP-SAT then completes that point, each continuous power within
    ``ROUNDING_SLACK`` of its LP value. If that fails, the rounded LP point itself is
    completed, and then loads are taken one at a time, a load that does not fit keeping its
    own schedule.
    """
    deadline = time.perf_counter() + time_limit_s
    own: list[Decisions] = []
    for bv in pm.buildings.values():
        for load in bv.building.loads:
            lv = bv.loads.get(load.id)
            if lv is not None:
                baseline = next(s for s in bv.baseline.loads if s.load_id == load.id)
                own.append(lv.decide(baseline.power_kw))
    together, _ = _rounded(pm, lp, priced=False)
    # GLOP takes a fraction of a second here; its limit only guards against the pathological
    refit = lp.narrowed(_choice_bounds(pm, together), time_limit_s)
    priced, used = _rounded(pm, lp, priced=True)
    if used:
        other = lp.narrowed(_choice_bounds(pm, priced), time_limit_s)
        if other is not None and (refit is None or other.bound < refit.bound):
            together, refit = priced, other
    if refit is not None:
        point = [(var, _in_domain(pm, var, refit.values[var.index])) for var, _ in together]
        remaining = deadline - time.perf_counter()
        solver = completed(
            pm,
            point,
            max(COMPLETION_S, 0.7 * remaining),
            ROUNDING_SLACK,
            first_only=False,
            work_limit=COMPLETION_WORK,
        )
        if solver is not None:
            return solver
    remaining = deadline - time.perf_counter()
    solver = completed(pm, together, 0.6 * remaining, slack=ROUNDING_SLACK)
    if solver is not None:
        return solver
    rounded = _per_load(pm, together)
    kept: Decisions = []
    for index, decisions in enumerate(rounded):
        rest = [d for later in own[index + 1 :] for d in later]
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            break
        trial = completed(
            pm, kept + decisions + rest, min(remaining / 2, 0.1 * time_limit_s), ROUNDING_SLACK
        )
        kept += decisions if trial is not None else own[index]
        solver = trial if trial is not None else solver
    return solver


def _per_load(pm: PlanModel, decisions: Decisions) -> list[Decisions]:
    """``decisions`` split by load, in the model's order of loads."""
    value = {var.index: v for var, v in decisions}
    return [
        [(d.var, value[d.var.index]) for d in lv.decisions]
        for bv in pm.buildings.values()
        for lv in bv.loads.values()
    ]


@dataclass(frozen=True)
class LpRelaxation:
    """GLOP optimum of a model's linear relaxation: a proven lower bound and the LP point."""

    bound: float  # model units, already lowered by the LP tolerance
    values: tuple[float, ...]
    # dual value of each unenforced linear constraint, by its index in the model
    duals: Mapping[int, float] = field(default_factory=dict)
    # the GLOP request, its rows' model constraints and the objective scale, for re-solves
    problem: tuple[linear_solver_pb2.MPModelRequest, Mapping[int, int], float] | None = field(
        default=None, repr=False, compare=False
    )

    def narrowed(
        self, bounds: Mapping[int, tuple[int, int]], time_limit_s: float
    ) -> LpRelaxation | None:
        """The same LP with some variables' bounds narrowed (a point, not a bound)."""
        if self.problem is None:
            raise ValueError("problem: this relaxation keeps no LP to solve again")
        request, rows, scale = self.problem
        return _solve_lp(request, rows, scale, time_limit_s, bounds)


_INT_INFINITY = 2**62


def _lp_bound(value: int) -> float:
    if abs(value) < _INT_INFINITY:
        return float(value)
    return math.inf if value > 0 else -math.inf


def _literal_terms(literal: int, sign: int, terms: dict[int, float]) -> float:
    """Add ``sign * literal`` to ``terms``; returns the constant a negated literal leaves."""
    if literal >= 0:
        terms[literal] = terms.get(literal, 0.0) + sign
        return 0.0
    terms[-literal - 1] = terms.get(-literal - 1, 0.0) - sign
    return float(sign)


def lp_relaxation(
    model: cp_model.CpModel,
    time_limit_s: float = 10.0,
    narrowed: Mapping[int, tuple[int, int]] | None = None,
) -> LpRelaxation | None:
    """Solve the linear relaxation of a CP-SAT model with GLOP.

    Integer domains become their hull, linear rows are kept, implications ``a => b`` become
    ``b >= a`` and every other enforced constraint is dropped. Each step only removes
    restrictions, so the LP optimum is a valid lower bound on the model's optimum.

    ``narrowed`` (variable index to bounds) restricts some variables further; the optimum is
    then a bound only for the model restricted the same way (see ``LpRelaxation.narrowed``).
    """
    proto = model.proto
    request = linear_solver_pb2.MPModelRequest()
    request.solver_type = linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING
    lp = request.model
    for var in proto.variables:
        domain = var.domain
        column = lp.variable.add()
        column.lower_bound = _lp_bound(domain[0])
        column.upper_bound = _lp_bound(domain[len(domain) - 1])
    rows: dict[int, int] = {}  # LP row -> model constraint
    for index, constraint in enumerate(proto.constraints):
        enforced = len(constraint.enforcement_literal)
        if enforced == 1 and constraint.has_bool_and():
            for implied in constraint.bool_and.literals:
                terms: dict[int, float] = {}
                constant = _literal_terms(implied, 1, terms)
                constant += _literal_terms(constraint.enforcement_literal[0], -1, terms)
                row = lp.constraint.add()
                row.var_index.extend(terms)
                row.coefficient.extend(terms.values())
                row.lower_bound = -constant
                row.upper_bound = math.inf
        elif not enforced and constraint.has_linear():
            linear = constraint.linear
            rows[len(lp.constraint)] = index
            row = lp.constraint.add()
            row.var_index.extend(linear.vars)
            row.coefficient.extend(linear.coeffs)
            domain = linear.domain
            row.lower_bound = _lp_bound(domain[0])
            row.upper_bound = _lp_bound(domain[len(domain) - 1])
    objective = proto.objective
    for index, coef in zip(objective.vars, objective.coeffs, strict=True):
        lp.variable[index].objective_coefficient = float(coef)
    lp.objective_offset = float(objective.offset)
    scale = objective.scaling_factor or 1.0
    return _solve_lp(request, rows, scale, time_limit_s, narrowed or {})


def _solve_lp(
    request: linear_solver_pb2.MPModelRequest,
    rows: Mapping[int, int],
    scale: float,
    time_limit_s: float,
    narrowed: Mapping[int, tuple[int, int]],
) -> LpRelaxation | None:
    """GLOP on ``request`` with some variables' bounds narrowed (the request is not changed)."""
    if narrowed:
        copy = linear_solver_pb2.MPModelRequest()
        copy.CopyFrom(request)
        for index, (lo, hi) in narrowed.items():
            column = copy.model.variable[index]
            column.lower_bound = _lp_bound(lo)
            column.upper_bound = _lp_bound(hi)
    else:
        copy = request
    copy.solver_time_limit_seconds = max(0.05, time_limit_s)
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(copy, response)
    if response.status != linear_solver_pb2.MPSOLVER_OPTIMAL:
        return None
    value = response.objective_value
    # GLOP's optimum is exact up to its feasibility tolerance; stay on the safe side
    bound = (value - 1e-6 * abs(value) - 1.0) * scale
    duals = {rows[row]: value for row, value in enumerate(response.dual_value) if row in rows}
    return LpRelaxation(bound, tuple(response.variable_value), duals, (request, rows, scale))


class Narrowing(StrEnum):
    """How far on/off decisions are narrowed to the LP point (see ``restricted_to_lp``)."""

    EXACT = "exact"  # on/off decisions too: 0 or 1 where the LP says so
    NEAR = "near"  # on/off decisions off only far (ON_OFF_REACH slots) from any LP use
    FREE = "free"  # on/off decisions left free


# slots around the LP's use of an on/off load where the narrowed model may still run it
ON_OFF_REACH = 4


def restricted_to_lp(pm: PlanModel, lp: LpRelaxation, narrowing: Narrowing) -> cp_model.CpModel:
    """A copy of the model whose decisions may only take the values next to the LP point.

    Each primary decision keeps the two domain values around its LP value (a level, a
    semi-continuous range, 0 or 1). On/off decisions of deferrable loads and water heaters
    follow ``narrowing``: their LP values ignore run-length rules, so narrowing them exactly
    can leave nothing feasible. The small model this leaves is solved in a fraction of the
    full search time and gives a plan near the LP optimum (relaxation-induced search).
    """
    sub = pm.model.clone()
    domains = sub.proto.variables
    for bv in pm.buildings.values():
        for lv in bv.loads.values():
            used = {
                d.slot
                for d in lv.decisions
                if d.var.index not in pm.free_literals and lp.values[d.var.index] > 1e-6
            }
            for d in lv.decisions:
                var, t = d.var, d.slot
                points = list(domains[var.index].domain)
                boolean = points == [0, 1]
                if boolean and (narrowing is Narrowing.FREE or var.index in pm.free_literals):
                    continue
                if boolean and narrowing is Narrowing.NEAR:
                    if not any(abs(t - u) <= ON_OFF_REACH for u in used):
                        sub.add(sub.get_int_var_from_proto_index(var.index) == 0)
                    continue
                if len(points) <= 2 and not boolean:
                    continue  # a plain interval: the LP value is already inside it
                value = lp.values[var.index]
                below = [p for p in points if p <= value + 1e-6]
                above = [p for p in points if p >= value - 1e-6]
                lo = max(below) if below else points[0]
                hi = min(above) if above else points[-1]
                copy = sub.get_int_var_from_proto_index(var.index)
                sub.add_linear_constraint(copy, lo, hi)
    return sub


def _solver(params: SolverParams, time_limit_s: float, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.relative_gap_limit = params.relative_gap_limit
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = params.seed
    if workers == 2:
        # On two cores the one full-problem worker is the LP-guided search; its max_lp
        # variant (full linearisation) finds markedly better plans on these models. A single
        # worker does better with the default linearisation.
        solver.parameters.subsolvers.append("max_lp")
        solver.parameters.linearization_level = 2
    return solver


def _hint(pm: PlanModel, solver: cp_model.CpSolver) -> None:
    """Hint every variable of the model with its value in ``solver``'s solution."""
    pm.model.clear_hints()  # type: ignore[no-untyped-call]
    for index in range(len(pm.model.proto.variables)):
        var = pm.model.get_int_var_from_proto_index(index)
        pm.model.add_hint(var, solver.value(var))


def run(pm: PlanModel, params: SolverParams, time_limit_s: float | None = None) -> RawSolve:
    """CP-SAT in three phases, each starting from the best plan so far.

    1. The completed baseline: a first plan in a fraction of a second.
    2. The LP relaxation (GLOP) for a proven bound, then CP-SAT on the model with every
       decision narrowed to the values next to the LP point: a plan near the LP optimum.
    3. The full CP-SAT search, hinted with that plan and cut off at its objective, until the
       gap limit or the time limit. The bound is the better of the LP's and CP-SAT's.
    """
    pm.finish()
    started = time.perf_counter()
    limit = time_limit_s or params.time_limit_s
    deadline = started + limit
    workers = params.workers
    first = baseline_solution(pm, min(max(0.5, limit / 4), 10.0))
    first_s = time.perf_counter() - started if first is not None else None
    best: cp_model.CpSolver | None = first
    best_value = first.objective_value if first is not None else math.inf
    lp = lp_relaxation(pm.model, max(0.1, deadline - time.perf_counter()))
    lp_bound = lp.bound if lp is not None else -math.inf

    def better(candidate: cp_model.CpSolver | None) -> None:
        nonlocal best, best_value, first_s
        if candidate is not None and candidate.objective_value < best_value:
            best, best_value = candidate, candidate.objective_value
            if first_s is None:
                first_s = time.perf_counter() - started

    if lp is not None:
        better(lp_rounded_solution(pm, lp, min(2.0, 0.5 * limit)))
    if best is not None:
        # a cut-off, but no hint: anchoring CP-SAT on a plan slows its LP-guided search
        pm.model.add(pm.objective <= round(best_value))
    searching = params.search and proven_gap(best_value, lp_bound) > params.relative_gap_limit
    if lp is not None and searching:
        for narrowing in Narrowing:
            remaining = deadline - time.perf_counter()
            if remaining <= 0.05:
                break
            sub_solver = _solver(params, 0.9 * remaining, workers)
            status = sub_solver.solve(restricted_to_lp(pm, lp, narrowing))
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                better(sub_solver)
                break
            if status != cp_model.INFEASIBLE:
                break
        if best is not None:
            pm.model.add(pm.objective <= round(best_value))
            _hint(pm, best)
    cp_bound = -math.inf
    status = cp_model.UNKNOWN
    solver = _solver(params, deadline - time.perf_counter(), workers)
    searching = params.search and proven_gap(best_value, lp_bound) > params.relative_gap_limit
    if best is None or searching:
        progress = _Progress()
        progress.started = started
        status = solver.solve(pm.model, progress)
        if first_s is None:
            first_s = progress.first_s
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best, best_value = solver, solver.objective_value
            cp_bound = solver.best_objective_bound
        elif status == cp_model.INFEASIBLE and best is not None:
            cp_bound = best_value  # the cut-off excluded only plans no better than the best
        elif status == cp_model.UNKNOWN:
            cp_bound = solver.best_objective_bound
    wall = time.perf_counter() - started
    if best is None:
        return RawSolve(status, solver, first_s, wall)
    bound = min(best_value, max(lp_bound, cp_bound))
    return RawSolve(cp_model.FEASIBLE, best, first_s, wall, best_value, bound)


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
            if isinstance(lv.handles, ZoneVars):
                setpoints = tuple(solver.value(v) / TEMP_SCALE for v in lv.handles.temps)
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


def limit_name(hood: Neighbourhood) -> str:
    """How a conflict names the neighbourhood's flow limit."""
    if hood.transformer_kw is not None:
        return f"{hood.id}: transformer limit {hood.transformer_kw:g} kW"
    return f"{hood.id}: requested flow limit"


def solve_monolithic(hood: Neighbourhood, params: SolverParams | None = None) -> SolveResult:
    """One model for the whole neighbourhood, transformer overload priced out (see model)."""
    params = params or SolverParams()
    pm = PlanModel(soft_transformer=True)
    pm.add_neighbourhood(hood)
    raw = run(pm, params)
    if raw.has_solution and pm.overload:
        worst = max(raw.solver.value(v) for v in pm.overload) / POWER_SCALE
        if worst > 0:
            found = (f"{limit_name(hood)} (best plan still exceeds it by {worst:.2f} kW)",)
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
