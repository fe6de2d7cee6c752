"""Which hard constraint groups make a plan model infeasible, named for the operator."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from polis.optimizer.domain import Building, Neighbourhood
from polis.optimizer.model import PlanModel
from polis.optimizer.params import SolverParams


def limit_name(hood: Neighbourhood) -> str:
    """How a conflict names the neighbourhood's flow limit."""
    if hood.transformer_kw is not None:
        return f"{hood.id}: transformer limit {hood.transformer_kw:g} kW"
    return f"{hood.id}: requested flow limit"


def conflicts(
    buildings: Sequence[Building], hood: Neighbourhood | None, params: SolverParams
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
    diagnosis = _Diagnosis(pm, time.perf_counter() + params.diagnose_time_limit_s)
    if not diagnosis.infeasible(list(pm.groups)):
        return ("infeasible: the conflict analysis did not finish",)
    if not diagnosis.core:
        return ("the physical limits of the loads themselves conflict",)
    needed = list(diagnosis.core)
    for literal in list(needed):
        if time.perf_counter() >= diagnosis.deadline:
            break
        trial = [i for i in needed if i != literal]
        if trial and diagnosis.infeasible(trial):
            needed = [i for i in trial if i in diagnosis.core] or trial
    return tuple(sorted({pm.groups[i] for i in needed}))


class _Diagnosis:
    """Solves the diagnosis model under chosen assumptions, keeping the last core found."""

    def __init__(self, pm: PlanModel, deadline: float) -> None:
        self.pm = pm
        self.deadline = deadline
        self.core: list[int] = []  # assumption literals of the last infeasible solve

    def infeasible(self, literals: list[int]) -> bool | None:
        """Whether the groups of ``literals`` conflict; ``None`` when the solve did not tell."""
        model = self.pm.model
        model.clear_assumptions()
        model.add_assumptions([model.get_bool_var_from_proto_index(i) for i in literals])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = max(0.05, self.deadline - time.perf_counter())
        status = solver.solve(model)
        if status == cp_model.INFEASIBLE:
            groups = self.pm.groups
            self.core = [
                i for i in solver.sufficient_assumptions_for_infeasibility() if i in groups
            ]
            return True
        return False if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
