"""The planning state of the service: instances in, plans and modes out (no transport)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from polis.optimizer.decompose import solve_neighbourhood
from polis.optimizer.domain import Building, Neighbourhood, Plan, SolveResult
from polis.optimizer.solve import SolverParams, solve_building
from polis.optimizer.validator import validate_neighbourhood, validate_plan

# (scope id, horizon start, slots) -> the instance to plan, with fresh forecasts and actuals
InstanceSource = Callable[[str, datetime, int], Building | Neighbourhood]


class UnknownScope(LookupError):
    pass


class Mode:
    DRY_RUN = "dry_run"
    APPLY = "apply"


@dataclass
class Planner:
    source: InstanceSource
    params: SolverParams = field(default_factory=SolverParams)
    plans: dict[str, Plan] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    instances: dict[str, Building] = field(default_factory=dict)

    async def solve(
        self, scope: str, start: datetime, slots: int, params: SolverParams | None = None
    ) -> SolveResult:
        instance = self.source(scope, start, slots)
        chosen = params or self.params
        if isinstance(instance, Building):
            result = await asyncio.to_thread(solve_building, instance, chosen)
            members: tuple[Building, ...] = (instance,)
            report = validate_plan(instance, result.plans[0])
        else:
            result = await asyncio.to_thread(solve_neighbourhood, instance, chosen)
            members = instance.buildings
            report = validate_neighbourhood(instance, result.plans)
        if not report.ok and result.plans and result.plans[0].conflicts == ():
            # never publish a plan the independent validator rejects
            raise RuntimeError("plan failed validation: " + "; ".join(report.violations[:5]))
        for building, plan in zip(members, result.plans, strict=True):
            self.plans[building.id] = plan
            self.instances[building.id] = building
        return result

    def current(self, building: str) -> Plan:
        try:
            return self.plans[building]
        except KeyError:
            raise UnknownScope(building) from None

    def mode(self, building: str) -> str:
        return self.modes.get(building, Mode.DRY_RUN)

    def set_mode(self, building: str, mode: str) -> str:
        self.modes[building] = mode
        return mode
