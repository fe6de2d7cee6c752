"""One zone's excitation run: each step written when it starts, relinquished at the end,
outside the allowed hours and when stopped.

Each write lasts its step and one slot more, so a step's command stays in force until the
next one replaces it, and the adapter's expiry returns the zone to its own control soon after
this process dies. The adapter records every write and relinquish (``requested_by``
``polis-excitation``, the step in the reason) in its audit log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.optimizer.excitation.adapter import Outcome, SetpointPort
from polis.optimizer.excitation.schedule import SLOT, Schedule, Step

log = get_logger("polis.optimizer.excitation")


class State(StrEnum):
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"


@dataclass
class Progress:
    written: int = 0
    refused: int = 0
    overridden: int = 0
    last_setpoint_c: float | None = None
    message: str = ""


class ExcitationRun:
    def __init__(self, schedule: Schedule, adapter: SetpointPort, clock: Clock) -> None:
        self.schedule = schedule
        self.state = State.RUNNING
        self.progress = Progress()
        self._adapter = adapter
        self._clock = clock
        self._stop = asyncio.Event()
        self._stop_reason = ""
        self._holding = False  # a command of ours may be in force

    @property
    def label(self) -> str:
        return f"{self.schedule.building}/{self.schedule.zone}"

    def stop(self, reason: str) -> None:
        if self.state is State.RUNNING and not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()

    async def run(self) -> None:
        schedule = self.schedule
        writes = len(schedule.writes())
        index = 0
        log.info("excitation started", zone=self.label, end=schedule.end.isoformat(), steps=writes)
        try:
            for step in schedule.steps:
                if step.end <= self._clock.now():
                    continue  # started late: its time has passed
                if not await self._until(step.start):
                    break
                if step.setpoint_c is None:
                    await self._release("outside the excitation hours")
                    continue
                index += 1
                await self._write(step, index, writes)
            else:
                if await self._until(schedule.end):
                    self.state = State.DONE
        finally:
            reason = "excitation done" if self.state is State.DONE else self._stop_reason
            # the relinquish must go out even when the task is cancelled
            await asyncio.shield(self._release(reason or "excitation stopped"))
            if self.state is State.RUNNING:
                self.state = State.STOPPED
            self.progress.message = reason or "excitation stopped"
            log.info("excitation ended", zone=self.label, state=self.state.value, reason=reason)

    async def _until(self, when: datetime) -> bool:
        """Sleep until ``when`` on the shared clock; False when stopped first."""
        if self._stop.is_set():
            return False
        sleeper = asyncio.ensure_future(self._clock.sleep_until(when))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        return not self._stop.is_set()

    async def _write(self, step: Step, index: int, total: int) -> None:
        assert step.setpoint_c is not None
        now = self._clock.now()
        lasting = step.end - max(now, step.start) + SLOT
        sign = "+" if step.setpoint_c >= self.schedule.base_c else "−"
        reason = (
            f"identification excitation step {index}/{total}: {sign}"
            f"{abs(step.setpoint_c - self.schedule.base_c):.1f} K around "
            f"{self.schedule.base_c:.1f} °C until {step.end.isoformat()}"
        )
        outcome = await self._adapter.write(
            self.schedule.point_id,
            step.setpoint_c,
            (step.lo_c, step.hi_c),
            max(lasting, timedelta(minutes=1)),
            reason,
        )
        progress = self.progress
        if outcome in (Outcome.REFUSED, Outcome.UNREACHABLE):
            progress.refused += 1
            progress.message = f"step {index}: {outcome.value}"
            return
        self._holding = True
        progress.written += 1
        progress.last_setpoint_c = step.setpoint_c
        if outcome is Outcome.OVERRIDDEN:
            progress.overridden += 1
        progress.message = f"step {index}/{total}: {step.setpoint_c:g} °C {outcome.value}"

    async def _release(self, reason: str) -> None:
        if not self._holding:
            return
        if await self._adapter.relinquish(self.schedule.point_id, reason):
            self._holding = False
