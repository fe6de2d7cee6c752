"""One load's LP power series rounded onto what the load can really do.

Deferrable loads take the single run where the LP uses them most; zones with levels track
the LP's temperature or take the cheapest level schedule at the LP's marginal prices;
on/off water heaters keep the tank at or above the LP's level; EV minimum powers are
rounded with the error carried to the next slot. Continuous powers keep their LP values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import assert_never

from polis.optimizer.domain import DeferrableLoad, EVSession, Load, ThermalZone, WaterTank
from polis.optimizer.model import (
    POWER_SCALE,
    BatteryVars,
    DeferrableVars,
    EVVars,
    LoadVars,
    TankVars,
    ZoneVars,
)
from polis.optimizer.relaxation import LpRelaxation, MarginalPrices
from polis.optimizer.zone_levels import cheapest_levels


def _sigma_delta(values: Sequence[float], snap: Callable[[float], float]) -> list[float]:
    """Round a series onto allowed values, carrying each slot's error into the next."""
    out, carry = [], 0.0
    for value in values:
        chosen = snap(value + carry)
        carry += value - chosen
        out.append(chosen)
    return out


def _best_block(load: DeferrableLoad, on: Sequence[float], slots: int) -> list[float]:
    """One continuous run of the load where the LP uses it most (always feasible)."""
    latest = min(load.latest, slots) - load.run_slots
    if load.run_slots == 0 or latest < load.earliest:
        return [0.0] * slots
    start = max(range(load.earliest, latest + 1), key=lambda s: sum(on[s : s + load.run_slots]))
    return [load.power_kw if start <= t < start + load.run_slots else 0.0 for t in range(slots)]


def _track_levels(zone: ThermalZone, power: Sequence[float], dt_h: float) -> list[float]:
    """Levels that keep the zone at or just above the temperature the LP power gives.

    Rounding the power alone lets the temperature swing below the LP's, which the comfort
    penalty charges; tracking the LP temperature costs a little energy instead.
    """
    a = zone.decay(dt_h)
    levels = sorted({0.0, *(zone.levels_kw or ())})
    target = actual = zone.initial_temp_c
    out = []
    for t, p in enumerate(power):
        drift = (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * zone.gains_kw[t])
        gain = (1 - a) * zone.r_k_per_kw * zone.cop[t] * zone.sign
        target = a * target + drift + gain * p
        free = a * actual + drift
        if zone.sign > 0:
            chosen = next((lv for lv in levels if free + gain * lv >= target - 1e-3), levels[-1])
        else:
            chosen = next((lv for lv in levels if free + gain * lv <= target + 1e-3), levels[-1])
        actual = free + gain * chosen
        out.append(chosen)
    return out


def _track_storage(tank: WaterTank, power: Sequence[float], dt_h: float) -> list[float]:
    """On/off heating that keeps the tank at or just above the energy the LP power gives.

    The LP often keeps a tank exactly at its minimum; rounding the heater's power with the
    error carried forward would dip below it. Heating whenever the tank would otherwise fall
    below the LP's level (and the heat fits under the maximum) stays above it instead.
    """
    gain = tank.efficiency * tank.heater_kw * dt_h
    target = actual = tank.initial_kwh
    out = []
    for t, p in enumerate(power):
        used = tank.draw_kwh[t] + tank.loss_kw * dt_h
        target += tank.efficiency * p * dt_h - used
        idle = actual - used
        below = idle < target - 1e-6 or idle < tank.min_kwh
        on = below and (idle + gain <= tank.max_kwh + 1e-9 or idle < tank.min_kwh)
        actual = idle + gain if on else idle
        out.append(tank.heater_kw if on else 0.0)
    return out


def lp_rounded_power(
    load: Load,
    lv: LoadVars,
    lp: LpRelaxation,
    slots: int,
    dt_h: float,
    marginal: MarginalPrices | None = None,
) -> list[float]:
    """A schedule (kW per slot) of one load that follows its LP power as closely as allowed.

    With ``marginal`` prices, a zone with levels takes the cheapest level schedule at those
    prices instead of tracking the LP's temperature.
    """
    power = lp_power(lv, lp.values, slots)
    if isinstance(load, DeferrableLoad):
        return _best_block(load, power, slots)
    if isinstance(load, WaterTank) and load.on_off:
        return _track_storage(load, [p * load.heater_kw for p in power], dt_h)
    if isinstance(load, ThermalZone) and load.levels_kw is not None:
        if marginal is not None:
            return cheapest_levels(load, marginal.eur_per_kwh, dt_h, marginal.comfort_weight)
        return _track_levels(load, power, dt_h)
    if isinstance(load, EVSession) and load.min_kw > 0:
        return _semi_continuous(load, power)
    return power


def _semi_continuous(ev: EVSession, power: Sequence[float]) -> list[float]:
    """Off, or between the minimum and maximum power, with the energy left out given back."""

    def semi(v: float) -> float:
        if v < ev.min_kw / 2:
            return 0.0
        return min(max(v, ev.min_kw), ev.max_kw)

    rounded = _sigma_delta(power, semi)
    _top_up(rounded, sum(power) - sum(rounded), ev, power)
    return rounded


def lp_power(lv: LoadVars, values: Sequence[float], slots: int) -> list[float]:
    """One load's power (kW) in each slot at the LP point; an on/off load's on fraction."""
    h = lv.handles
    power = [0.0] * slots
    if isinstance(h, DeferrableVars):
        for t, on in h.on.items():
            power[t] = values[on.index]
    elif isinstance(h, TankVars):
        scale = 1 if h.on_off else POWER_SCALE
        for t, heater in enumerate(h.heater):
            power[t] = values[heater.index] / scale
    elif isinstance(h, BatteryVars):
        for t, (c, d) in enumerate(zip(h.charge, h.discharge, strict=True)):
            power[t] = values[c.index] / POWER_SCALE - values[d.index] / POWER_SCALE
    elif isinstance(h, EVVars):
        for t, p in h.power.items():
            power[t] = values[p.index] / POWER_SCALE
    elif isinstance(h, ZoneVars):
        for t, p in enumerate(h.power):
            power[t] = values[p.index] / POWER_SCALE
    else:
        assert_never(h)
    return power


def _top_up(rounded: list[float], deficit: float, ev: EVSession, lp: Sequence[float]) -> None:
    """Give back the energy rounding left out: raise running slots, then start new ones."""
    for t in sorted(range(len(rounded)), key=lambda s: -lp[s]):
        if deficit <= 1e-9:
            return
        if not ev.arrival <= t < ev.departure:
            continue
        if rounded[t] > 0:
            add = min(deficit, ev.max_kw - rounded[t])
        else:
            add = min(max(deficit, ev.min_kw), ev.max_kw)
        rounded[t] += add
        deficit -= add
