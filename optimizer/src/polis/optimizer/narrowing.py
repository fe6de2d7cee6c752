"""The plan model narrowed to the values next to the LP point (relaxation-induced search)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from ortools.sat.python import cp_model

from polis.optimizer.model import LoadVars, PlanModel
from polis.optimizer.relaxation import LpRelaxation


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
    for bv in pm.buildings.values():
        for lv in bv.loads.values():
            _narrow_load(sub, pm, lp, lv, narrowing)
    return sub


def _narrow_load(
    sub: cp_model.CpModel, pm: PlanModel, lp: LpRelaxation, lv: LoadVars, narrowing: Narrowing
) -> None:
    domains = sub.proto.variables
    used = {
        d.slot
        for d in lv.decisions
        if d.var.index not in pm.free_literals and lp.values[d.var.index] > 1e-6
    }
    for d in lv.decisions:
        index = d.var.index
        points = list(domains[index].domain)
        boolean = points == [0, 1]
        if boolean and (narrowing is Narrowing.FREE or index in pm.free_literals):
            continue
        if boolean and narrowing is Narrowing.NEAR:
            if not any(abs(d.slot - u) <= ON_OFF_REACH for u in used):
                sub.add(sub.get_int_var_from_proto_index(index) == 0)
            continue
        if len(points) <= 2 and not boolean:
            continue  # a plain interval: the LP value is already inside it
        lo, hi = _next_to(points, lp.values[index])
        sub.add_linear_constraint(sub.get_int_var_from_proto_index(index), lo, hi)


def _next_to(points: Sequence[int], value: float) -> tuple[int, int]:
    """The domain's points (interval ends or values) just below and just above ``value``."""
    below = [p for p in points if p <= value + 1e-6]
    above = [p for p in points if p >= value - 1e-6]
    lo = max(below) if below else points[0]
    hi = min(above) if above else points[-1]
    return lo, hi
