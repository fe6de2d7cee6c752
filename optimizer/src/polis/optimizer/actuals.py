"""Measured states for re-planning: zone temperatures, tank and battery energy.

Each re-plan starts from the latest readings the building adapter holds
(``AdapterControl/ReadPoints``). A reading counts when its quality is good and it is recent
(``max_age`` of virtual time); otherwise, and whenever the adapter is unreachable, the state
the building's previous plan predicts for now is used instead, so planning goes on.

``state_points`` and ``predicted_state`` are pure; ``ActualsFeed`` does the gRPC call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import grpc

from polis.common.logging import get_logger
from polis.control.v1 import control_pb2 as pb
from polis.control.v1 import control_pb2_grpc as pb_grpc
from polis.optimizer.config import BatteryConfig, OptimizerConfig, TankConfig, ZoneConfig
from polis.optimizer.domain import Battery, Building, Plan, ThermalZone, WaterTank
from polis.points.v1 import points_pb2

log = get_logger("polis.optimizer.actuals")

GOOD = points_pb2.QUALITY_GOOD


@dataclass(frozen=True)
class StatePoint:
    """A point whose reading gives the initial state of one load."""

    building: str
    load_id: str
    point_id: str
    convert: Callable[[float], float]  # reading in the point's unit -> the model's state


def _identity(value: float) -> float:
    return value


def _soc_to_kwh(capacity_kwh: float, percent: float) -> float:
    return percent * capacity_kwh / 100.0


def state_points(config: OptimizerConfig) -> list[StatePoint]:
    """Zone temperatures (degC), tank temperatures (-> kWh), battery SOC (% -> kWh)."""
    out: list[StatePoint] = []
    for b in config.buildings:
        for load in b.loads:
            if isinstance(load, ZoneConfig) and load.temperature_point:
                out.append(StatePoint(b.id, load.id, load.temperature_point, _identity))
            elif isinstance(load, TankConfig) and load.temperature_point:
                out.append(StatePoint(b.id, load.id, load.temperature_point, load.kwh_at))
            elif isinstance(load, BatteryConfig) and load.soc_point:
                convert = partial(_soc_to_kwh, load.capacity_kwh)
                out.append(StatePoint(b.id, load.id, load.soc_point, convert))
    return out


def predicted_state(instance: Building, plan: Plan, at: datetime) -> dict[str, float]:
    """The state ``plan`` predicts at ``at`` (a slot boundary inside its horizon), per load.

    Zones: the planned temperature at the end of the previous slot. Tanks and batteries: the
    stored energy integrated over the elapsed slots of the plan.
    """
    horizon = plan.horizon
    elapsed = int((at - horizon.start) / timedelta(minutes=horizon.slot_minutes))
    if elapsed <= 0 or elapsed > horizon.slots:
        return {}
    dt = horizon.dt_h
    schedules = {s.load_id: s for s in plan.loads}
    out: dict[str, float] = {}
    for load in instance.loads:
        schedule = schedules.get(load.id)
        if schedule is None:
            continue
        if isinstance(load, ThermalZone) and schedule.setpoint_c:
            out[load.id] = schedule.setpoint_c[elapsed - 1]
        elif isinstance(load, WaterTank):
            energy = load.initial_kwh
            for t in range(elapsed):
                energy += (
                    load.efficiency * schedule.power_kw[t] * dt
                    - load.draw_kwh[t]
                    - load.loss_kw * dt
                )
            out[load.id] = energy
        elif isinstance(load, Battery):
            energy = load.initial_kwh
            for t in range(elapsed):
                p = schedule.power_kw[t]
                energy += (
                    p * dt * load.charge_efficiency if p > 0 else p * dt / load.discharge_efficiency
                )
            out[load.id] = energy
    return out


@dataclass
class ActualsFeed:
    """The latest measured (or predicted) state per building, refreshed before each re-plan.

    Use the instance as the ``actuals`` source of :class:`InstanceFactory`.
    """

    points: list[StatePoint]
    target: str
    deadline_s: float = 2.0
    max_age: timedelta = timedelta(minutes=30)
    states: dict[str, dict[str, float]] = field(default_factory=dict)
    measured: int = 0  # states taken from readings in the last refresh
    predicted: int = 0  # states taken from the previous plans in the last refresh

    def __post_init__(self) -> None:
        self._channel = grpc.aio.insecure_channel(self.target)
        self._stub = pb_grpc.AdapterControlStub(self._channel)  # type: ignore[no-untyped-call]

    def __call__(self, building: str) -> dict[str, float]:
        return dict(self.states.get(building, {}))

    async def close(self) -> None:
        await self._channel.close(None)

    async def read(self, now: datetime) -> dict[str, float]:
        """Good, recent readings by point id; empty when the adapter cannot be reached."""
        request = pb.ReadPointsRequest(point_ids=[p.point_id for p in self.points])
        try:
            reply = await self._stub.ReadPoints(request, timeout=self.deadline_s)
        except grpc.aio.AioRpcError as error:
            log.warning("reading actuals failed", code=error.code().name, detail=error.details())
            return {}
        out = {}
        for r in reply.readings:
            age = now - r.time.ToDatetime(tzinfo=UTC)
            if r.quality == GOOD and age <= self.max_age:
                out[r.point_id] = r.value
        return out

    async def refresh(
        self,
        now: datetime,
        plans: Mapping[str, Plan] | None = None,
        instances: Mapping[str, Building] | None = None,
    ) -> None:
        """Read the points; fill what is missing from the previous plans' prediction."""
        readings = await self.read(now)
        states: dict[str, dict[str, float]] = {}
        predictions: dict[str, dict[str, float]] = {}
        self.measured = self.predicted = 0
        for p in self.points:
            value = readings.get(p.point_id)
            if value is not None:
                states.setdefault(p.building, {})[p.load_id] = p.convert(value)
                self.measured += 1
                continue
            if p.building not in predictions:
                plan = (plans or {}).get(p.building)
                instance = (instances or {}).get(p.building)
                predictions[p.building] = (
                    predicted_state(instance, plan, now) if plan and instance else {}
                )
            predicted = predictions[p.building].get(p.load_id)
            if predicted is not None:
                states.setdefault(p.building, {})[p.load_id] = predicted
                self.predicted += 1
        self.states = states
