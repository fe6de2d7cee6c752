"""The stateful part of a building: zone temperatures, hot-water tank, EV sessions, battery.

``run`` advances a ``BuildingState`` over a chunk of precomputed ``Drivers`` under fixed
``Commands`` and returns the per-step powers. It is pure (no I/O) and deterministic; the same
chunk run in one call or in many smaller calls gives the same result, which is what lets the
history export and the live simulation agree.

Per zone, a single-node RC model integrated with an explicit step::

    C dT/dt = UA (T_out - T) + Q_hp + Q_internal + Q_solar

The heat pump is a proportional controller centred on the active setpoint (full output half a
proportional band below it); electric power = thermal output / COP(T_out), capped by a
capacity that derates in the cold. Cooling works the same way above heating setpoint +
cooling offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from polis.simulator.config import Building, MeterRole, Zone
from polis.simulator.drivers import Drivers
from polis.simulator.fault_effects import ZoneFaults

FloatArray = NDArray[np.float64]
WATER_J_PER_L_K = 4186.0
ROOM_C = 20.0


@dataclass(frozen=True)
class EvLimit:
    """A charge point's charging profile in force: its total and each connector's (W)."""

    station_w: float | None = None
    connector_w: float | None = None


@dataclass(frozen=True)
class Commands:
    """What the control side asks for; ``None`` setpoint = the building's own schedule."""

    heating_setpoints_c: dict[str, float | None] = field(default_factory=dict)
    hvac_enabled: bool = True
    dhw_enabled: bool = True
    pool_pump_enabled: bool = True
    ev_enabled: bool = True
    # per OCPP charge point of the building, in order; missing ones have no limit
    ev_limits: tuple[EvLimit, ...] = ()


@dataclass
class BuildingState:
    time: float  # epoch seconds at which the next step starts
    zone_temperatures_c: list[float]
    tank_temperature_c: float
    heater_on: bool
    ev_session: list[int]
    ev_remaining_wh: list[float]
    battery_soc_wh: float
    import_wh: dict[MeterRole, float]
    export_wh: dict[MeterRole, float]
    ev_energy_wh: list[float] = field(default_factory=list)  # per charger, its meter register

    @classmethod
    def initial(cls, building: Building, time: float) -> BuildingState:
        chargers = building.ev_chargers.count if building.ev_chargers else 0
        battery = building.battery
        return cls(
            time=time,
            zone_temperatures_c=[z.initial_temperature_c for z in building.zones],
            tank_temperature_c=building.hot_water.setpoint_c if building.hot_water else 0.0,
            heater_on=False,
            ev_session=[-1] * chargers,
            ev_remaining_wh=[0.0] * chargers,
            battery_soc_wh=battery.capacity_kwh * 1000.0 * battery.initial_soc if battery else 0.0,
            import_wh={m.role: m.initial_import_kwh * 1000.0 for m in building.meters},
            export_wh={m.role: 0.0 for m in building.meters},
            ev_energy_wh=[0.0] * chargers,
        )


@dataclass(frozen=True)
class Trace:
    """Per-step results of a run: powers in W (average over the step), temperatures in °C."""

    start: float
    step_seconds: float
    zone_temperatures_c: FloatArray  # (zones, steps), at the end of each step
    zone_setpoints_c: FloatArray  # (zones, steps), the active heating setpoint
    channels_w: dict[MeterRole, FloatArray]
    tank_temperature_c: FloatArray
    outdoor_c: FloatArray
    ev_charger_w: FloatArray | None = None  # (chargers, steps)

    @property
    def steps(self) -> int:
        return int(self.outdoor_c.shape[0])


def channel_powers(
    hvac: FloatArray,
    lighting: FloatArray,
    plug: FloatArray,
    dhw: FloatArray,
    pool: FloatArray,
    ev: FloatArray,
    pv: FloatArray,
    battery: FloatArray,
) -> dict[MeterRole, FloatArray]:
    """What each meter role measures; the main meter sees the net grid exchange."""
    main = hvac + lighting + plug + dhw + pool + ev + battery - pv
    return {
        MeterRole.MAIN: main,
        MeterRole.HVAC: hvac,
        MeterRole.LIGHTING: lighting,
        MeterRole.DHW: dhw,
        MeterRole.POOL: pool,
        MeterRole.EV: ev,
        MeterRole.PV: -pv,  # a generation meter exports
        MeterRole.BATTERY: battery,
    }


def run(building: Building, state: BuildingState, drivers: Drivers, commands: Commands) -> Trace:
    """Advance ``state`` in place over every step of ``drivers``."""
    if abs(drivers.start - state.time) > 1e-6:
        raise ValueError(f"drivers start at {drivers.start}, state is at {state.time}")
    dt = drivers.step_seconds
    n = drivers.steps
    zones = building.zones
    nz = len(zones)
    outdoor = drivers.outdoor_c.tolist()
    schedule = drivers.heating_schedule_c.tolist()
    cooling_offset = building.cooling_offset_k
    overrides = [commands.heating_setpoints_c.get(z.id) for z in zones]
    hvac_on = commands.hvac_enabled

    temps = np.empty((nz, n))
    setpoints = np.empty((nz, n))
    hvac_w = np.zeros(n)
    for zi, zone in enumerate(zones):
        faults = drivers.zone_faults[zi] if drivers.zone_faults is not None else None
        zone_t, zone_sp, zone_p = _run_zone(
            zone,
            drivers,
            zi,
            state.zone_temperatures_c[zi],
            overrides[zi],
            schedule,
            outdoor,
            cooling_offset,
            hvac_on,
            faults,
        )
        state.zone_temperatures_c[zi] = zone_t[-1] if n else state.zone_temperatures_c[zi]
        temps[zi] = zone_t
        setpoints[zi] = zone_sp
        hvac_w += np.asarray(zone_p)

    dhw_w, tank = _run_hot_water(building, state, drivers, commands.dhw_enabled)
    pool_w = (
        building.pool.circulation_pump_kw * 1000.0 * drivers.pool_schedule
        if building.pool and commands.pool_pump_enabled
        else np.zeros(n)
    )
    ev_w, ev_charger_w = _run_ev(building, state, drivers, commands)
    pv_w = drivers.pv_w
    base = hvac_w + drivers.lighting_w + drivers.plug_w + dhw_w + pool_w + ev_w
    battery_w = _run_battery(building, state, base, pv_w, dt)
    channels = channel_powers(
        hvac_w, drivers.lighting_w, drivers.plug_w, dhw_w, pool_w, ev_w, pv_w, battery_w
    )
    for role in state.import_wh:
        channel = channels[role]
        state.import_wh[role] += float(np.sum(np.clip(channel, 0.0, None))) * dt / 3600.0
        state.export_wh[role] += float(np.sum(np.clip(-channel, 0.0, None))) * dt / 3600.0
    state.time = drivers.start + n * dt
    return Trace(
        start=drivers.start,
        step_seconds=dt,
        zone_temperatures_c=temps,
        zone_setpoints_c=setpoints,
        channels_w=channels,
        tank_temperature_c=tank,
        outdoor_c=drivers.outdoor_c,
        ev_charger_w=ev_charger_w,
    )


def _forced(
    heat: float, cool: float, faults: ZoneFaults, i: int, cap_h: float, cap_c: float
) -> tuple[float, float]:
    """(heating, cooling) output fractions at step ``i`` of a zone with faults, from the
    controller's heating and cooling demands."""
    h = (heat if heat < 1.0 else 1.0) if heat > 0.0 else 0.0
    c = 0.0
    if heat <= 0.0 and cool > 0.0 and cap_c > 0.0:
        c = cool if cool < 1.0 else 1.0
    if faults.tripped[i]:
        return 0.0, 0.0
    if faults.full[i] and h > 0.0:
        h = 1.0
    return max(h, float(faults.heating_min[i])), max(c, float(faults.cooling_min[i]))


def _run_zone(
    zone: Zone,
    drivers: Drivers,
    zi: int,
    temperature: float,
    override: float | None,
    schedule: list[float],
    outdoor: list[float],
    cooling_offset: float,
    hvac_on: bool,
    faults: ZoneFaults | None,
) -> tuple[list[float], list[float], list[float]]:
    """One zone over the chunk: temperatures, active setpoints, heat-pump electric power."""
    n = drivers.steps
    dt = drivers.step_seconds
    curves = drivers.heat_pumps[zi]
    cap_h = curves.heating_capacity_w.tolist()
    cap_c = curves.cooling_capacity_w.tolist()
    cop = curves.cop.tolist()
    eer = curves.eer.tolist()
    gains = drivers.zone_gains_w[zi].tolist()
    band = zone.heat_pump.proportional_band_k
    half = band / 2.0
    ua = zone.ua_w_per_k
    k = dt / (zone.thermal_mass_kwh_per_k * 3.6e6)
    offset = zone.setpoint_offset_k
    zone_t: list[float] = [0.0] * n
    zone_sp: list[float] = [0.0] * n
    zone_p: list[float] = [0.0] * n
    held = faults.held_c.tolist() if faults is not None else []
    for i in range(n):
        sp = override if override is not None else schedule[i] + offset
        if held and held[i] == held[i]:  # an operator's value in force (NaN: none)
            sp = held[i]
        q = 0.0
        power = 0.0
        if hvac_on:
            heat = (sp + half - temperature) / band
            if faults is not None:
                cool = (temperature - (sp + cooling_offset - half)) / band
                h, c = _forced(heat, cool, faults, i, cap_h[i], cap_c[i])
                q = cap_h[i] * h - cap_c[i] * c
                power = cap_h[i] * h / cop[i] + cap_c[i] * c / eer[i]
            elif heat > 0.0:
                q = cap_h[i] * (heat if heat < 1.0 else 1.0)
                power = q / cop[i]
            else:
                cool = (temperature - (sp + cooling_offset - half)) / band
                if cool > 0.0 and cap_c[i] > 0.0:
                    qc = cap_c[i] * (cool if cool < 1.0 else 1.0)
                    q = -qc
                    power = qc / eer[i]
        temperature += k * (ua * (outdoor[i] - temperature) + q + gains[i])
        zone_t[i] = temperature
        zone_sp[i] = sp
        zone_p[i] = power
    return zone_t, zone_sp, zone_p


def _run_hot_water(
    building: Building, state: BuildingState, drivers: Drivers, enabled: bool
) -> tuple[FloatArray, FloatArray]:
    n = drivers.steps
    tank_cfg = building.hot_water
    if tank_cfg is None:
        return np.zeros(n), np.zeros(n)
    dt = drivers.step_seconds
    capacity = tank_cfg.volume_l * WATER_J_PER_L_K
    heater = tank_cfg.heater_kw * 1000.0
    on_below = tank_cfg.setpoint_c - tank_cfg.hysteresis_k
    off_at = tank_cfg.setpoint_c
    draws = drivers.dhw_draw_l_per_s.tolist()
    cold = tank_cfg.cold_water_c
    loss = tank_cfg.standby_loss_w_per_k
    temperature = state.tank_temperature_c
    on = state.heater_on
    power: list[float] = [0.0] * n
    temps: list[float] = [0.0] * n
    for i in range(n):
        if not enabled:
            on = False
        elif temperature < on_below:
            on = True
        elif temperature >= off_at:
            on = False
        q = heater if on else 0.0
        draw = draws[i] * WATER_J_PER_L_K * (temperature - cold)
        temperature += dt / capacity * (q - draw - loss * (temperature - ROOM_C))
        power[i] = q
        temps[i] = temperature
    state.tank_temperature_c = temperature
    state.heater_on = on
    return np.asarray(power), np.asarray(temps)


def _station_groups(
    building: Building, limits: tuple[EvLimit, ...]
) -> list[tuple[list[int], EvLimit]]:
    """The chargers of each charge point with the limit in force there."""
    ev = building.ev_chargers
    assert ev is not None
    if not ev.charge_points:
        return [(list(range(ev.count)), EvLimit())]
    groups: list[tuple[list[int], EvLimit]] = [
        ([], limits[i] if i < len(limits) else EvLimit()) for i in range(len(ev.charge_points))
    ]
    for charger, station in enumerate(ev.charge_point_of()):
        groups[station][0].append(charger)
    return groups


def share(demands: list[tuple[int, float]], total_w: float | None) -> list[tuple[int, float]]:
    """A charge point's total limit shared among its charging cars: equal shares, and what
    a car cannot take goes to the others (water-filling)."""
    if total_w is None or sum(d for _, d in demands) <= total_w:
        return demands
    out = []
    budget = max(total_w, 0.0)
    ordered = sorted(demands, key=lambda d: d[1])
    for k, (charger, demand) in enumerate(ordered):
        p = min(demand, budget / (len(ordered) - k))
        budget -= p
        out.append((charger, p))
    return out


def _run_ev(
    building: Building, state: BuildingState, drivers: Drivers, commands: Commands
) -> tuple[FloatArray, FloatArray]:
    """Total EV power per step, and each charger's (chargers, steps)."""
    n = drivers.steps
    ev = building.ev_chargers
    if ev is None or drivers.ev is None:
        return np.zeros(n), np.zeros((0, n))
    per = np.zeros((ev.count, n))
    if all(s == -1 for s in state.ev_session) and not (drivers.ev.key >= 0).any():
        return per.sum(axis=0), per
    dt = drivers.step_seconds
    limit = ev.power_kw * 1000.0
    keys = drivers.ev.key.tolist()
    energy = drivers.ev.energy_wh.tolist()
    session, remaining = state.ev_session, state.ev_remaining_wh
    groups = _station_groups(building, commands.ev_limits)
    # a faulted charger delivers nothing; the car stays plugged in
    broken = (
        drivers.charger_faulted.tolist()
        if drivers.charger_faulted is not None
        else [[False] * n] * ev.count
    )
    for i in range(n):
        for chargers, cap in groups:
            demands = []
            for c in chargers:
                key = keys[c][i]
                if key != session[c]:
                    session[c] = key
                    remaining[c] = energy[c][i]
                if key >= 0 and commands.ev_enabled and remaining[c] > 0.0 and not broken[c][i]:
                    p = min(remaining[c] * 3600.0 / dt, limit)
                    if cap.connector_w is not None:
                        p = min(p, max(cap.connector_w, 0.0))
                    demands.append((c, p))
            for c, p in share(demands, cap.station_w):
                remaining[c] -= p * dt / 3600.0
                per[c, i] = p
    for c in range(ev.count):
        state.ev_energy_wh[c] += float(per[c].sum()) * dt / 3600.0
    return per.sum(axis=0), per


def _run_battery(
    building: Building, state: BuildingState, load: FloatArray, pv: FloatArray, dt: float
) -> FloatArray:
    """Self-consumption: charge from PV surplus, discharge to cover the net load."""
    n = len(load)
    battery = building.battery
    if battery is None:
        return np.zeros(n)
    eta = battery.round_trip_efficiency**0.5
    capacity = battery.capacity_kwh * 1000.0
    limit = battery.power_kw * 1000.0
    soc = state.battery_soc_wh
    surplus = (pv - load).tolist()
    power: list[float] = [0.0] * n
    hours = dt / 3600.0
    for i in range(n):
        s = surplus[i]
        if s > 0.0:
            p = min(limit, s, (capacity - soc) / (hours * eta))
            soc += p * hours * eta
        else:
            p = -min(limit, -s, soc * eta / hours)
            soc += p * hours / eta
        power[i] = p
    state.battery_soc_wh = soc
    return np.asarray(power)
