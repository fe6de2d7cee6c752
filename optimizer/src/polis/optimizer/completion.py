"""Primary decisions completed by CP-SAT into a full solution of a plan model."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from polis.optimizer.model import PlanModel

# values of primary decisions (variable, value in model units)
Decisions = list[tuple[cp_model.IntVar, int]]

# an optimising completion stops this close to its own bound
COMPLETION_GAP = 0.001


def completed(
    pm: PlanModel,
    decisions: Decisions,
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
        if var.index in pm.free_literals and slack:
            continue
        copy = trial.get_int_var_from_proto_index(var.index)
        lo = hi = value
        bounds = list(domains[var.index].domain)
        if slack and bounds != [0, 1]:
            lo, hi = _within(bounds, value, slack)
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


def _within(bounds: Sequence[int], value: int, slack: int) -> tuple[int, int]:
    """``value`` give or take ``slack``, inside the interval of the domain that holds it."""
    lo = hi = value
    for start, end in zip(bounds[::2], bounds[1::2], strict=True):
        if start <= value <= end:
            lo, hi = max(start, value - slack), min(end, value + slack)
    return lo, hi


def baseline_solution(pm: PlanModel, time_limit_s: float) -> cp_model.CpSolver | None:
    """The building's own decisions completed into a full solution of the model.

    This is the first feasible plan, available in a fraction of a second; ``None`` when the
    as-is schedule breaks a hard constraint.
    """
    return completed(pm, pm.hints, time_limit_s)
