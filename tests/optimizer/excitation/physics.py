"""One simulated zone under a setpoint trace of the test's choosing, on the simulator's physics.

The zone is stepped alone as ``optimizer/zone_physics.py`` steps it; here the setpoint in
force at every step is given (the building's schedule is replaced by it), so a constant
setpoint and an excitation schedule run on the same physics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from optimizer.zone_physics import START, building_span, step_zone
from polis.common.catalogue.loads import ZoneConfig
from polis.optimizer.excitation.schedule import Schedule
from polis.optimizer.identify import CopLine, ZoneSeries
from polis.optimizer.identify.series import FloatArray
from polis.simulator.config import load_config
from polis.simulator.loads import zone_load

__all__ = [
    "START",
    "TIMEZONE",
    "SetpointTrace",
    "SimulatedZone",
    "catalogue_zone",
    "constant",
    "following",
    "simulate_zone",
]

TIMEZONE = "Europe/Athens"

# epoch seconds of each simulator step -> the zone's setpoint there (°C)
SetpointTrace = Callable[[FloatArray], FloatArray]


@dataclass(frozen=True)
class SimulatedZone:
    series: ZoneSeries
    setpoints_c: FloatArray  # the setpoint in force, per 15-minute step
    tau_h: float  # truth, for the tests only
    datasheet_cop: CopLine


def catalogue_zone(building_id: str, zone_id: str, **changes: object) -> ZoneConfig:
    """The zone's hvac load as the simulator's catalogue gives it, with ``changes``."""
    config = load_config()
    building = next(b for b in config.buildings if b.id == building_id)
    zone = next(z for z in building.zones if z.id == zone_id)
    return ZoneConfig.model_validate({**zone_load(building, zone), **changes})


def constant(setpoint_c: float) -> SetpointTrace:
    return lambda t: np.full(len(t), setpoint_c)


def following(schedule: Schedule, otherwise_c: float) -> SetpointTrace:
    """The schedule's setpoints where it commands one, ``otherwise_c`` elsewhere."""

    def trace(t: FloatArray) -> FloatArray:
        out = np.full(len(t), otherwise_c)
        for step in schedule.writes():
            assert step.setpoint_c is not None
            inside = (t >= step.start.timestamp()) & (t < step.end.timestamp())
            out[inside] = step.setpoint_c
        return out

    return trace


def simulate_zone(
    building_id: str,
    zone_id: str,
    days: int,
    setpoint: SetpointTrace | None,
    start: datetime = START,
    unmeasured_gains_k: float = 0.0,
    seed: int = 7,
) -> SimulatedZone:
    """``setpoint`` None: the building's own schedule. ``unmeasured_gains_k``: gains no
    point measures (people beyond the schedule, doors, appliances), an AR(1) process with a
    2 h correlation time whose standard deviation would move the zone's steady state by this
    many kelvin."""
    config = load_config()
    building = next(b for b in config.buildings if b.id == building_id)
    zone = next(z for z in building.zones if z.id == zone_id)
    span = building_span(config, building, days, start)
    n = span.steps
    rng = np.random.default_rng(seed)
    keep = np.exp(-span.drivers.step_seconds / 7200.0)
    noise = rng.normal(0.0, np.sqrt(1 - keep**2), n)
    unmeasured = np.zeros(n)
    for k in range(1, n):
        unmeasured[k] = keep * unmeasured[k - 1] + noise[k]
    unmeasured *= unmeasured_gains_k * zone.ua_w_per_k
    setpoints = None if setpoint is None else setpoint(np.asarray(span.times, dtype=np.float64))
    stepped = step_zone(span, zone_id, setpoints_c=setpoints, extra_gains_w=unmeasured)
    return SimulatedZone(stepped.series, stepped.setpoints_c, stepped.tau_h, stepped.datasheet_cop)
