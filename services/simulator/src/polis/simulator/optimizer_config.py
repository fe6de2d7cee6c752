"""The optimizer configuration that describes the simulated municipality (pure, no I/O).

``optimizer_config(municipality)`` maps every building of the simulator's configuration to
the YAML schema of ``polis.optimizer.config`` (which validates it on load; this module does
not import the optimizer):

- **Zones** become ``hvac`` loads: R = 1/UA, C = thermal mass, a COP line fitted to the
  simulator's Carnot-fraction curve over winter temperatures, an electric limit the derated
  thermal capacity covers at every winter temperature, internal gains (occupied and not),
  the zone's solar aperture (the optimizer multiplies it by its irradiance forecast), and a
  comfort band per occupancy
  period from the building's schedules. The *comfort band* used to judge the result
  (:func:`comfort_lo_c`) starts half a proportional band below the building's own setpoint,
  where its controller already runs at full output. The zone's controller settles up to half
  a band below a commanded setpoint under load, so the optimizer's lower bound is the
  building's setpoint itself, and its upper bound only 1 K above: a wide band let it store
  heat at night that the real zones then lost (measured in the closed-loop test: 420 → 413
  EUR for the day). The zone's ``controller`` is the heat pump's proportional band and, for
  a heat pump that cools, the building's cooling offset, so the optimizer commands floating
  zones where they neither heat nor cool. The command point is the zone's heating setpoint.
- **Hot-water tanks** become ``water_heater`` loads on an energy scale relative to cold
  water, between 52 °C and the thermostat cut-out; the command point is the heater enable.
- **Pool pumps** become ``pump`` loads inside the pump's schedule (the simulator cannot run
  the pump outside it), commanded through the pump enable.
- **EV chargers** become one ``ev_charger`` load with the mean session of the fleet, and the
  **battery** a ``battery`` load. Neither has a command point: the simulated chargers charge
  at their limit once enabled and the battery runs its own self-consumption control, so the
  optimizer plans around them without commanding them.
- **PV** and the non-flexible **base load** (lighting, plug loads) per building; a Greek-style
  time-of-use **tariff** (cheap night, expensive evening peak) with hourly CO2 intensity.

Point ids follow the building adapter: ``municipality/building/device/point`` with the
device ``<building>-bms`` and the BACnet object names slugged (``zone-offices-heating-setpoint``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from typing import Any

import numpy as np

from polis.simulator.config import Building, MunicipalityConfig, Period, WeeklySchedule, Zone
from polis.simulator.drivers import DHW_FULL_DAY_SECONDS, heat_pump_curves
from polis.simulator.plant import ROOM_C, WATER_J_PER_L_K

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES = 15
# Winter outdoor temperatures over which the heat pump's COP line and power limit are fitted.
WINTER_C = np.linspace(-8.0, 18.0, 53)
OCCUPIED_FRACTION = 0.2  # occupancy at or above this is an occupied period
TANK_MIN_C = 52.0
CAPACITY_MARGIN = 0.9  # of the derated capacity the optimizer may plan with
COMFORT_SPAN_K = 1.0  # upper comfort bound above the setpoint
SETBACK_MARGIN_K = 2.0  # the optimizer may set back this far below the building's own setback

# A Greek-style commercial time-of-use tariff (EUR/kWh, energy + network charges).
TARIFF_ID = "gr-tou"
NIGHT_EUR = 0.115  # 23:00-07:00
DAY_EUR = 0.185  # 07:00-17:00 and 21:00-23:00
PEAK_EUR = 0.265  # 17:00-21:00
FEED_IN_EUR = 0.06
# Hourly CO2 intensity of the Greek grid (kg/kWh): lower around the solar noon.
CO2_KG_PER_KWH = (
    0.44, 0.43, 0.42, 0.42, 0.42, 0.43, 0.45, 0.46, 0.42, 0.36, 0.30, 0.27,
    0.26, 0.27, 0.30, 0.35, 0.41, 0.47, 0.50, 0.50, 0.49, 0.47, 0.46, 0.45,
)  # fmt: skip


def price_at(local_hour: float) -> float:
    """The tariff's import price at a local time of day (hours, 0 <= h < 24)."""
    if 17.0 <= local_hour < 21.0:
        return PEAK_EUR
    if 7.0 <= local_hour < 23.0:
        return DAY_EUR
    return NIGHT_EUR


def tariff() -> dict[str, Any]:
    return {
        "id": TARIFF_ID,
        "default_price_eur_per_kwh": NIGHT_EUR,
        "periods": [
            {"start": "07:00", "end": "23:00", "price_eur_per_kwh": DAY_EUR},
            {"start": "17:00", "end": "21:00", "price_eur_per_kwh": PEAK_EUR},
        ],
        "feed_in_eur_per_kwh": FEED_IN_EUR,
        "co2_kg_per_kwh": list(CO2_KG_PER_KWH),
    }


def savings_rates() -> dict[str, str]:
    """The same tariff and hourly CO2 intensity as the savings service's settings (env).

    Savings are then valued at the prices the optimizer planned with, hour by hour.
    """

    def hhmm(hour: int) -> str:
        return f"{hour:02d}:00"

    tariff = {
        "rate": NIGHT_EUR,
        "periods": [
            {"start": "07:00", "end": "17:00", "rate": DAY_EUR},
            {"start": "17:00", "end": "21:00", "rate": PEAK_EUR},
            {"start": "21:00", "end": "23:00", "rate": DAY_EUR},
        ],
    }
    co2 = {
        "rate": CO2_KG_PER_KWH[0],
        "periods": [
            {"start": hhmm(h), "end": hhmm(h + 1), "rate": CO2_KG_PER_KWH[h]} for h in range(1, 24)
        ],
    }
    return {
        "POLIS_SAVINGS_TARIFF": json.dumps([tariff]),
        "POLIS_SAVINGS_EMISSION_FACTOR": json.dumps([co2]),
    }


# -- point ids ------------------------------------------------------------------------------
def bms_point(municipality: str, building: Building, object_name: str) -> str:
    return f"{municipality}/{building.id}/{building.id}-bms/{object_name}"


def zone_setpoint_point(municipality: str, building: Building, zone: Zone) -> str:
    return bms_point(municipality, building, f"zone-{zone.id}-heating-setpoint")


def zone_temperature_point(municipality: str, building: Building, zone: Zone) -> str:
    return bms_point(municipality, building, f"zone-{zone.id}-temperature")


def main_meter_point(municipality: str, building: Building) -> str:
    return f"{municipality}/{building.id}/{building.id}-main/total_power"


# -- schedules on a 15-minute weekly grid ---------------------------------------------------
def _value(schedule: WeeklySchedule, day: int, minute: int) -> float:
    """The schedule's value (closures ignored); later periods win, as in the simulator."""
    value = schedule.default
    for period in schedule.periods:
        if DAY_NAMES[day] not in {d.value for d in period.days}:
            continue
        start = period.start.hour * 60 + period.start.minute
        end = period.end.hour * 60 + period.end.minute
        if start <= minute < end:
            value = period.value
    return value


def _hhmm(minute: int) -> str:
    return "00:00" if minute >= 24 * 60 else f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class ComfortWindow:
    day: str
    start_minute: int
    end_minute: int
    setpoint_c: float  # the building's own heating setpoint + zone offset


def comfort_windows(building: Building, zone: Zone) -> list[ComfortWindow]:
    """Occupied 15-minute runs of each weekday with a constant own setpoint."""
    out: list[ComfortWindow] = []
    for day in range(7):
        current: ComfortWindow | None = None
        for minute in range(0, 24 * 60, SLOT_MINUTES):
            occupied = _value(building.occupancy, day, minute) >= OCCUPIED_FRACTION
            sp = _value(building.heating_setpoint, day, minute) + zone.setpoint_offset_k
            if occupied and current is not None and current.setpoint_c == sp:
                current = ComfortWindow(current.day, current.start_minute, minute + 15, sp)
                continue
            if current is not None:
                out.append(current)
                current = None
            if occupied:
                current = ComfortWindow(DAY_NAMES[day], minute, minute + SLOT_MINUTES, sp)
        if current is not None:
            out.append(current)
    return out


def comfort_lo_c(building: Building, zone: Zone, day: int, minute: int) -> float | None:
    """The comfort band's lower bound while occupied (``None`` when unoccupied): the
    building's own setpoint less half the controller's proportional band."""
    if _value(building.occupancy, day, minute) < OCCUPIED_FRACTION:
        return None
    sp = _value(building.heating_setpoint, day, minute) + zone.setpoint_offset_k
    return sp - zone.heat_pump.proportional_band_k / 2.0


# -- physics mapped to the optimizer's models ----------------------------------------------
def cop_line(zone: Zone) -> tuple[float, float, float]:
    """(cop at 7 °C, slope per K, 7.0): least-squares line through the simulator's COP."""
    curves = heat_pump_curves(zone.heat_pump, WINTER_C)
    slope, intercept = np.polyfit(WINTER_C - 7.0, curves.cop, 1)
    return float(intercept), float(slope), 7.0


def max_electric_kw(zone: Zone) -> float:
    """An electric limit whose heat output (with the fitted COP) the derated heat pump
    delivers at every winter temperature."""
    nominal, slope, ref = cop_line(zone)
    curves = heat_pump_curves(zone.heat_pump, WINTER_C)
    cop = np.clip(nominal + slope * (WINTER_C - ref), 1.0, 7.0)
    return float(CAPACITY_MARGIN * np.min(curves.heating_capacity_w / 1000.0 / cop))


def _internal_gains_kw(building: Building, zone: Zone, occupancy: float) -> float:
    """Lighting (with full daylight dimming), plug loads and people, the zone's share."""
    area = building.floor_area_m2
    lighting = building.lighting_w_per_m2 * area * (0.05 + 0.95 * occupancy) * 0.6
    base = building.plug_base_fraction
    plug = building.plug_w_per_m2 * area * (base + (1.0 - base) * occupancy)
    people = building.occupant_gain_w_per_m2 * area * occupancy
    share = zone.floor_area_m2 / sum(z.floor_area_m2 for z in building.zones)
    return (lighting + plug + people) * share / 1000.0


def _occupied_fraction(building: Building) -> float:
    """The lowest occupancy of an occupied weekday slot (gains err low)."""
    values = [
        _value(building.occupancy, d, m)
        for d in range(5)
        for m in range(0, 24 * 60, SLOT_MINUTES)
        if _value(building.occupancy, d, m) >= OCCUPIED_FRACTION
    ]
    return min(values) if values else 0.0


def zone_load(municipality: str, building: Building, zone: Zone) -> dict[str, Any]:
    nominal, slope, ref = cop_line(zone)
    setback = building.heating_setpoint.default + zone.setpoint_offset_k
    return {
        "kind": "hvac",
        "id": zone.id,
        "mode": "heat",
        "r_k_per_kw": round(1000.0 / zone.ua_w_per_k, 6),
        "c_kwh_per_k": zone.thermal_mass_kwh_per_k,
        "max_kw": round(max_electric_kw(zone), 2),
        "cop_nominal": round(nominal, 4),
        "cop_slope_per_k": round(slope, 5),
        "cop_reference_c": ref,
        "occupied": [
            {
                "days": [w.day],
                "start": _hhmm(w.start_minute),
                "end": _hhmm(w.end_minute),
                "lo_c": w.setpoint_c,
                "hi_c": w.setpoint_c + COMFORT_SPAN_K,
            }
            for w in comfort_windows(building, zone)
        ],
        "unoccupied_lo_c": setback - SETBACK_MARGIN_K,
        "unoccupied_hi_c": max(
            w.setpoint_c + COMFORT_SPAN_K for w in comfort_windows(building, zone)
        )
        if comfort_windows(building, zone)
        else setback + COMFORT_SPAN_K,
        "comfort_penalty_eur_per_kh": 5.0,
        "solar_aperture_m2": zone.solar_aperture_m2,
        "gains_occupied_kw": round(
            _internal_gains_kw(building, zone, _occupied_fraction(building)), 3
        ),
        "gains_unoccupied_kw": round(
            _internal_gains_kw(building, zone, building.occupancy.default), 3
        ),
        "initial_temp_c": zone.initial_temperature_c,
        "controller": {
            "proportional_band_k": zone.heat_pump.proportional_band_k,
            "cooling_offset_k": building.cooling_offset_k
            if zone.heat_pump.cooling_capacity_kw > 0
            else None,
        },
        "command_point": zone_setpoint_point(municipality, building, zone),
        "temperature_point": zone_temperature_point(municipality, building, zone),
    }


def tank_kwh(volume_l: float, temperature_c: float, cold_c: float) -> float:
    """Stored heat above cold water, kWh."""
    return volume_l * WATER_J_PER_L_K * (temperature_c - cold_c) / 3.6e6


def tank_load(municipality: str, building: Building) -> dict[str, Any]:
    hw = building.hot_water
    assert hw is not None
    mean_c = (TANK_MIN_C + hw.setpoint_c) / 2.0
    draw = []
    for hour in range(24):
        occupancy = np.mean([_value(building.occupancy, 0, hour * 60 + m) for m in (0, 15, 30, 45)])
        litres = hw.daily_draw_l * float(occupancy) * 3600.0 / DHW_FULL_DAY_SECONDS
        draw.append(round(tank_kwh(litres, mean_c, hw.cold_water_c), 4))
    return {
        "kind": "water_heater",
        "id": "dhw",
        "min_kwh": round(tank_kwh(hw.volume_l, TANK_MIN_C, hw.cold_water_c), 3),
        "max_kwh": round(tank_kwh(hw.volume_l, hw.setpoint_c, hw.cold_water_c), 3),
        "initial_kwh": round(tank_kwh(hw.volume_l, hw.setpoint_c, hw.cold_water_c), 3),
        "heater_kw": hw.heater_kw,
        "daily_draw_kwh": draw,
        "loss_kw": round(hw.standby_loss_w_per_k * (mean_c - ROOM_C) / 1000.0, 4),
        "on_off": True,
        "command_point": bms_point(municipality, building, "dhw-heater-enable"),
        "temperature_point": bms_point(municipality, building, "dhw-tank-temperature"),
        "volume_l": hw.volume_l,
        "cold_water_c": hw.cold_water_c,
    }


def pump_load(municipality: str, building: Building) -> dict[str, Any]:
    pool = building.pool
    assert pool is not None
    on = [p for p in pool.schedule.periods if p.value > 0]
    window: Period = on[0] if on else Period(start=time(0, 0), end=time(23, 59), value=1)
    hours = (window.end.hour * 60 + window.end.minute - window.start.hour * 60) / 60.0
    hours -= window.start.minute / 60.0
    return {
        "kind": "pump",
        "id": "pool-pump",
        "power_kw": pool.circulation_pump_kw,
        "window": {
            "days": [d.value for d in window.days],
            "start": window.start.strftime("%H:%M"),
            "end": window.end.strftime("%H:%M"),
        },
        "run_hours": hours,
        "min_run_minutes": 60,
        "timer_start": window.start.strftime("%H:%M"),
        "command_point": bms_point(municipality, building, "pool-pump-enable"),
    }


def ev_load(building: Building) -> dict[str, Any]:
    ev = building.ev_chargers
    assert ev is not None
    arrival = ev.arrival_hour_mean
    departure = min(arrival + ev.stay_hours_mean, 23.75)
    energy = ev.count * ev.probability * (ev.energy_kwh_min + ev.energy_kwh_max) / 2.0

    def hhmm(hours: float) -> str:
        minutes = round(hours * 4) * 15
        return _hhmm(minutes)

    return {
        "kind": "ev_charger",
        "id": "ev-chargers",
        "max_kw": ev.count * ev.power_kw,
        "efficiency": 1.0,
        "sessions": [
            {
                "days": [d.value for d in ev.days],
                "arrival": hhmm(arrival),
                "departure": hhmm(departure),
                "energy_kwh": round(energy, 2),
            }
        ],
    }


def battery_load(building: Building) -> dict[str, Any]:
    b = building.battery
    assert b is not None
    eta = b.round_trip_efficiency**0.5
    return {
        "kind": "battery",
        "id": "battery",
        "capacity_kwh": b.capacity_kwh,
        "initial_kwh": b.capacity_kwh * b.initial_soc,
        "max_charge_kw": b.power_kw,
        "max_discharge_kw": b.power_kw,
        "charge_efficiency": round(eta, 4),
        "discharge_efficiency": round(eta, 4),
    }


def base_load_kw(building: Building) -> float:
    """Mean lighting and plug power over a weekday (the loads the optimizer cannot move)."""
    area = building.floor_area_m2
    occupancy = np.array([_value(building.occupancy, 2, m) for m in range(0, 24 * 60, 15)])
    lighting = building.lighting_w_per_m2 * area * (0.05 + 0.95 * occupancy) * 0.8
    base = building.plug_base_fraction
    plug = building.plug_w_per_m2 * area * (base + (1.0 - base) * occupancy)
    return round(float(np.mean(lighting + plug)) / 1000.0, 2)


def building_entry(municipality: str, building: Building) -> dict[str, Any]:
    loads: list[dict[str, Any]] = [zone_load(municipality, building, z) for z in building.zones]
    if building.hot_water is not None:
        loads.append(tank_load(municipality, building))
    if building.pool is not None:
        loads.append(pump_load(municipality, building))
    if building.ev_chargers is not None:
        loads.append(ev_load(building))
    if building.battery is not None:
        loads.append(battery_load(building))
    return {
        "id": building.id,
        "neighbourhood": building.neighbourhood,
        "tariff": TARIFF_ID,
        "pv_kwp": building.pv.peak_kw if building.pv else 0.0,
        "base_load_kw": base_load_kw(building),
        "meter_point": main_meter_point(municipality, building),
        "loads": loads,
    }


def optimizer_config(config: MunicipalityConfig) -> dict[str, Any]:
    """The optimizer's YAML configuration (as a dict) for the simulated municipality."""
    return {
        "timezone": config.climate.timezone,
        "weights": {"cost": 1.0, "co2_eur_per_kg": 0.0, "comfort": 1.0},
        "tariffs": [tariff()],
        "neighbourhoods": [{"id": n.id} for n in config.neighbourhoods],
        "buildings": [building_entry(config.municipality, b) for b in config.buildings],
    }
