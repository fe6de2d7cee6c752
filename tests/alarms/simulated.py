"""The simulator's model run in process, its readings in a MemoryReadings, the engine evaluated
over them: what a fault-free stretch of the default municipality looks like to every rule.

The readings are what the adapter would store from the simulated controllers and meters, one
per simulated minute: zone air temperatures, the heat pumps' heating and cooling outputs (the
zones' proportional controllers on the temperature and setpoint, as
polis.simulator.bacnet_points derives them), their running status, the outdoor temperature,
the main meters' power and energy counters. Every other catalogue point reports every five
minutes (communication rules see healthy devices).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from polis.alarms.engine import AlarmEngine
from polis.alarms.memory_source import MemoryReadings
from polis.alarms.model import AlarmKey, Assessment, Severity, TransitionKind, reconcile
from polis.common.catalogue import Catalogue, parse_catalogue, point_id
from polis.common.influx import READING, Sample
from polis.common.lineprotocol import encode
from polis.simulator.catalogue import catalogue as simulator_catalogue
from polis.simulator.config import Building, MeterRole, MunicipalityConfig
from polis.simulator.endpoints import bacnet_device_name, device_id, endpoint_layout
from polis.simulator.model import Simulation
from polis.simulator.plant import Trace

HEARTBEAT_S = 300.0


def catalogue_of(config: MunicipalityConfig) -> Catalogue:
    """The catalogue the simulator writes for ``config`` (fixed ports, 1 s polls)."""
    layout = endpoint_layout(config, "127.0.0.1", 47900)
    doc = simulator_catalogue(config, layout, modbus_poll_s=1.0, bacnet_poll_s=1.0)
    return parse_catalogue(doc, "simulated", complete=True)


def _outputs(trace: Trace, building: Building, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(heating, cooling) output in % of zone ``i`` after each step (the controller's law)."""
    zone = building.zones[i]
    band = zone.heat_pump.proportional_band_k
    temperature = trace.zone_temperatures_c[i]
    setpoint = trace.zone_setpoints_c[i]
    heat = np.clip((setpoint + band / 2 - temperature) / band, 0.0, 1.0)
    cool = np.clip(
        (temperature - (setpoint + building.cooling_offset_k - band / 2)) / band, 0.0, 1.0
    )
    if zone.heat_pump.cooling_capacity_kw <= 0:
        cool = np.zeros_like(cool)
    return 100.0 * heat, np.where(heat > 0, 0.0, 100.0 * cool)


@dataclass
class SimulatedReadings:
    """Readings of a simulated stretch, added chunk by chunk as the model runs."""

    config: MunicipalityConfig
    catalogue: Catalogue
    readings: MemoryReadings = field(default_factory=MemoryReadings)
    counters: dict[str, float] = field(default_factory=dict)

    def _pid(self, building: Building, device: str, point: str) -> str:
        return point_id(self.catalogue.municipality, building.id, device, point)

    def add_trace(self, building: Building, trace: Trace) -> None:
        t = trace.start + trace.step_seconds * np.arange(1, trace.steps + 1)
        bms = bacnet_device_name(building)
        add = self.readings.add
        add(self._pid(building, bms, "outdoor-air-temperature"), t, trace.outdoor_c)
        for i, zone in enumerate(building.zones):
            heat, cool = _outputs(trace, building, i)
            prefix = f"zone-{zone.id}"
            add(self._pid(building, bms, f"{prefix}-temperature"), t, trace.zone_temperatures_c[i])
            add(self._pid(building, bms, f"{prefix}-heating-output"), t, heat)
            add(self._pid(building, bms, f"{prefix}-cooling-output"), t, cool)
            add(
                self._pid(building, bms, f"{prefix}-heat-pump-status"),
                t,
                (heat + cool > 0).astype(float),
            )
        main = device_id(building, MeterRole.MAIN)
        power_kw = trace.channels_w[MeterRole.MAIN] / 1000.0
        add(self._pid(building, main, "total-power"), t, power_kw)
        for name, flow in (
            ("import-energy", np.clip(power_kw, 0, None)),
            ("export-energy", np.clip(-power_kw, 0, None)),
        ):
            pid = self._pid(building, main, name)
            total = self.counters.get(pid, 0.0) + np.cumsum(flow) * trace.step_seconds / 3600.0
            self.counters[pid] = float(total[-1])
            add(pid, t, total)

    def add_heartbeats(self, start: float, stop: float) -> None:
        """Every other point reports every five minutes."""
        simulated = set(self.readings.points())
        t = np.arange(start + HEARTBEAT_S, stop + 1, HEARTBEAT_S)
        for ref in self.catalogue.points():
            if ref.point_id not in simulated:
                self.readings.add(ref.point_id, t, np.zeros_like(t))


def lines(readings: MemoryReadings, catalogue: Catalogue) -> list[str]:
    """The readings as the adapter writes them to InfluxDB (measurement ``reading``)."""
    refs = {ref.point_id: ref for ref in catalogue.points()}
    out = []
    for pid in readings.points():
        ref = refs[pid]
        times, values, qualities = readings.rows(pid)
        for t, v, q in zip(times, values, qualities, strict=True):
            tags = {
                "municipality": ref.municipality,
                "neighbourhood": ref.neighbourhood,
                "building": ref.building,
                "device": ref.device,
                "point": pid,
                "quantity": ref.point.quantity.value,
                "unit": ref.point.unit,
                "quality": q,
            }
            sample = Sample(READING, tags, {"value": float(v)}, round(float(t) * 1e9))
            out.append(encode(sample))
    return out


def simulate(config: MunicipalityConfig, start: datetime, days: float) -> SimulatedReadings:
    """The model from ``start`` (with a day's warm-up before it) for ``days``."""
    warm = start - timedelta(days=1)
    sim = Simulation(config, warm)
    out = SimulatedReadings(config, catalogue_of(config))
    steps = int((days + 1) * 86400 // config.step_seconds)
    buildings = {b.id: b for b in config.buildings}
    for traces in sim.advance(steps):
        for bid, trace in traces.items():
            out.add_trace(buildings[bid], trace)
    out.add_heartbeats(warm.timestamp(), sim.time.timestamp())
    return out


@dataclass
class Outcome:
    raised: list[Assessment] = field(default_factory=list)
    cleared: list[Assessment] = field(default_factory=list)
    evaluations: int = 0

    def raised_above(self, severity: Severity) -> list[Assessment]:
        return [a for a in self.raised if a.severity.rank > severity.rank]

    def raises_per_key(self) -> Counter[AlarmKey]:
        return Counter(a.key for a in self.raised)


def evaluations(start: datetime, stop: datetime, every: timedelta) -> Iterator[datetime]:
    t = start
    while t <= stop:
        yield t
        t += every


def run_engine(
    engine: AlarmEngine, readings: MemoryReadings, start: datetime, stop: datetime, every: timedelta
) -> Outcome:
    """Evaluate from ``start`` to ``stop``, keeping the open alarms as the gateway would."""
    active: set[AlarmKey] = set()
    outcome = Outcome()
    for now in evaluations(start, stop, every):
        windows = readings.fetch(engine.plan(now))
        for transition in reconcile(engine.assess(now, windows), active):
            if transition.kind is TransitionKind.RAISED:
                active.add(transition.assessment.key)
                outcome.raised.append(transition.assessment)
            elif transition.kind is TransitionKind.CLEARED:
                active.discard(transition.assessment.key)
                outcome.cleared.append(transition.assessment)
        outcome.evaluations += 1
    return outcome


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)
