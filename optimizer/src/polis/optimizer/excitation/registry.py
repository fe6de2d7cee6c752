"""The service's excitations: started only where the catalogue allows them and never on a
building the optimizer applies plans to; the optimizer cannot be switched to apply there
while one runs (``blocks_apply``). Both checks run on the service's event loop without an
await between check and change, so neither can slip past the other.

The optimizer applies a plan to every zone of a building together, so exclusion is per
building: exciting a zone needs its building in dry run. A run that has ended but whose
relinquish the adapter has not confirmed still holds its zone (its retries would relinquish
the automation priority the optimizer writes at), until its last write expires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from polis.common.catalogue.loads import ZoneConfig
from polis.common.clock import Clock
from polis.common.logging import get_logger
from polis.optimizer.config import OptimizerConfig
from polis.optimizer.excitation.adapter import SetpointPort
from polis.optimizer.excitation.runner import ExcitationRun, State
from polis.optimizer.excitation.schedule import Schedule, plan_excitation
from polis.optimizer.planner import Mode, Planner

log = get_logger("polis.optimizer.excitation")

# a stop answers within this (wall seconds); an unconfirmed relinquish is retried after it
STOP_WAIT_S = 5.0
# at shutdown, unconfirmed relinquishes are retried this long before the adapter's expiry
# is left to end them
CLOSE_GRACE_S = 10.0


class ExcitationError(Exception):
    """A request the service refuses; the message names the reason."""


class UnknownTarget(ExcitationError):
    """No such building or zone."""


class InvalidRequest(ExcitationError):
    """Out of the zone's bounds (days)."""


class NotAllowed(ExcitationError):
    """Not enabled in the catalogue, or the optimizer applies plans to the building."""


class AlreadyRunning(ExcitationError):
    pass


class SetpointUnknown(ExcitationError):
    """The zone's setpoint in force cannot be read: nothing to step around."""


class Excitations:
    def __init__(
        self,
        config: OptimizerConfig,
        planner: Planner,
        adapter: SetpointPort,
        clock: Clock,
        stop_wait_s: float = STOP_WAIT_S,
    ) -> None:
        self._config = config
        self._stop_wait_s = stop_wait_s
        self._planner = planner
        self._adapter = adapter
        self._clock = clock
        self._runs: dict[tuple[str, str], ExcitationRun] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    # -- the exclusion with the optimizer's apply mode -------------------------------------
    def running(self, building: str) -> list[ExcitationRun]:
        return [r for (b, _), r in self._runs.items() if b == building and r.state is State.RUNNING]

    def holding(self, building: str) -> list[ExcitationRun]:
        """Ended runs whose command may still be in force (relinquish not confirmed)."""
        return [
            r
            for (b, _), r in self._runs.items()
            if b == building and r.state is not State.RUNNING and r.held_until is not None
        ]

    def blocks_apply(self, building: str) -> str | None:
        """Why ``building`` may not be switched to apply now (None: it may)."""
        runs = self.running(building)
        if runs:
            zones = ", ".join(r.schedule.zone for r in runs)
            until = max(r.schedule.end for r in runs).isoformat()
            return (
                f"an identification excitation runs on {building} ({zones}) until {until}: "
                "stop it before applying plans"
            )
        held = self.holding(building)
        if not held:
            return None
        zones = ", ".join(r.schedule.zone for r in held)
        until = max(r.held_until for r in held if r.held_until is not None).isoformat()
        return (
            f"an identification excitation of {building} ({zones}) has ended, but the adapter "
            f"has not confirmed its relinquish: its command may be in force until {until}"
        )

    # -- requests ---------------------------------------------------------------------------
    def _zones(self, building: str, wanted: Sequence[str]) -> list[ZoneConfig]:
        try:
            config = self._config.building(building)
        except KeyError:
            raise UnknownTarget(f"no building {building!r} with loads to plan") from None
        zones = {load.id: load for load in config.loads if isinstance(load, ZoneConfig)}
        if not wanted:
            chosen = [z for z in zones.values() if z.excitation and z.excitation.enabled]
            if not chosen:
                raise NotAllowed(
                    f"no zone of {building} allows excitation: give its hvac load an "
                    "'excitation' block in the catalogue (docs/commissioning.md)"
                )
            return chosen
        unknown = [z for z in wanted if z not in zones]
        if unknown:
            raise UnknownTarget(f"no hvac zone {', '.join(unknown)} in {building}")
        return [zones[z] for z in wanted]

    def _check_allowed(self, building: str, zones: Sequence[ZoneConfig], days: float) -> None:
        for zone in zones:
            if zone.excitation is None or not zone.excitation.enabled:
                raise NotAllowed(
                    f"excitation is not enabled for {building}/{zone.id}: its hvac load in "
                    "the catalogue has no enabled 'excitation' block"
                )
            if zone.command_point is None:
                raise NotAllowed(f"{building}/{zone.id} has no command_point to write")
            if not 0 < days <= zone.excitation.max_days:
                raise InvalidRequest(
                    f"days: {days:g} is outside 0..{zone.excitation.max_days} "
                    f"(the max_days of {building}/{zone.id})"
                )
        if self._planner.mode(building) == Mode.APPLY:
            raise NotAllowed(
                f"the optimizer applies plans to {building}: set it to dry run before "
                "exciting its zones"
            )
        for zone in zones:
            run = self._runs.get((building, zone.id))
            if run is not None and run.state is State.RUNNING:
                raise AlreadyRunning(
                    f"an excitation of {building}/{zone.id} runs until "
                    f"{run.schedule.end.isoformat()}"
                )
            if run is not None and run.held_until is not None:
                raise AlreadyRunning(
                    f"the last excitation of {building}/{zone.id} has not had its relinquish "
                    f"confirmed: its command may be in force until {run.held_until.isoformat()}"
                )

    async def start(
        self,
        building: str,
        zones: Sequence[str],
        days: float,
        start: datetime | None = None,
        requested_by: str = "",
    ) -> list[ExcitationRun]:
        chosen = self._zones(building, zones)
        self._check_allowed(building, chosen, days)
        begins = start or self._clock.now()
        schedules = [await self._schedule(building, z, begins, days) for z in chosen]
        # the reads above awaited: check again, then start with no await in between
        self._check_allowed(building, chosen, days)
        runs = []
        for schedule in schedules:
            run = ExcitationRun(schedule, self._adapter, self._clock)
            key = (building, schedule.zone)
            self._runs[key] = run
            self._tasks[key] = asyncio.create_task(run.run(), name=f"excitation {run.label}")
            runs.append(run)
        log.info(
            "excitation requested",
            building=building,
            zones=[r.schedule.zone for r in runs],
            days=days,
            requested_by=requested_by,
        )
        return runs

    async def _schedule(
        self, building: str, zone: ZoneConfig, begins: datetime, days: float
    ) -> Schedule:
        point = zone.command_point
        assert point is not None
        base = await self._adapter.read(point, self._clock.now())
        if base is None:
            raise SetpointUnknown(
                f"cannot read the setpoint in force of {building}/{zone.id} ({point}): "
                "no good reading from the adapter in the last 30 minutes"
            )
        try:
            return plan_excitation(building, zone, point, base, begins, days, self._config.timezone)
        except ValueError as error:
            raise InvalidRequest(str(error)) from None

    async def stop(
        self, building: str, zones: Sequence[str] = (), reason: str = "stopped on request"
    ) -> list[ExcitationRun]:
        keys = [
            k
            for k, r in self._runs.items()
            if k[0] == building and (not zones or k[1] in zones) and r.state is State.RUNNING
        ]
        for key in keys:
            self._runs[key].stop(reason)
        tasks = [self._tasks[k] for k in keys]
        if tasks:
            # each run's first relinquish is answered by then; one the adapter does not
            # confirm is retried after this returns (the run's message says so)
            await asyncio.wait(tasks, timeout=self._stop_wait_s)
        return [self._runs[k] for k in keys]

    def runs(self, building: str = "") -> list[ExcitationRun]:
        return [r for (b, _), r in sorted(self._runs.items()) if not building or b == building]

    async def close(self, grace_s: float = CLOSE_GRACE_S) -> None:
        """Stop every run and relinquish its point (the service is stopping); relinquishes
        the adapter does not confirm are retried for ``grace_s`` at most, then left to the
        adapter's expiry."""
        for run in self._runs.values():
            run.stop("optimizer stopped")
        tasks = list(self._tasks.values())
        if not tasks:
            return
        await asyncio.wait(tasks, timeout=grace_s)
        for run in self._runs.values():
            run.give_up()
        await asyncio.gather(*tasks, return_exceptions=True)
