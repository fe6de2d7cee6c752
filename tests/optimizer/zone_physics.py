"""One zone of a simulated building stepped alone on the simulator's physics, as its own
sub-meter would see it.

The simulator meters the heat pumps of a building together; to give each zone its own
electric power, the building's drivers are computed as the simulator computes them and each
zone is stepped alone with its own share of the gains and its own heat pump's curves. The
zone histories of ``tests/optimizer/identify``, ``tests/optimizer/excitation`` and
``bench/identify_scale.py`` come from here: the simulator is the tests' truth, which the
product never imports for parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from polis.optimizer.identify import CopLine, CopSource, ZoneSeries
from polis.optimizer.identify.series import FloatArray
from polis.simulator.config import Building, MeterRole, MunicipalityConfig, Zone
from polis.simulator.drivers import Drivers, building_drivers, step_grid
from polis.simulator.loads import cop_line
from polis.simulator.plant import BuildingState, Commands, run
from polis.simulator.schedules import local_calendar
from polis.simulator.weather import Weather

START = datetime(2025, 1, 5, 22, tzinfo=UTC)  # Monday 6 January 2025, local midnight
STEP_HOURS = 0.25  # the series' step: the adapter's history as commissioning reads it


@dataclass(frozen=True)
class BuildingSpan:
    """A building's drivers over a span, computed as the simulator computes them."""

    building: Building
    times: FloatArray  # epoch seconds of each simulator step
    drivers: Drivers
    per_step: int  # simulator steps in one step of the series

    @property
    def steps(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class SteppedZone:
    zone: Zone  # the simulator's zone: its truth, for tests and benches only
    series: ZoneSeries
    setpoints_c: FloatArray  # the setpoint in force, per step of the series

    @property
    def r_k_per_kw(self) -> float:
        return 1000.0 / self.zone.ua_w_per_k

    @property
    def c_kwh_per_k(self) -> float:
        return self.zone.thermal_mass_kwh_per_k

    @property
    def tau_h(self) -> float:
        return self.r_k_per_kw * self.c_kwh_per_k

    @property
    def datasheet_cop(self) -> CopLine:
        """The heat pump's line as its data sheet gives it (the catalogue's)."""
        nominal, slope, _ = cop_line(self.zone)
        return CopLine(nominal, slope, CopSource.PRIOR)


def building_span(
    config: MunicipalityConfig, building: Building, days: float, start: datetime = START
) -> BuildingSpan:
    step = config.step_seconds
    times = step_grid(start.timestamp(), round(days * 24 * 3600 / step), step)
    sample = Weather(config.climate, config.seed).sample(times)
    calendar = local_calendar(times, config.climate.timezone)
    drivers = building_drivers(
        building, sample, calendar, times, step, config.seed, config.climate.timezone
    )
    return BuildingSpan(building, times, drivers, round(STEP_HOURS * 3600 / step))


def step_zone(
    span: BuildingSpan,
    zone_id: str,
    setpoints_c: FloatArray | None = None,
    extra_gains_w: FloatArray | None = None,
) -> SteppedZone:
    """Zone ``zone_id`` stepped alone over the span.

    ``setpoints_c``: the setpoint in force at each simulator step, in place of the building's
    schedule (None: the schedule and the zone's offset, as the building runs it).
    ``extra_gains_w``: gains added to the zone's own at each simulator step (W)."""
    building, drivers = span.building, span.drivers
    i, zone = next((i, z) for i, z in enumerate(building.zones) if z.id == zone_id)
    gains = drivers.zone_gains_w[i]
    changes: dict[str, Any] = {
        "zone_gains_w": [gains if extra_gains_w is None else gains + extra_gains_w],
        "heat_pumps": [drivers.heat_pumps[i]],
    }
    if drivers.zone_faults is not None:
        changes["zone_faults"] = [drivers.zone_faults[i]]
    if setpoints_c is not None:
        # the plant adds the zone's offset to the building's schedule
        changes["heating_schedule_c"] = np.asarray(setpoints_c) - zone.setpoint_offset_k
    alone = building.model_copy(update={"zones": [zone]})
    trace = run(
        alone, BuildingState.initial(alone, span.times[0]), replace(drivers, **changes), Commands()
    )
    per = span.per_step
    temps = np.concatenate([[zone.initial_temperature_c], trace.zone_temperatures_c[0]])
    # The controller's mode, as its BMS reports it: it heats below the setpoint plus half a
    # band, and whatever it draws otherwise is cooling.
    heating = trace.zone_setpoints_c[0] + zone.heat_pump.proportional_band_k / 2 > temps[:-1]
    power = trace.channels_w[MeterRole.HVAC]
    series = ZoneSeries(
        step_hours=STEP_HOURS,
        temperature_c=temps[:-1:per].copy(),
        outdoor_c=step_means(drivers.outdoor_c, per),
        power_kw=step_means(np.where(heating, power, 0.0), per) / 1000.0,
        cooling_power_kw=step_means(np.where(heating, 0.0, power), per) / 1000.0,
        irradiance_w_m2=step_means(drivers.ghi_w_m2, per),
        occupancy=step_means(drivers.occupancy, per),
    )
    setpoints = np.asarray(trace.zone_setpoints_c[0][::per], dtype=np.float64)
    return SteppedZone(zone, series, setpoints)


def step_means(values: FloatArray, per: int) -> FloatArray:
    """Means of ``per`` simulator steps: the series' steps."""
    means: FloatArray = np.asarray(values, dtype=np.float64).reshape(-1, per).mean(axis=1)
    return means
