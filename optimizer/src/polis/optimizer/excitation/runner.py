"""One zone's excitation run: each step written when it starts, relinquished at the end,
outside the allowed hours and when stopped.

Each write lasts its step and one slot more, so a step's command stays in force until the
next one replaces it, and the adapter's expiry returns the zone to its own control soon after
this process dies. The adapter records every write and relinquish (``requested_by``
``polis-excitation``, the step in the reason) in its audit log.

A write the adapter did not answer (a deadline passed, the connection broke) may have landed
all the same, so the run holds it as written until it is relinquished. A relinquish the
adapter does not confirm is tried again, with back-off, until the last write's expiry: by
then the adapter's expiry has ended the command, and the run logs that its relinquish never
landed. Relinquishing what is not held is harmless, so a late or repeated one does no harm.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.optimizer.excitation.adapter import Outcome, SetpointPort
from polis.optimizer.excitation.schedule import SLOT, Schedule, Step

log = get_logger("polis.optimizer.excitation")

# waits between relinquish attempts the adapter did not confirm (wall seconds, doubling)
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0


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
    def __init__(
        self,
        schedule: Schedule,
        adapter: SetpointPort,
        clock: Clock,
        retry_first_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.schedule = schedule
        self.state = State.RUNNING
        self.progress = Progress()
        self._adapter = adapter
        self._clock = clock
        self._retry = (retry_first_s, retry_max_s)
        self._stop = asyncio.Event()
        self._give_up = asyncio.Event()
        self._stop_reason = ""
        # a command of ours may be in force until then: the latest expiry of the writes that
        # may have landed since the last confirmed relinquish (None: nothing held)
        self._held_until: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.schedule.building}/{self.schedule.zone}"

    @property
    def held_until(self) -> datetime | None:
        """Until when a command of this run may be in force (None: none is)."""
        return self._held_until

    def stop(self, reason: str) -> None:
        if self.state is State.RUNNING and not self._stop.is_set():
            self._stop_reason = reason
            self._stop.set()

    def give_up(self) -> None:
        """Stop retrying an unconfirmed relinquish (the service stops): the adapter's expiry
        ends the command."""
        self._give_up.set()

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
                    # retried until the next step at most: its write replaces the command
                    await self._release("outside the excitation hours", step.end, self._stop)
                    continue
                index += 1
                await self._write(step, index, writes)
            else:
                if await self._until(schedule.end):
                    self.state = State.DONE
        finally:
            reason = "excitation done" if self.state is State.DONE else self._stop_reason
            reason = reason or "excitation stopped"
            if self.state is State.RUNNING:
                self.state = State.STOPPED
            self.progress.message = reason
            # the relinquish must go out even when the task is cancelled
            await asyncio.shield(self._release(reason))
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
        lasting = max(step.end - max(now, step.start) + SLOT, timedelta(minutes=1))
        sign = "+" if step.setpoint_c >= self.schedule.base_c else "−"
        reason = (
            f"identification excitation step {index}/{total}: {sign}"
            f"{abs(step.setpoint_c - self.schedule.base_c):.1f} K around "
            f"{self.schedule.base_c:.1f} °C until {step.end.isoformat()}"
        )
        outcome = await self._adapter.write(
            self.schedule.point_id, step.setpoint_c, (step.lo_c, step.hi_c), lasting, reason
        )
        progress = self.progress
        if outcome is not Outcome.REFUSED:
            expires = now + lasting
            self._held_until = max(self._held_until or expires, expires)
        if outcome in (Outcome.REFUSED, Outcome.UNREACHABLE):
            progress.refused += 1
            may = ": it may have landed" if outcome is Outcome.UNREACHABLE else ""
            progress.message = f"step {index}: {outcome.value}{may}"
            return
        progress.written += 1
        progress.last_setpoint_c = step.setpoint_c
        if outcome is Outcome.OVERRIDDEN:
            progress.overridden += 1
        progress.message = f"step {index}/{total}: {step.setpoint_c:g} °C {outcome.value}"

    async def _release(
        self, reason: str, before: datetime | None = None, interrupt: asyncio.Event | None = None
    ) -> None:
        """Relinquish what may be in force, tried again with back-off until the adapter
        confirms or the last write expires (or ``before``; ``interrupt`` cuts the waits)."""
        attempts = 0
        wait, longest = self._retry
        while self._held_until is not None:
            attempts += 1
            if await self._adapter.relinquish(self.schedule.point_id, reason):
                self._held_until = None
                again = f" at attempt {attempts}" if attempts > 1 else ""
                self.progress.message = f"{reason}; setpoint relinquished{again}"
                return
            until = self._held_until if before is None else min(self._held_until, before)
            left = self._clock.wall_seconds((until - self._clock.now()).total_seconds())
            if left <= 0 or self._give_up.is_set() or (interrupt and interrupt.is_set()):
                break
            self.progress.message = (
                f"{reason}; relinquish not confirmed, retrying until {until:%Y-%m-%d %H:%M} UTC"
            )
            await _pause(min(wait, left), [e for e in (self._give_up, interrupt) if e])
            wait = min(2 * wait, longest)
        if self._held_until is None:
            return
        if before is None or self._clock.now() >= self._held_until:
            self._unconfirmed(reason, attempts)

    def _unconfirmed(self, reason: str, attempts: int) -> None:
        expiry = self._held_until
        assert expiry is not None
        at = f"{expiry:%Y-%m-%d %H:%M} UTC"
        if self._clock.now() >= expiry:
            self._held_until = None  # the adapter's expiry has ended it
            outcome = f"the adapter's expiry at {at} ended the command"
        else:
            outcome = f"the adapter's expiry at {at} ends the command"
        self.progress.message = f"{reason}; relinquish never confirmed: {outcome}"
        log.error(
            "excitation relinquish never confirmed",
            zone=self.label,
            point=self.schedule.point_id,
            attempts=attempts,
            expires=expiry.isoformat(),
            reason=reason,
        )


async def _pause(seconds: float, events: Sequence[asyncio.Event]) -> None:
    """Sleep ``seconds`` (wall), or less when one of ``events`` (at least one) is set."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds)
    finally:
        for waiter in waiters:
            waiter.cancel()
