"""The CP-SAT driver: a first plan, the LP bound, a narrowed search near the LP point, then
the full search, each phase starting from the best plan so far."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from polis.optimizer.completion import baseline_solution
from polis.optimizer.model import PlanModel
from polis.optimizer.narrowing import Narrowing, restricted_to_lp
from polis.optimizer.params import SolverParams
from polis.optimizer.relaxation import LpRelaxation, lp_relaxation
from polis.optimizer.rounding import lp_rounded_solution

_FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records when the first feasible plan appeared."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started
        self.first_s: float | None = None

    def on_solution_callback(self) -> None:
        if self.first_s is None:
            self.first_s = time.perf_counter() - self.started


@dataclass(frozen=True)
class RawSolve:
    status: cp_model.CpSolverStatus
    solver: cp_model.CpSolver
    first_solution_s: float | None
    wall_s: float
    objective: float = 0.0
    bound: float = 0.0

    @property
    def has_solution(self) -> bool:
        return self.status in _FOUND


@dataclass
class _Best:
    """The best plan so far, and when the first plan appeared (s after ``started``)."""

    started: float
    solver: cp_model.CpSolver | None = None
    value: float = math.inf
    first_s: float | None = None

    def offer(self, candidate: cp_model.CpSolver | None) -> None:
        if candidate is not None and candidate.objective_value < self.value:
            self.solver, self.value = candidate, candidate.objective_value
            if self.first_s is None:
                self.first_s = time.perf_counter() - self.started


def proven_gap(objective: float, bound: float) -> float:
    """Relative gap as CP-SAT defines it: |objective - bound| / max(1, |objective|)."""
    return abs(objective - bound) / max(1.0, abs(objective))


def run(pm: PlanModel, params: SolverParams, time_limit_s: float | None = None) -> RawSolve:
    """CP-SAT in three phases, each starting from the best plan so far.

    1. The completed baseline: a first plan in a fraction of a second.
    2. The LP relaxation (GLOP) for a proven bound, then CP-SAT on the model with every
       decision narrowed to the values next to the LP point: a plan near the LP optimum.
    3. The full CP-SAT search, hinted with that plan and cut off at its objective, until the
       gap limit or the time limit. The bound is the better of the LP's and CP-SAT's.
    """
    pm.finish()
    best = _Best(time.perf_counter())
    limit = time_limit_s or params.time_limit_s
    deadline = best.started + limit
    best.offer(baseline_solution(pm, min(max(0.5, limit / 4), 10.0)))
    lp = lp_relaxation(pm.model, max(0.1, deadline - time.perf_counter()))
    lp_bound = lp.bound if lp is not None else -math.inf
    if lp is not None:
        best.offer(lp_rounded_solution(pm, lp, min(2.0, 0.5 * limit)))
    _cut_off(pm, best)
    if lp is not None and _searching(params, best, lp_bound):
        _narrowed_search(pm, lp, params, best, deadline)
        if best.solver is not None:
            _cut_off(pm, best)
            _hint(pm, best.solver)
    solver = _solver(params, deadline - time.perf_counter(), params.workers)
    status, cp_bound = cp_model.UNKNOWN, -math.inf
    if best.solver is None or _searching(params, best, lp_bound):
        status, cp_bound = _full_search(pm, solver, best)
    wall = time.perf_counter() - best.started
    if best.solver is None:
        return RawSolve(status, solver, best.first_s, wall)
    bound = min(best.value, max(lp_bound, cp_bound))
    return RawSolve(cp_model.FEASIBLE, best.solver, best.first_s, wall, best.value, bound)


def _searching(params: SolverParams, best: _Best, lp_bound: float) -> bool:
    """Whether a CP-SAT search is wanted: allowed, and the gap still above its limit."""
    return params.search and proven_gap(best.value, lp_bound) > params.relative_gap_limit


def _cut_off(pm: PlanModel, best: _Best) -> None:
    """Only plans no worse than the best so far are searched for.

    A cut-off, but no hint: anchoring CP-SAT on a plan slows its LP-guided search (the
    hint comes only with the narrowed search's plan).
    """
    if best.solver is not None:
        pm.model.add(pm.objective <= round(best.value))


def _narrowed_search(
    pm: PlanModel, lp: LpRelaxation, params: SolverParams, best: _Best, deadline: float
) -> None:
    """CP-SAT on the model narrowed to the LP point, less narrowed while that is infeasible."""
    for narrowing in Narrowing:
        remaining = deadline - time.perf_counter()
        if remaining <= 0.05:
            return
        sub_solver = _solver(params, 0.9 * remaining, params.workers)
        status = sub_solver.solve(restricted_to_lp(pm, lp, narrowing))
        if status in _FOUND:
            best.offer(sub_solver)
            return
        if status != cp_model.INFEASIBLE:
            return


def _full_search(
    pm: PlanModel, solver: cp_model.CpSolver, best: _Best
) -> tuple[cp_model.CpSolverStatus, float]:
    """The full CP-SAT search; its status and the bound it proves (-inf if none)."""
    progress = _Progress(best.started)
    status = solver.solve(pm.model, progress)
    if best.first_s is None:
        best.first_s = progress.first_s
    if status in _FOUND:
        best.solver, best.value = solver, solver.objective_value
        return status, solver.best_objective_bound
    if status == cp_model.INFEASIBLE and best.solver is not None:
        return status, best.value  # the cut-off excluded only plans no better than the best
    if status == cp_model.UNKNOWN:
        return status, solver.best_objective_bound
    return status, -math.inf


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
