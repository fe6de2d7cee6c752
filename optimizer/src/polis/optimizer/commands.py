"""Sending the current slot's commands to the building adapter over gRPC.

A plan maps to commands per load: thermal zones get their planned temperature as setpoint
where the plan heats (cools) them, and otherwise a setpoint at which their own controller
stays idle while they float as planned; other loads get their planned power (kW; on/off
loads 1/0). An EV charger's sessions share its command point (an OCPP charger's charging
limit): it gets their planned power together while one of them is planned to be under way,
and its full power otherwise, so a car the plan does not expect charges as it would without
Polis. Each write carries a deadline and a duration
of one slot, so the device falls back to its own schedule if the optimizer stops.
An unreachable adapter is logged and skipped: planning goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

import grpc
from google.protobuf.duration_pb2 import Duration

from polis.common.logging import get_logger
from polis.control.v1 import control_pb2 as pb
from polis.control.v1 import control_pb2_grpc as pb_grpc
from polis.optimizer.domain import (
    Building,
    EVSession,
    LoadKind,
    LoadSchedule,
    Plan,
    ThermalMode,
    ThermalZone,
)

log = get_logger("polis.optimizer.commands")

# planned zone power at or below this counts as "not heating (cooling)" (kW)
FLOATING_KW = 0.01
# distance kept from where a floating zone's controller would act, beyond the 0.1 K the
# setpoint is rounded to (K)
SETPOINT_MARGIN_K = 0.15


@dataclass(frozen=True)
class Command:
    point_id: str
    value: float
    reason: str


def commands_for_slot(
    plan: Plan,
    slot: int,
    points: dict[str, str],
    on_off: Collection[str] = (),
    building: Building | None = None,
) -> list[Command]:
    """Commands for ``slot`` of ``plan``; ``points`` maps load id to its command point and
    ``on_off`` names further loads (e.g. water heaters) commanded as 1/0 enables.

    With the planned ``building``, a zone the plan does not heat (cool) in the slot gets a
    setpoint at which its controller stays idle (:func:`floating_setpoint`).
    """
    zones = {}
    sessions: dict[str, EVSession] = {}
    if building is not None:
        zones = {z.id: z for z in building.loads if isinstance(z, ThermalZone)}
        sessions = {s.id: s for s in building.loads if isinstance(s, EVSession)}
    out = []
    charging: dict[str, _Charging] = {}
    for schedule in plan.loads:
        load_id = schedule.load_id.split("@", 1)[0]
        point = points.get(load_id)
        if point is None:
            continue
        if schedule.kind is LoadKind.EV_CHARGER:
            charging.setdefault(point, _Charging()).add(schedule, slot, sessions)
            continue
        if schedule.kind is LoadKind.HVAC and schedule.setpoint_c:
            value = round(_zone_setpoint(schedule, slot, zones.get(schedule.load_id)), 1)
        elif schedule.kind in (LoadKind.PUMP, LoadKind.DEFERRABLE) or load_id in on_off:
            value = 1.0 if schedule.power_kw[slot] > 0 else 0.0
        else:
            value = round(schedule.power_kw[slot], 2)
        out.append(Command(point, value, schedule.explanation[:200]))
    for point, ev in charging.items():
        out.append(Command(point, round(ev.limit_kw(), 2), ev.reason[:200]))
    return out


@dataclass
class _Charging:
    """The sessions of one EV charger's command point in one slot."""

    planned_kw: float = 0.0
    max_kw: float = 0.0
    under_way: bool = False
    reason: str = ""

    def add(self, schedule: LoadSchedule, slot: int, sessions: dict[str, EVSession]) -> None:
        self.planned_kw += schedule.power_kw[slot]
        self.reason = self.reason or schedule.explanation
        session = sessions.get(schedule.load_id)
        if session is None:  # the planned session is not known: its plan holds
            self.under_way = True
            return
        self.max_kw = max(self.max_kw, session.max_kw)
        self.under_way |= session.arrival <= slot < session.departure

    def limit_kw(self) -> float:
        return self.planned_kw if self.under_way else self.max_kw


def _zone_setpoint(schedule: LoadSchedule, slot: int, zone: ThermalZone | None) -> float:
    planned = schedule.setpoint_c[slot]
    if zone is None or schedule.power_kw[slot] > FLOATING_KW:
        return planned
    start = zone.initial_temp_c if slot == 0 else schedule.setpoint_c[slot - 1]
    return floating_setpoint(zone, slot, min(start, planned), max(start, planned))


def floating_setpoint(zone: ThermalZone, slot: int, lowest: float, highest: float) -> float:
    """A setpoint at which the zone's controller neither heats nor cools while the zone
    floats between ``lowest`` and ``highest`` (°C), as the plan expects in ``slot``.

    A heating zone gets no more than its comfort floor and stays below the floating
    temperatures by more than half the controller's proportional band, so the controller
    only acts if the zone really falls out of its band; where the same setpoint also drives
    cooling it stays high enough that cooling does not start. (Commanding the planned
    temperature of a floating zone made the controller heat to reach a temperature only the
    modelled gains give; a low floor setpoint made a zone warmed by its day's gains be
    cooled at the evening's peak price.) Cooling zones mirror this.
    """
    half = zone.control_band_k / 2.0
    if zone.mode is ThermalMode.HEAT:
        value = min(lowest - half - SETPOINT_MARGIN_K, zone.comfort_lo[slot])
        if zone.cooling_offset_k is not None:
            value = max(value, highest - zone.cooling_offset_k + half + SETPOINT_MARGIN_K)
        return value
    return max(highest + half + SETPOINT_MARGIN_K, zone.comfort_hi[slot])


class AdapterClient:
    def __init__(self, target: str, deadline_s: float = 2.0) -> None:
        self._channel = grpc.aio.insecure_channel(target)
        self._stub = pb_grpc.AdapterControlStub(self._channel)  # type: ignore[no-untyped-call]
        self._deadline = deadline_s

    async def close(self) -> None:
        await self._channel.close(None)

    async def send(self, commands: list[Command], slot: timedelta) -> int:
        """Write commands; returns how many the adapter accepted.

        The first write probes the adapter: when it is down the rest of the slot is skipped
        (retried next slot); otherwise the remaining writes go out concurrently, since each
        waits on the device's read-back.
        """
        if not commands:
            return 0
        duration = Duration()
        duration.FromTimedelta(slot)
        first = await self._write(commands[0], duration)
        if first is None:
            return 0
        rest = await asyncio.gather(*(self._write(c, duration) for c in commands[1:]))
        return int(first) + sum(1 for r in rest if r)

    async def _write(self, command: Command, duration: Duration) -> bool | None:
        """True when accepted, False when refused, None when the adapter is unreachable."""
        request = pb.WriteCommandRequest(
            point_id=command.point_id,
            value=command.value,
            duration=duration,
            requested_by="polis-optimizer",
            reason=command.reason,
        )
        try:
            reply = await self._stub.WriteCommand(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "adapter write failed",
                point=command.point_id,
                code=error.code().name,
                detail=error.details(),
            )
            down = error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            return None if down else False
        log.info(
            "command written",
            point=command.point_id,
            value=command.value,
            status=pb.WriteStatus.Name(reply.status),
        )
        return True

    async def relinquish(
        self, point_ids: Collection[str], reason: str = "optimizer stopped"
    ) -> int:
        """Give the points back to the building's own control; returns how many succeeded."""
        done = 0
        for point_id in point_ids:
            request = pb.RelinquishRequest(
                point_id=point_id, requested_by="polis-optimizer", reason=reason
            )
            try:
                await self._stub.Relinquish(request, timeout=self._deadline)
            except grpc.aio.AioRpcError as error:
                log.warning(
                    "adapter relinquish failed",
                    point=point_id,
                    code=error.code().name,
                    detail=error.details(),
                )
                continue
            done += 1
        return done
