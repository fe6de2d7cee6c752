"""A plan near the LP optimum: the LP point rounded onto the discrete choices, the rest
re-optimised by the LP and completed by CP-SAT."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from polis.optimizer.completion import Decisions, completed
from polis.optimizer.domain import ThermalZone
from polis.optimizer.load_rounding import lp_rounded_power
from polis.optimizer.model import PlanModel
from polis.optimizer.relaxation import LpRelaxation, marginal_prices

# how far (in power units) a rounded LP schedule's continuous powers may move to fit
ROUNDING_SLACK = 10
# an optimising completion of a rounded LP point: its deterministic work limit (about 20
# times what it takes on a 10-load building) and the least wall time it gets (s)
COMPLETION_WORK = 0.25
COMPLETION_S = 2.0


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
    together, refit = _refitted(pm, lp, time_limit_s)
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
    return _load_by_load(pm, together, deadline, time_limit_s)


def _refitted(
    pm: PlanModel, lp: LpRelaxation, time_limit_s: float
) -> tuple[Decisions, LpRelaxation | None]:
    """The rounded decisions and the LP re-solved with their discrete part fixed.

    Zones with levels are rounded both ways (tracking the LP's temperature, and the cheapest
    level schedule at marginal prices); the way whose refitted LP is lower wins.
    """
    together, _ = _rounded(pm, lp, priced=False)
    # GLOP takes a fraction of a second here; its limit only guards against a pathological LP
    refit = lp.narrowed(_choice_bounds(pm, together), time_limit_s)
    priced, used = _rounded(pm, lp, priced=True)
    if used:
        other = lp.narrowed(_choice_bounds(pm, priced), time_limit_s)
        if other is not None and (refit is None or other.bound < refit.bound):
            together, refit = priced, other
    return together, refit


def _load_by_load(
    pm: PlanModel, rounded: Decisions, deadline: float, time_limit_s: float
) -> cp_model.CpSolver | None:
    """Each load's rounded decisions in turn, the later loads keeping their own schedules; a
    load whose rounding does not fit keeps its own schedule too."""
    own = _own(pm)
    solver = None
    kept: Decisions = []
    for index, decisions in enumerate(_per_load(pm, rounded)):
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


def _own(pm: PlanModel) -> list[Decisions]:
    """Each load's decisions for its own (as-is) schedule, in the model's order of loads."""
    own: list[Decisions] = []
    for bv in pm.buildings.values():
        for load_id, lv in bv.loads.items():
            baseline = next(s for s in bv.baseline.loads if s.load_id == load_id)
            own.append(lv.decide(baseline.power_kw))
    return own


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


def _per_load(pm: PlanModel, decisions: Decisions) -> list[Decisions]:
    """``decisions`` split by load, in the model's order of loads."""
    value = {var.index: v for var, v in decisions}
    return [
        [(d.var, value[d.var.index]) for d in lv.decisions]
        for bv in pm.buildings.values()
        for lv in bv.loads.values()
    ]


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
