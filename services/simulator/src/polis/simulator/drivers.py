"""Exogenous inputs of one building over a grid of steps (pure, vectorised).

Everything here depends only on the configuration, the seed and the instant — never on the
building's state or on commands — so it is computed for a whole chunk of steps at once with
numpy, and the sequential part of the model (``plant``) stays small.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from polis.simulator.config import Building, EvChargers, HeatPump
from polis.simulator.schedules import LocalCalendar, evaluate, local_calendar
from polis.simulator.weather import WeatherSample

if TYPE_CHECKING:
    from polis.simulator.fault_effects import ZoneFaults

FloatArray = NDArray[np.float64]
_EV_STREAM = 3
KELVIN = 273.15
# The configured daily hot-water volume is drawn over ten fully occupied hours.
DHW_FULL_DAY_SECONDS = 10 * 3600.0


@dataclass(frozen=True)
class HeatPumpCurves:
    """Per-step capacity and efficiency of one zone's heat pump."""

    heating_capacity_w: FloatArray
    cooling_capacity_w: FloatArray
    cop: FloatArray
    eer: FloatArray


@dataclass(frozen=True)
class EvSessions:
    """Per charger and step: session key (-1 = no car) and the energy that session needs."""

    key: NDArray[np.int64]  # (chargers, steps)
    energy_wh: FloatArray  # (chargers, steps)


@dataclass(frozen=True)
class Drivers:
    start: float
    step_seconds: float
    outdoor_c: FloatArray
    ghi_w_m2: FloatArray
    occupancy: FloatArray
    heating_schedule_c: FloatArray
    lighting_w: FloatArray
    plug_w: FloatArray
    zone_gains_w: list[FloatArray]  # internal + solar gains per zone
    heat_pumps: list[HeatPumpCurves]
    dhw_draw_l_per_s: FloatArray
    pool_schedule: FloatArray
    pv_w: FloatArray
    ev: EvSessions | None
    # injected faults (polis.simulator.fault_effects): per zone, None where it has none
    zone_faults: list[ZoneFaults | None] | None = None
    charger_faulted: NDArray[np.bool_] | None = None  # (chargers, steps)

    @property
    def steps(self) -> int:
        return len(self.outdoor_c)


def heat_pump_curves(pump: HeatPump, outdoor_c: FloatArray) -> HeatPumpCurves:
    """Carnot-fraction COP/EER and a capacity that derates in the cold."""
    source_k = outdoor_c + KELVIN - 5.0  # evaporator runs ~5 K below outdoor air
    sink_k = pump.supply_temperature_c + KELVIN
    cop = pump.carnot_efficiency * sink_k / np.maximum(sink_k - source_k, 5.0)
    chilled_k = 7.0 + KELVIN
    condenser_k = outdoor_c + KELVIN + 10.0
    eer = 0.9 * pump.carnot_efficiency * chilled_k / np.maximum(condenser_k - chilled_k, 5.0)
    derate = np.clip(1.0 + 0.015 * (outdoor_c - 7.0), 0.55, 1.1)
    cool_derate = np.clip(1.0 - 0.01 * (outdoor_c - 35.0), 0.7, 1.1)
    return HeatPumpCurves(
        heating_capacity_w=pump.heating_capacity_kw * 1000.0 * derate,
        cooling_capacity_w=pump.cooling_capacity_kw * 1000.0 * cool_derate,
        cop=np.clip(cop, 1.3, 7.0),
        eer=np.clip(eer, 1.5, 8.0),
    )


def _building_key(building_id: str) -> int:
    return zlib.crc32(building_id.encode("utf-8"))


def _local_midnight(day: int, zone: ZoneInfo) -> float:
    """Epoch seconds of local midnight of the local calendar day ``day`` (days since epoch)."""
    noon = datetime.fromtimestamp(day * 86_400 + 43_200, tz=UTC).astimezone(zone)
    offset = noon.utcoffset()
    seconds = 0.0 if offset is None else offset.total_seconds()
    return day * 86_400.0 - seconds


def ev_sessions(
    chargers: EvChargers, building_id: str, seed: int, timezone: str, t: FloatArray
) -> EvSessions:
    """Seeded charging sessions: at most one per charger and local day."""
    zone = ZoneInfo(timezone)
    n = len(t)
    key = np.full((chargers.count, n), -1, dtype=np.int64)
    energy = np.zeros((chargers.count, n), dtype=np.float64)
    workdays = {d.number for d in chargers.days}
    first_day = int(np.floor(t[0] / 86_400.0)) - 2
    last_day = int(np.floor(t[-1] / 86_400.0)) + 1
    bkey = _building_key(building_id)
    for day in range(first_day, last_day + 1):
        if (day + 3) % 7 not in workdays:
            continue
        midnight = _local_midnight(day, zone)
        for c in range(chargers.count):
            rng = np.random.default_rng([seed & 0xFFFFFFFF, _EV_STREAM, bkey, c, day + 1_000_000])
            u_present, z_arrival, u_stay, u_energy = (
                rng.random(),
                *rng.standard_normal(1),
                *rng.random(2),
            )
            if u_present >= chargers.probability:
                continue
            arrival_h = np.clip(
                chargers.arrival_hour_mean + chargers.arrival_hour_sd * z_arrival, 0, 23.5
            )
            stay_h = chargers.stay_hours_mean * (0.6 + 0.8 * u_stay)
            arrive = midnight + arrival_h * 3600.0
            depart = arrive + stay_h * 3600.0
            present = (t >= arrive) & (t < depart)
            if not present.any():
                continue
            key[c, present] = day
            needed = (
                chargers.energy_kwh_min
                + (chargers.energy_kwh_max - chargers.energy_kwh_min) * u_energy
            )
            energy[c, present] = needed * 1000.0
    return EvSessions(key=key, energy_wh=energy)


def building_drivers(
    building: Building,
    weather: WeatherSample,
    calendar: LocalCalendar,
    t: FloatArray,
    step_seconds: float,
    seed: int,
    timezone: str,
) -> Drivers:
    """All exogenous inputs of ``building`` at the step starts ``t``."""
    outdoor = weather.temperature_c
    ghi = weather.ghi_w_m2
    occupancy = evaluate(building.occupancy, calendar)
    heating = evaluate(building.heating_setpoint, calendar)
    area = building.floor_area_m2
    daylight = np.clip(ghi / 500.0, 0.0, 1.0)
    lighting = (
        building.lighting_w_per_m2 * area * (0.05 + 0.95 * occupancy) * (1.0 - 0.4 * daylight)
    )
    plug = (
        building.plug_w_per_m2
        * area
        * (building.plug_base_fraction + (1.0 - building.plug_base_fraction) * occupancy)
    )
    people = building.occupant_gain_w_per_m2 * area * occupancy
    internal = lighting + plug + people
    zone_area = sum(z.floor_area_m2 for z in building.zones)
    gains = [
        internal * (z.floor_area_m2 / zone_area) + z.solar_aperture_m2 * ghi for z in building.zones
    ]
    pumps = [heat_pump_curves(z.heat_pump, outdoor) for z in building.zones]
    zeros = np.zeros_like(t)
    dhw = (
        building.hot_water.daily_draw_l * occupancy / DHW_FULL_DAY_SECONDS
        if building.hot_water
        else zeros
    )
    pool = evaluate(building.pool.schedule, calendar) if building.pool else zeros
    if building.pv:
        cell_c = outdoor + 0.03 * ghi
        pv = (
            building.pv.peak_kw
            * ghi
            * building.pv.performance_ratio
            * (1.0 + building.pv.temperature_coefficient_per_k * (cell_c - 25.0))
        )
    else:
        pv = zeros
    ev = (
        ev_sessions(building.ev_chargers, building.id, seed, timezone, t)
        if building.ev_chargers
        else None
    )
    return Drivers(
        start=float(t[0]),
        step_seconds=step_seconds,
        outdoor_c=outdoor,
        ghi_w_m2=ghi,
        occupancy=occupancy,
        heating_schedule_c=heating,
        lighting_w=lighting,
        plug_w=plug,
        zone_gains_w=gains,
        heat_pumps=pumps,
        dhw_draw_l_per_s=dhw,
        pool_schedule=pool,
        pv_w=np.clip(pv, 0.0, None),
        ev=ev,
    )


def step_grid(start: float, steps: int, step_seconds: float) -> FloatArray:
    return start + step_seconds * np.arange(steps, dtype=np.float64)


def calendar_for(t: FloatArray, timezone: str) -> LocalCalendar:
    return local_calendar(t, timezone)
