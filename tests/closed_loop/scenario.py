"""Pieces of the closed-loop scenario: a pausable shared clock, the simulator's weather as
the optimizer's forecast, trace recording, the day's cost and comfort figures, and the
adapter's settings for the accelerated loop."""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from polis.adapter.settings import AdapterSettings
from polis.common.clock import Clock
from polis.optimizer.domain import Horizon
from polis.simulator.config import MeterRole, MunicipalityConfig
from polis.simulator.loads import comfort_lo_c
from polis.simulator.model import Simulation
from polis.simulator.plant import Commands, Trace
from polis.simulator.tariff import FEED_IN_EUR, price_at

SLOT = timedelta(minutes=15)


class PausableClock(Clock):
    """The shared virtual clock, held still while the optimizer plans.

    Virtual time advances at ``speed`` except between ``pause()`` and ``resume()``, so the
    result does not depend on how fast the machine solves. ``wall_for`` accounts for past
    pauses; timers the adapter sets from ``wall_seconds`` do not know about future ones.
    """

    _paused_total: float
    _paused_at: float | None

    def __init__(self, origin: datetime, start: datetime, speed: float) -> None:
        super().__init__(origin, start, speed)
        object.__setattr__(self, "_paused_total", 0.0)
        object.__setattr__(self, "_paused_at", origin.timestamp())  # created held

    def at_wall(self, wall_seconds: float) -> datetime:
        held = self._paused_at
        wall = min(wall_seconds, held) if held is not None else wall_seconds
        return super().at_wall(wall - self._paused_total)

    def wall_for(self, virtual: datetime) -> float:
        return super().wall_for(virtual) + self._paused_total

    def pause(self) -> None:
        if self._paused_at is None:
            object.__setattr__(self, "_paused_at", time.time())

    def resume(self) -> None:
        if self._paused_at is not None:
            total = self._paused_total + time.time() - self._paused_at
            object.__setattr__(self, "_paused_total", total)
            object.__setattr__(self, "_paused_at", None)


@dataclass
class SimulatorWeather:
    """The optimizer's temperature forecast: the simulated weather at each slot's middle."""

    config: MunicipalityConfig

    def outdoor_c(self, horizon: Horizon) -> tuple[float, ...]:
        from polis.simulator.weather import Weather

        weather = Weather(self.config.climate, self.config.seed)
        middle = horizon.slot_minutes * 30.0
        t = np.array([horizon.slot_start(k).timestamp() + middle for k in range(horizon.slots)])
        return tuple(float(x) for x in weather.sample(t).temperature_c)


@dataclass
class Recorder:
    """Per-step main-meter power and zone temperatures, appended as the simulation runs."""

    times: list[np.ndarray] = field(default_factory=list)  # step ends, epoch seconds
    main_w: dict[str, list[np.ndarray]] = field(default_factory=dict)
    zones_c: dict[str, list[np.ndarray]] = field(default_factory=dict)
    ev_w: dict[str, list[np.ndarray]] = field(default_factory=dict)  # EV chargers together

    def add(self, traces: Mapping[str, Trace]) -> None:
        first = next(iter(traces.values()))
        self.times.append(first.start + first.step_seconds * np.arange(1, first.steps + 1))
        for building, trace in traces.items():
            self.main_w.setdefault(building, []).append(trace.channels_w[MeterRole.MAIN])
            self.zones_c.setdefault(building, []).append(trace.zone_temperatures_c)
            self.ev_w.setdefault(building, []).append(trace.channels_w[MeterRole.EV])


def record(simulation: Simulation, recorder: Recorder) -> None:
    """Make ``simulation.advance`` report every chunk it simulates to ``recorder``."""
    original = simulation.advance

    def advance(
        steps: int, commands: Mapping[str, Commands] | None = None
    ) -> Iterator[dict[str, Trace]]:
        for traces in original(steps, commands):
            recorder.add(traces)
            yield traces

    simulation.advance = advance  # type: ignore[method-assign]


def warmed_up(config: MunicipalityConfig, day_start: datetime, days: int = 2) -> Simulation:
    """The municipality run on its own schedules until ``day_start``."""
    sim = Simulation(config, day_start - timedelta(days=days))
    sim.advance_to(day_start)
    return sim


def as_is_day(warm: Simulation, day_start: datetime) -> Recorder:
    sim = copy.deepcopy(warm)
    recorder = Recorder()
    record(sim, recorder)
    sim.advance_to(day_start + timedelta(days=1))
    return recorder


@dataclass(frozen=True)
class DayFigures:
    cost_eur: float
    import_kwh: float
    export_kwh: float
    comfort_kh: dict[str, float]  # "building/zone" -> degree-hours below the comfort band
    cost_by_building: dict[str, float] = field(default_factory=dict)
    ev_kwh: float = 0.0  # energy the EV chargers delivered


def day_figures(config: MunicipalityConfig, recorder: Recorder, day_start: datetime) -> DayFigures:
    """Tariff applied to each slot's net main-meter energy; comfort while occupied."""
    t_end = np.concatenate(recorder.times)
    step = config.step_seconds
    inside = (t_end > day_start.timestamp()) & (t_end <= day_start.timestamp() + 86_400)
    slot = ((t_end[inside] - step - day_start.timestamp()) // SLOT.total_seconds()).astype(int)
    tz = ZoneInfo(config.climate.timezone)
    cost = imported = exported = 0.0
    by_building: dict[str, float] = {}
    ev_kwh = sum(
        float(np.sum(np.concatenate(recorder.ev_w[b.id])[inside])) * step / 3.6e6
        for b in config.buildings
    )
    for building in config.buildings:
        power = np.concatenate(recorder.main_w[building.id])[inside]
        energy = np.bincount(slot, weights=power * step / 3.6e6, minlength=96)
        own = 0.0
        for k, e in enumerate(energy):
            local = (day_start + k * SLOT).astimezone(tz)
            if e >= 0:
                own += e * price_at(local.hour + local.minute / 60)
                imported += e
            else:
                own += e * FEED_IN_EUR
                exported -= e
        by_building[building.id] = own
        cost += own
    comfort: dict[str, float] = {}
    local_ends = [datetime.fromtimestamp(t, UTC).astimezone(tz) for t in t_end[inside]]
    for building in config.buildings:
        temps = np.concatenate(recorder.zones_c[building.id], axis=1)[:, inside]
        for zi, zone in enumerate(building.zones):
            deficit = 0.0
            for i, local in enumerate(local_ends):
                lo = comfort_lo_c(building, zone, local.weekday(), local.hour * 60 + local.minute)
                if lo is not None and temps[zi, i] < lo:
                    deficit += (lo - temps[zi, i]) * step / 3600.0
            comfort[f"{building.id}/{zone.id}"] = deficit
    return DayFigures(cost, imported, exported, comfort, by_building, ev_kwh)


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def adapter_settings(state_dir: Path, ocpp_port: int = 0) -> AdapterSettings:
    """The in-process adapter of the accelerated closed loop; the simulator's chargers reach
    its OCPP central system on loopback, in plain ws."""
    return AdapterSettings(
        grpc_port=0,
        metrics_port=0,
        bacnet_address=f"127.0.0.1:{free_port()}",
        state_dir=state_dir,
        flush_interval_s=0.5,
        ocpp_port=ocpp_port,
        ocpp_security_profile=0,
    )
