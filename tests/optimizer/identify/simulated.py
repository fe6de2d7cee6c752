"""Zone histories from the simulator's own physics, one zone at a time.

The simulator meters the heat pumps of a building together; to give each zone its own
electric power, the building's drivers are computed as the simulator computes them and each
zone is stepped alone with its own share of gains and its own heat pump curves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from polis.optimizer.identify import CopLine, CopSource, ZoneSeries
from polis.optimizer.identify.series import FloatArray
from polis.simulator.config import Building, MeterRole, Zone, load_config
from polis.simulator.drivers import building_drivers, step_grid
from polis.simulator.loads import cop_line
from polis.simulator.plant import BuildingState, Commands, run
from polis.simulator.schedules import local_calendar
from polis.simulator.weather import Weather

START = datetime(2025, 1, 5, 22, tzinfo=UTC)  # Monday 6 January 2025, local midnight
STEP_HOURS = 0.25


@dataclass(frozen=True)
class SimulatedZone:
    building: str
    zone: str
    series: ZoneSeries
    tau_h: float  # truth, for the tests only
    r_k_per_kw: float
    c_kwh_per_k: float
    datasheet_cop: CopLine  # what the heat pump's data sheet gives (the catalogue's line)


def _single(building: Building, zone: Zone) -> Building:
    return building.model_copy(update={"zones": [zone]})


def zone_histories(
    days: int, start: datetime = START, constant_setpoint_c: float | None = None
) -> list[SimulatedZone]:
    """Every zone of the default municipality over ``days`` from ``start``, on its own
    schedules or held at ``constant_setpoint_c``."""
    config = load_config()
    step = config.step_seconds
    per = round(STEP_HOURS * 3600 / step)
    n = round(days * 24 * 3600 / step)
    t = step_grid(start.timestamp(), n, step)
    sample = Weather(config.climate, config.seed).sample(t)
    calendar = local_calendar(t, config.climate.timezone)
    out: list[SimulatedZone] = []
    for building in config.buildings:
        drivers = building_drivers(
            building, sample, calendar, t, step, config.seed, config.climate.timezone
        )
        for i, zone in enumerate(building.zones):
            alone = _single(building, zone)
            own = replace(
                drivers, zone_gains_w=[drivers.zone_gains_w[i]], heat_pumps=[drivers.heat_pumps[i]]
            )
            state = BuildingState.initial(alone, t[0])
            commands = Commands(heating_setpoints_c={zone.id: constant_setpoint_c})
            trace = run(alone, state, own, commands)
            temps = np.concatenate([[zone.initial_temperature_c], trace.zone_temperatures_c[0]])
            # The controller's mode, as its BMS reports it: it heats below the setpoint plus
            # half a band, and whatever it draws otherwise is cooling.
            heating = (
                trace.zone_setpoints_c[0] + zone.heat_pump.proportional_band_k / 2 > temps[:-1]
            )
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
            out.append(
                SimulatedZone(
                    building.id,
                    zone.id,
                    series,
                    r * zone.thermal_mass_kwh_per_k,
                    r,
                    zone.thermal_mass_kwh_per_k,
                    CopLine(nominal, slope, CopSource.PRIOR),
                )
            )
    return out


def _mean(values: FloatArray, per: int) -> FloatArray:
    means: FloatArray = np.asarray(values, dtype=np.float64).reshape(-1, per).mean(axis=1)
    return means


def sensor(temperature_c: FloatArray, resolution_k: float, noise_k: float, seed: int) -> FloatArray:
    """A room sensor's readings of the simulated temperature: white noise of ``noise_k``
    (standard deviation) and steps of ``resolution_k`` (0 for none)."""
    rng = np.random.default_rng(seed)
    noisy = (
        temperature_c + rng.normal(0.0, noise_k, len(temperature_c)) if noise_k else temperature_c
    )
    if not resolution_k:
        return np.asarray(noisy, dtype=np.float64)
    readings: FloatArray = np.round(noisy / resolution_k) * resolution_k
    return readings


@dataclass(frozen=True)
class SimulatedPv:
    generation_kw: FloatArray  # the generation meter: export, negative
    irradiance_w_m2: FloatArray
    peak_kw: float  # truth, for the tests only


def pv_history(days: int, building_id: str = "depot", start: datetime = START) -> SimulatedPv:
    """The generation meter and global irradiance of a building with PV, 15-minute means."""
    config = load_config()
    building = next(b for b in config.buildings if b.id == building_id)
    assert building.pv is not None
    step = config.step_seconds
    per = round(STEP_HOURS * 3600 / step)
    t = step_grid(start.timestamp(), round(days * 24 * 3600 / step), step)
    sample = Weather(config.climate, config.seed).sample(t)
    calendar = local_calendar(t, config.climate.timezone)
    drivers = building_drivers(
        building, sample, calendar, t, step, config.seed, config.climate.timezone
    )
    return SimulatedPv(
        generation_kw=-_mean(drivers.pv_w, per) / 1000.0,
        irradiance_w_m2=_mean(drivers.ghi_w_m2, per),
        peak_kw=building.pv.peak_kw,
    )
