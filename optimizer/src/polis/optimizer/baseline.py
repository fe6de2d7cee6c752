"""The as-is schedule: what the building's own controls would do without the optimizer.

- thermal zones: a thermostat tracking ``baseline_setpoint`` (heat pump modulating, or the
  smallest power level that reaches the setpoint, or full power when it cannot);
- deferrable loads: their fixed timer, running continuously from ``baseline_start``;
- EV sessions: charge at full power from arrival until the energy is delivered;
- water heaters: a thermostat with a deadband below the maximum charge;
- batteries: idle.
"""

from __future__ import annotations

from dataclasses import dataclass

from polis.optimizer.domain import (
    Battery,
    Building,
    DeferrableLoad,
    EVSession,
    Load,
    LoadSchedule,
    ThermalZone,
    WaterTank,
)


@dataclass(frozen=True)
class BaselineSchedule:
    loads: tuple[LoadSchedule, ...]
    grid_kw: tuple[float, ...]


def deferrable_baseline(load: DeferrableLoad, slots: int) -> tuple[float, ...]:
    start = load.timer_start
    end = min(start + load.run_slots, slots)
    return tuple(load.power_kw if start <= t < end else 0.0 for t in range(slots))


def zone_baseline(
    zone: ThermalZone, slots: int, dt_h: float
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Thermostat power per slot and the resulting end-of-slot temperatures."""
    a = zone.decay(dt_h)
    temp = zone.initial_temp_c
    powers: list[float] = []
    temps: list[float] = []
    for t in range(slots):
        free = a * temp + (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * zone.gains_kw[t])
        gain_per_kw = (1 - a) * zone.r_k_per_kw * zone.cop[t] * zone.sign
        needed = (zone.baseline_setpoint[t] - free) / gain_per_kw
        power = min(max(needed, 0.0), zone.max_kw)
        if zone.levels_kw is not None:
            reaching = [lv for lv in sorted({0.0, *zone.levels_kw}) if lv >= power - 1e-9]
            power = reaching[0] if reaching else max(zone.levels_kw)
        temp = free + gain_per_kw * power
        powers.append(power)
        temps.append(temp)
    return tuple(powers), tuple(temps)


def tank_baseline(tank: WaterTank, slots: int, dt_h: float) -> tuple[float, ...]:
    energy = tank.initial_kwh
    heating = False
    out: list[float] = []
    for t in range(slots):
        if energy <= tank.max_kwh - tank.baseline_deadband_kwh:
            heating = True
        power = 0.0
        if heating:
            room = tank.max_kwh - energy + tank.draw_kwh[t] + tank.loss_kw * dt_h
            power = min(tank.heater_kw, max(room, 0.0) / (tank.efficiency * dt_h))
            if tank.on_off:
                power = tank.heater_kw if power > 0 else 0.0
        energy += tank.efficiency * power * dt_h - tank.draw_kwh[t] - tank.loss_kw * dt_h
        energy = min(energy, tank.max_kwh)
        if energy >= tank.max_kwh - 1e-9:
            heating = False
        out.append(power)
    return tuple(out)


def ev_baseline(session: EVSession, slots: int, dt_h: float) -> tuple[float, ...]:
    remaining = session.energy_kwh
    out: list[float] = []
    for t in range(slots):
        power = 0.0
        if session.arrival <= t < session.departure and remaining > 1e-9:
            power = min(session.max_kw, remaining / (session.efficiency * dt_h))
            power = max(power, session.min_kw)
            remaining -= power * session.efficiency * dt_h
        out.append(power)
    return tuple(out)


def load_baseline(load: Load, slots: int, dt_h: float) -> LoadSchedule:
    if isinstance(load, DeferrableLoad):
        power = deferrable_baseline(load, slots)
        return LoadSchedule(load.id, load.kind, power, explanation="runs on its fixed timer")
    if isinstance(load, ThermalZone):
        power, temps = zone_baseline(load, slots, dt_h)
        return LoadSchedule(load.id, load.kind, power, temps, "thermostat on its schedule")
    if isinstance(load, WaterTank):
        return LoadSchedule(
            load.id, load.kind, tank_baseline(load, slots, dt_h), explanation="thermostat"
        )
    if isinstance(load, EVSession):
        power = ev_baseline(load, slots, dt_h)
        return LoadSchedule(load.id, load.kind, power, explanation="charges on arrival")
    if isinstance(load, Battery):
        return LoadSchedule(load.id, load.kind, (0.0,) * slots, explanation="idle")
    raise TypeError(f"unknown load type {type(load).__name__}")


def building_baseline(building: Building) -> BaselineSchedule:
    slots, dt_h = building.horizon.slots, building.horizon.dt_h
    schedules = tuple(load_baseline(load, slots, dt_h) for load in building.loads)
    grid = tuple(
        building.base_load_kw[t] - building.pv_kw[t] + sum(s.power_kw[t] for s in schedules)
        for t in range(slots)
    )
    return BaselineSchedule(schedules, grid)
