"""The linear relaxation of a plan model, solved with GLOP: a proven bound, the LP point and
the duals of each slot's grid balance read as marginal prices."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat.python import cp_model, cp_model_helper

from polis.optimizer.model import MONEY_SCALE, POWER_SCALE, BuildingVars, PlanModel

# the request, the model constraint of each of its rows, and the objective's scale
_Problem = tuple[linear_solver_pb2.MPModelRequest, Mapping[int, int], float]


@dataclass(frozen=True)
class LpRelaxation:
    """GLOP optimum of a model's linear relaxation: a proven lower bound and the LP point."""

    bound: float  # model units, already lowered by the LP tolerance
    values: tuple[float, ...]
    # dual value of each unenforced linear constraint, by its index in the model
    duals: Mapping[int, float] = field(default_factory=dict)
    # the GLOP request, its rows' model constraints and the objective scale, for re-solves
    problem: _Problem | None = field(default=None, repr=False, compare=False)

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
            _add_implications(lp, constraint)
        elif not enforced and constraint.has_linear():
            rows[len(lp.constraint)] = index
            _add_linear(lp, constraint)
    objective = proto.objective
    for index, coef in zip(objective.vars, objective.coeffs, strict=True):
        lp.variable[index].objective_coefficient = float(coef)
    lp.objective_offset = float(objective.offset)
    scale = objective.scaling_factor or 1.0
    return _solve_lp(request, rows, scale, time_limit_s, narrowed or {})


def _add_implications(
    lp: linear_solver_pb2.MPModelProto, constraint: cp_model_helper.ConstraintProto
) -> None:
    """``a => b1 and b2 ...`` as rows ``b >= a``."""
    enforcement = constraint.enforcement_literal[0]
    for implied in constraint.bool_and.literals:
        terms: dict[int, float] = {}
        constant = _literal_terms(implied, 1, terms)
        constant += _literal_terms(enforcement, -1, terms)
        row = lp.constraint.add()
        row.var_index.extend(terms)
        row.coefficient.extend(terms.values())
        row.lower_bound = -constant
        row.upper_bound = math.inf


def _add_linear(
    lp: linear_solver_pb2.MPModelProto, constraint: cp_model_helper.ConstraintProto
) -> None:
    linear = constraint.linear
    row = lp.constraint.add()
    row.var_index.extend(linear.vars)
    row.coefficient.extend(linear.coeffs)
    domain = linear.domain
    row.lower_bound = _lp_bound(domain[0])
    row.upper_bound = _lp_bound(domain[len(domain) - 1])


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
