"""The planning state of the service: instances in, plans and modes out (no transport)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from polis.optimizer.decompose import solve_neighbourhood
from polis.optimizer.domain import Building, Neighbourhood, Plan, SolveResult, SolveStatus
from polis.optimizer.solve import SolverParams, solve_building
from polis.optimizer.validator import validate_neighbourhood, validate_plan

# (scope id, horizon start, slots) -> the instance to plan, with fresh forecasts and actuals
InstanceSource = Callable[[str, datetime, int], Building | Neighbourhood]


class UnknownScope(LookupError):
    pass


class FlexibilityOutcome(StrEnum):
    ACCEPTED = "accepted"
    PARTIAL = "partial"
    REJECTED = "rejected"


@dataclass(frozen=True)
class FlexibilityAnswer:
    outcome: FlexibilityOutcome
    achieved_peak_kw: float  # the planned neighbourhood peak in the window now in force
    before_peak_kw: float  # the planned peak in the window before the request
    message: str

    @property
    def reduction_kw(self) -> float:
        return self.before_peak_kw - self.achieved_peak_kw


# bisection steps towards the requested limit when it cannot be met in full
PARTIAL_STEPS = 3
PEAK_TOL_KW = 0.05


def window_slots(plan: Plan, start: datetime, end: datetime) -> list[int]:
    horizon = plan.horizon
    return [t for t in range(horizon.slots) if start <= horizon.slot_start(t) < end]


def window_peak(plans: Sequence[Plan], slots: Sequence[int]) -> float:
    """The largest summed grid import of ``plans`` over ``slots`` (0 for an empty window)."""
    return max((sum(p.grid_kw[t] for p in plans) for t in slots), default=0.0)


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
        return await self._solve(instance, params or self.params)

    async def _solve(
        self, instance: Building | Neighbourhood, chosen: SolverParams, publish: bool = True
    ) -> SolveResult:
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
        if publish:
            self._publish(members, result.plans)
        return result

    def _publish(self, members: Sequence[Building], plans: Sequence[Plan]) -> None:
        for building, plan in zip(members, plans, strict=True):
            self.plans[building.id] = plan
            self.instances[building.id] = building

    async def request_flexibility(
        self,
        neighbourhood: str,
        start: datetime,
        end: datetime,
        peak_limit_kw: float,
        params: SolverParams | None = None,
    ) -> FlexibilityAnswer:
        """Re-plan a neighbourhood so its flow stays below ``peak_limit_kw`` in the window.

        The plans in force give the horizon and the peak before the request. If they already
        meet the limit nothing changes. Otherwise the neighbourhood is planned again with the
        limit on every slot of the window; when it cannot be met in full, limits between the
        requested one and the current peak are tried by bisection and the lowest one that
        holds is published (a partial answer). Only validated plans are ever published.
        """
        current = [p for p in self.plans.values() if p.neighbourhood == neighbourhood]
        if not current:
            raise UnknownScope(neighbourhood)
        horizon = current[0].horizon
        slots = window_slots(current[0], start, end)
        before = window_peak(current, slots)
        if before <= peak_limit_kw + 1e-9:
            return FlexibilityAnswer(
                FlexibilityOutcome.ACCEPTED, before, before, "the current plan meets the limit"
            )
        instance = self.source(neighbourhood, horizon.start, horizon.slots)
        if not isinstance(instance, Neighbourhood):
            raise UnknownScope(neighbourhood)
        chosen = params or self.params
        best: tuple[float, SolveResult] | None = None
        failed, holds = peak_limit_kw, before  # a limit known to fail, one known to hold
        target = peak_limit_kw
        for _ in range(PARTIAL_STEPS + 1):
            limits = tuple(target if t in slots else None for t in range(horizon.slots))
            trial = dataclasses.replace(instance, flow_limit_kw=limits)
            result = await self._solve(trial, chosen, publish=False)
            if result.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
                best = (window_peak(result.plans, slots), result)
                if target <= peak_limit_kw:
                    break
                holds = target
            else:
                failed = target
            if holds - failed < PEAK_TOL_KW:
                break
            target = (failed + holds) / 2
        if best is None or best[0] >= before - 1e-9:
            return FlexibilityAnswer(
                FlexibilityOutcome.REJECTED,
                before,
                before,
                f"the neighbourhood cannot lower its peak below {before:.1f} kW in the window",
            )
        achieved, result = best
        self._publish(instance.buildings, result.plans)
        if achieved <= peak_limit_kw + 1e-6:
            return FlexibilityAnswer(
                FlexibilityOutcome.ACCEPTED,
                achieved,
                before,
                f"re-planned: peak {achieved:.1f} kW in the window (was {before:.1f} kW)",
            )
        return FlexibilityAnswer(
            FlexibilityOutcome.PARTIAL,
            achieved,
            before,
            f"re-planned: peak {achieved:.1f} kW in the window (was {before:.1f} kW); "
            f"{peak_limit_kw:g} kW cannot be met",
        )

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
