"""The optimizer's loads of the simulated municipality, for its catalogue (pure, no I/O).

:func:`building_loads` maps a building of the simulator's configuration to the load schemas
of :mod:`polis.common.catalogue.loads`:

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
- **EV chargers** become one ``ev_charger`` load per OCPP charge point, commanded through the
  charge point's ``charging-limit`` (kW); chargers without an OCPP charge point are one load
  of the fleet with its mean session, planned but not commanded. A commanded load's session
  runs from the mean arrival until the *shortest* stay ends and asks for the most its
  chargers' cars may need: the command is a limit, and a limit planned for the mean session
  (the mean energy over the mean stay) kept cars from their energy on a day they needed more
  or left early (in the closed loop the chargers delivered 137 instead of 169 kWh). Cars take
  what they need under it, and outside the session the optimizer lifts it. The
  **battery** is a ``battery`` load without a command point: it runs its own
  self-consumption control, and the optimizer plans around it.
- The non-flexible **base load** (lighting, plug loads) per building: :func:`base_load_kw`.

**Nameplate only** (``building_loads(..., nameplate_only=True)``): what a facility manager
has of a real building, without the simulator's physics. Zones and hot-water tanks are
``model: uncommissioned`` (the optimizer leaves them to their own controllers until
commissioning learns them): a zone keeps its comfort periods, points and the heat pump's rated
electric input (:func:`rated_electric_kw`, the data sheet's A7/W35 figure) as ``max_kw``; a
tank its volume, heater power, thermostat band and points, but no draw profile or losses.
Pumps, EV chargers and the battery are the same in both: their figures are nameplate data and
schedules (the pool's timer, the depot's fleet), not physics.

Point references are relative to the building, ``<building>-bms/<object name>``
(``town-hall-bms/zone-offices-heating-setpoint``), with the names of
:mod:`polis.simulator.bacnet_points`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

import numpy as np

from polis.common.catalogue.devices import CHARGING_LIMIT_POINT
from polis.simulator.bacnet_points import (
    DHW_ENABLE,
    POOL_PUMP_ENABLE,
    TANK_TEMPERATURE,
    zone_setpoint_name,
    zone_temperature_name,
)
from polis.simulator.config import Building, EvChargers, Period, WeeklySchedule, Zone
from polis.simulator.drivers import DHW_FULL_DAY_SECONDS, heat_pump_curves
from polis.simulator.endpoints import bacnet_device_name
from polis.simulator.ocpp_chargers import charge_point_id
from polis.simulator.plant import ROOM_C, WATER_J_PER_L_K

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a car stays 0.6 to 1.4 times the mean stay (polis.simulator.drivers.ev_sessions)
SHORTEST_STAY = 0.6
SLOT_MINUTES = 15
# Winter outdoor temperatures over which the heat pump's COP line and power limit are fitted.
WINTER_C = np.linspace(-8.0, 18.0, 53)
OCCUPIED_FRACTION = 0.2  # occupancy at or above this is an occupied period
TANK_MIN_C = 52.0
CAPACITY_MARGIN = 0.9  # of the derated capacity the optimizer may plan with
COMFORT_SPAN_K = 1.0  # upper comfort bound above the setpoint
SETBACK_MARGIN_K = 2.0  # the optimizer may set back this far below the building's own setback


def bms_ref(building: Building, object_name: str) -> str:
    """A point of the building's controller, relative to the building (``device/point``)."""
    return f"{bacnet_device_name(building)}/{object_name}"


# -- schedules on a 15-minute weekly grid ---------------------------------------------------
def schedule_value(schedule: WeeklySchedule, day: int, minute: int) -> float:
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


def hhmm(minute: int) -> str:
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
            occupied = schedule_value(building.occupancy, day, minute) >= OCCUPIED_FRACTION
            sp = schedule_value(building.heating_setpoint, day, minute) + zone.setpoint_offset_k
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
    if schedule_value(building.occupancy, day, minute) < OCCUPIED_FRACTION:
        return None
    sp = schedule_value(building.heating_setpoint, day, minute) + zone.setpoint_offset_k
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


def rated_electric_kw(zone: Zone) -> float:
    """The heat pump's rated electric input: heating capacity over COP at 7 °C outdoor (the
    data sheet's A7/W35 rating point)."""
    curves = heat_pump_curves(zone.heat_pump, np.array([7.0]))
    return float(curves.heating_capacity_w[0] / 1000.0 / curves.cop[0])


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
        schedule_value(building.occupancy, d, m)
        for d in range(5)
        for m in range(0, 24 * 60, SLOT_MINUTES)
        if schedule_value(building.occupancy, d, m) >= OCCUPIED_FRACTION
    ]
    return min(values) if values else 0.0


def _comfort(building: Building, zone: Zone) -> dict[str, Any]:
    """The zone's comfort periods and bounds, from the building's own schedules."""
    setback = building.heating_setpoint.default + zone.setpoint_offset_k
    windows = comfort_windows(building, zone)
    return {
        "occupied": [
            {
                "days": [w.day],
                "start": hhmm(w.start_minute),
                "end": hhmm(w.end_minute),
                "lo_c": w.setpoint_c,
                "hi_c": w.setpoint_c + COMFORT_SPAN_K,
            }
            for w in windows
        ],
        "unoccupied_lo_c": setback - SETBACK_MARGIN_K,
        "unoccupied_hi_c": max(w.setpoint_c + COMFORT_SPAN_K for w in windows)
        if windows
        else setback + COMFORT_SPAN_K,
        "comfort_penalty_eur_per_kh": 5.0,
    }


def _zone_points(building: Building, zone: Zone) -> dict[str, Any]:
    return {
        "command_point": bms_ref(building, zone_setpoint_name(zone.id)),
        "temperature_point": bms_ref(building, zone_temperature_name(zone.id)),
    }


def zone_nameplate(building: Building, zone: Zone) -> dict[str, Any]:
    """The zone without a model: comfort, points and the heat pump's rated input."""
    return {
        "kind": "hvac",
        "id": zone.id,
        "mode": "heat",
        "model": "uncommissioned",
        "max_kw": round(rated_electric_kw(zone), 2),
        **_comfort(building, zone),
        **_zone_points(building, zone),
    }


def zone_load(building: Building, zone: Zone) -> dict[str, Any]:
    nominal, slope, ref = cop_line(zone)
    comfort = _comfort(building, zone)
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
        **comfort,
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
        **_zone_points(building, zone),
    }


def tank_kwh(volume_l: float, temperature_c: float, cold_c: float) -> float:
    """Stored heat above cold water, kWh."""
    return volume_l * WATER_J_PER_L_K * (temperature_c - cold_c) / 3.6e6


def tank_nameplate(building: Building) -> dict[str, Any]:
    """The tank without a model: its volume, heater, thermostat band and points."""
    hw = building.hot_water
    assert hw is not None
    return {
        "kind": "water_heater",
        "id": "dhw",
        "model": "uncommissioned",
        "min_kwh": round(tank_kwh(hw.volume_l, TANK_MIN_C, hw.cold_water_c), 3),
        "max_kwh": round(tank_kwh(hw.volume_l, hw.setpoint_c, hw.cold_water_c), 3),
        "initial_kwh": round(tank_kwh(hw.volume_l, hw.setpoint_c, hw.cold_water_c), 3),
        "heater_kw": hw.heater_kw,
        "on_off": True,
        "command_point": bms_ref(building, DHW_ENABLE),
        "temperature_point": bms_ref(building, TANK_TEMPERATURE),
        "volume_l": hw.volume_l,
    }


def tank_load(building: Building) -> dict[str, Any]:
    hw = building.hot_water
    assert hw is not None
    mean_c = (TANK_MIN_C + hw.setpoint_c) / 2.0
    draw = []
    for hour in range(24):
        occupancy = np.mean(
            [schedule_value(building.occupancy, 0, hour * 60 + m) for m in (0, 15, 30, 45)]
        )
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
        "command_point": bms_ref(building, DHW_ENABLE),
        "temperature_point": bms_ref(building, TANK_TEMPERATURE),
        "volume_l": hw.volume_l,
        "cold_water_c": hw.cold_water_c,
    }


def pump_load(building: Building) -> dict[str, Any]:
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
        "command_point": bms_ref(building, POOL_PUMP_ENABLE),
    }


def _ev_entry(
    ev: EvChargers, load_id: str, chargers: int, stay_h: float, energy: float
) -> dict[str, Any]:
    """A daily session of ``chargers`` of the fleet from the mean arrival."""
    arrival = ev.arrival_hour_mean
    departure = min(arrival + stay_h, 23.75)

    def quarter(hours: float) -> str:
        return hhmm(round(hours * 4) * 15)

    return {
        "kind": "ev_charger",
        "id": load_id,
        "max_kw": chargers * ev.power_kw,
        "efficiency": 1.0,
        "sessions": [
            {
                "days": [d.value for d in ev.days],
                "arrival": quarter(arrival),
                "departure": quarter(departure),
                "energy_kwh": round(energy, 2),
            }
        ],
    }


def ev_loads(building: Building) -> list[dict[str, Any]]:
    """One load per OCPP charge point, commanded through its charging limit; without charge
    points one load of the whole fleet, not commanded."""
    ev = building.ev_chargers
    assert ev is not None
    if not ev.charge_points:
        mean = ev.count * ev.probability * (ev.energy_kwh_min + ev.energy_kwh_max) / 2.0
        return [_ev_entry(ev, "ev-chargers", ev.count, ev.stay_hours_mean, mean)]
    shortest = SHORTEST_STAY * ev.stay_hours_mean
    return [
        {
            **_ev_entry(
                ev,
                f"ev-{charge_point_id(building, k)}",
                cp.connectors,
                shortest,
                cp.connectors * ev.energy_kwh_max,
            ),
            "command_point": f"{charge_point_id(building, k)}/{CHARGING_LIMIT_POINT}",
        }
        for k, cp in enumerate(ev.charge_points)
    ]


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
    occupancy = np.array([schedule_value(building.occupancy, 2, m) for m in range(0, 24 * 60, 15)])
    lighting = building.lighting_w_per_m2 * area * (0.05 + 0.95 * occupancy) * 0.8
    base = building.plug_base_fraction
    plug = building.plug_w_per_m2 * area * (base + (1.0 - base) * occupancy)
    return round(float(np.mean(lighting + plug)) / 1000.0, 2)


def building_loads(building: Building, *, nameplate_only: bool = False) -> list[dict[str, Any]]:
    """The building's loads as catalogue entries: zones, then tank, pump, EV, battery;
    ``nameplate_only``: zones and tank without the simulator's physics, uncommissioned."""
    zone = zone_nameplate if nameplate_only else zone_load
    loads: list[dict[str, Any]] = [zone(building, z) for z in building.zones]
    if building.hot_water is not None:
        loads.append(tank_nameplate(building) if nameplate_only else tank_load(building))
    if building.pool is not None:
        loads.append(pump_load(building))
    if building.ev_chargers is not None:
        loads.extend(ev_loads(building))
    if building.battery is not None:
        loads.append(battery_load(building))
    return loads
