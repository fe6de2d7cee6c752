"""One simulated zone under a setpoint trace of the test's choosing, on the simulator's physics.

As ``tests/optimizer/identify/simulated.py`` does for the buildings' own schedules: the
building's drivers are computed as the simulator computes them and the zone is stepped alone
with its own share of gains and its own heat pump; here the setpoint in force at every step
is given (the building's schedule is replaced by it), so a constant setpoint and an
excitation schedule run on the same physics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from polis.common.catalogue.loads import ZoneConfig
from polis.optimizer.excitation.schedule import Schedule
from polis.optimizer.identify import CopLine, CopSource, ZoneSeries
from polis.optimizer.identify.series import FloatArray
from polis.simulator.config import MeterRole, load_config
from polis.simulator.drivers import building_drivers, step_grid
from polis.simulator.loads import cop_line, zone_load
from polis.simulator.plant import BuildingState, Commands, run
from polis.simulator.schedules import local_calendar
from polis.simulator.weather import Weather

START = datetime(2025, 1, 5, 22, tzinfo=UTC)  # Monday 6 January 2025, local midnight
STEP_HOURS = 0.25
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
    step = config.step_seconds
    per = round(STEP_HOURS * 3600 / step)
    n = round(days * 24 * 3600 / step)
    t = step_grid(start.timestamp(), n, step)
    sample = Weather(config.climate, config.seed).sample(t)
    calendar = local_calendar(t, config.climate.timezone)
    building = next(b for b in config.buildings if b.id == building_id)
    i, zone = next((i, z) for i, z in enumerate(building.zones) if z.id == zone_id)
    drivers = building_drivers(
        building, sample, calendar, t, step, config.seed, config.climate.timezone
    )
    alone = building.model_copy(update={"zones": [zone]})
    own_setpoints = drivers.heating_schedule_c + zone.setpoint_offset_k
    setpoints = own_setpoints if setpoint is None else setpoint(np.asarray(t, dtype=np.float64))
    rng = np.random.default_rng(seed)
    keep = np.exp(-step / 7200.0)
    noise = rng.normal(0.0, np.sqrt(1 - keep**2), n)
    unmeasured = np.zeros(n)
    for k in range(1, n):
        unmeasured[k] = keep * unmeasured[k - 1] + noise[k]
    unmeasured *= unmeasured_gains_k * zone.ua_w_per_k
    own = replace(
        drivers,
        zone_gains_w=[drivers.zone_gains_w[i] + unmeasured],
        heat_pumps=[drivers.heat_pumps[i]],
        # the plant adds the zone's offset to the building's schedule
        heating_schedule_c=setpoints - zone.setpoint_offset_k,
    )
    trace = run(alone, BuildingState.initial(alone, t[0]), own, Commands())
    temps = np.concatenate([[zone.initial_temperature_c], trace.zone_temperatures_c[0]])
    heating = trace.zone_setpoints_c[0] + zone.heat_pump.proportional_band_k / 2 > temps[:-1]
    power = trace.channels_w[MeterRole.HVAC]
    series = ZoneSeries(
        step_hours=STEP_HOURS,
        temperature_c=temps[:-1:per].copy(),
        outdoor_c=_mean(drivers.outdoor_c, per),
        power_kw=_mean(np.where(heating, power, 0.0), per) / 1000.0,
        cooling_power_kw=_mean(np.where(heating, 0.0, power), per) / 1000.0,
        irradiance_w_m2=_mean(drivers.ghi_w_m2, per),
        occupancy=_mean(drivers.occupancy, per),
    )
    nominal, slope, _ = cop_line(zone)
    r = 1000.0 / zone.ua_w_per_k
    return SimulatedZone(
        series,
        np.asarray(setpoints[::per], dtype=np.float64),
        r * zone.thermal_mass_kwh_per_k,
        CopLine(nominal, slope, CopSource.PRIOR),
    )


def _mean(values: FloatArray, per: int) -> FloatArray:
    means: FloatArray = np.asarray(values, dtype=np.float64).reshape(-1, per).mean(axis=1)
    return means
