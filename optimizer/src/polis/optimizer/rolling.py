"""The rolling-horizon loop: re-plan every slot of virtual time, apply the current slot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.optimizer.commands import AdapterClient, commands_for_slot
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

    async def step(self, now: datetime) -> int:
        """Plan every scope for the slot containing ``now``; returns commands accepted."""
        start = slot_floor(now, self.replan_minutes)
        accepted = 0
        for scope in self.scopes:
            try:
                result = await self.planner.solve(scope, start, self.horizon_slots)
            except Exception:  # one failing scope must not stop the others
                log.exception("planning failed", scope=scope)
                continue
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
            for plan in result.plans:
                if self.adapter is None or self.planner.mode(plan.building) != Mode.APPLY:
                    continue
                commands = commands_for_slot(plan, 0, self.points.get(plan.building, {}))
                accepted += await self.adapter.send(
                    commands, timedelta(minutes=plan.horizon.slot_minutes)
                )
        return accepted

    async def run(self, stop: asyncio.Event) -> None:
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
