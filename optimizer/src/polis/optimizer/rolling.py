"""The rolling-horizon loop: re-plan every slot of virtual time, apply the current slot.

Before each re-plan the measured states are refreshed (``ActualsFeed``), so every plan starts
from what the adapter reads, or from the previous plan's prediction when it cannot. In apply
mode the current slot's commands go to the adapter; a point a building's new plan no longer
commands (an EV charger with no session left in the horizon) is relinquished at once rather
than held at its last command until that expires, and when the loop stops every point it
commanded is relinquished, returning the devices to their own schedules.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.optimizer.actuals import ActualsFeed
from polis.optimizer.commands import AdapterClient, commands_for_slot
from polis.optimizer.domain import SolveResult
from polis.optimizer.grpc_service import slot_floor
from polis.optimizer.plan_store import PlanSink
from polis.optimizer.planner import Mode, Planner

log = get_logger("polis.optimizer.rolling")


@dataclass
class RollingHorizon:
    planner: Planner
    scopes: list[str]
    clock: Clock
    points: dict[str, dict[str, str]]  # building -> load id -> command point
    sink: PlanSink
    adapter: AdapterClient | None = None
    horizon_slots: int = 96
    replan_minutes: int = 15
    actuals: ActualsFeed | None = None
    on_off: frozenset[str] = frozenset()  # load ids commanded as 1/0 enables
    command_slots: int = 1  # how long each write lasts, in slots
    commanded: set[str] = field(default_factory=set)

    async def step(self, now: datetime) -> int:
        """Plan every scope for the slot containing ``now``; returns commands accepted."""
        start = slot_floor(now, self.replan_minutes)
        accepted = 0
        if self.actuals is not None:
            await self.actuals.refresh(start, self.planner.plans, self.planner.instances)
            log.info("actuals", measured=self.actuals.measured, predicted=self.actuals.predicted)
        # scopes are independent: solve them concurrently, then apply in a fixed order
        results = await asyncio.gather(*(self._plan(scope, start) for scope in self.scopes))
        for result in results:
            if result is None:
                continue
            for plan in result.plans:
                if self.adapter is None or self.planner.mode(plan.building) != Mode.APPLY:
                    continue
                commands = commands_for_slot(
                    plan,
                    0,
                    self.points.get(plan.building, {}),
                    self.on_off,
                    self.planner.instances.get(plan.building),
                )
                dropped = self._no_longer_commanded(plan.building, {c.point_id for c in commands})
                self.commanded.update(c.point_id for c in commands)
                accepted += await self.adapter.send(
                    commands, timedelta(minutes=plan.horizon.slot_minutes * self.command_slots)
                )
                if dropped:
                    await self.adapter.relinquish(dropped, reason="no longer planned")
        return accepted

    def _no_longer_commanded(self, building: str, commanded_now: set[str]) -> list[str]:
        """The building's points commanded before and not by its new plan."""
        ours = set(self.points.get(building, {}).values())
        dropped = sorted((self.commanded & ours) - commanded_now)
        self.commanded.difference_update(dropped)
        return dropped

    async def _plan(self, scope: str, start: datetime) -> SolveResult | None:
        try:
            result = await self.planner.solve(scope, start, self.horizon_slots)
        except Exception:  # one failing scope must not stop the others
            log.exception("planning failed", scope=scope)
            return None
        log.info(
            "planned",
            scope=scope,
            status=result.status.value,
            gap=result.gap,
            objective_eur=result.objective_eur,
            solve_time_s=result.solve_time_s,
        )
        try:
            await asyncio.to_thread(self.sink.store, result.plans)
        except Exception as error:  # storage is best effort: plans stay in memory
            log.warning("storing plans failed", scope=scope, error=str(error))
        return result

    async def relinquish(self) -> int:
        """Relinquish every point this loop commanded; returns how many succeeded."""
        if self.adapter is None or not self.commanded:
            return 0
        done = await self.adapter.relinquish(sorted(self.commanded))
        self.commanded.clear()
        return done

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._run(stop)
        finally:
            await self.relinquish()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = self.clock.now()
            await self.step(now)
            following = slot_floor(now, self.replan_minutes) + timedelta(
                minutes=self.replan_minutes
            )
            sleeper = asyncio.create_task(self.clock.sleep_until(following))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeper, stopper):
                task.cancel()
