"""Cheapest level schedule of one heat pump with discrete levels, by dynamic programming.

Given a price for each slot's electricity (in the planner, the LP's marginal price of the
building's grid balance, which already accounts for PV, batteries and the demand charge),
the schedule minimises ``Σ price·P·dt + comfort_weight·penalty·(degree-hours outside the
band)`` over the level choices, with the zone's exact RC dynamics. The value function is
computed backwards on a temperature grid (linear interpolation between grid points); the
schedule is then read forwards from the exact initial temperature, so the temperatures it
implies carry no grid error. A hard comfort band is charged at ``HARD_PENALTY_EUR_PER_KH``,
which any feasible schedule avoids.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from polis.optimizer.domain import ThermalZone

# grid points of the temperature axis
GRID_POINTS = 3001
# margin around the reachable temperatures (K)
GRID_MARGIN_K = 1.0
# price of a degree-hour outside a hard comfort band
HARD_PENALTY_EUR_PER_KH = 1e4


def cheapest_levels(
    zone: ThermalZone,
    price_eur_per_kwh: Sequence[float],
    dt_h: float,
    comfort_weight: float = 1.0,
) -> list[float]:
    """The level (kW) of each slot that minimises energy cost plus comfort penalty."""
    if zone.levels_kw is None:
        raise ValueError(f"{zone.id}: levels_kw is required for a level schedule")
    slots = len(price_eur_per_kwh)
    if slots == 0:
        return []
    levels = np.array(sorted({0.0, *zone.levels_kw}))
    a = zone.decay(dt_h)
    drift = [
        (1 - a) * (zone.outdoor_c[t] + zone.r_k_per_kw * zone.gains_kw[t]) for t in range(slots)
    ]
    gain = [(1 - a) * zone.r_k_per_kw * zone.cop[t] * zone.sign for t in range(slots)]
    per_kh = HARD_PENALTY_EUR_PER_KH if zone.comfort_hard else zone.comfort_penalty_eur_per_kh
    per_k_slot = comfort_weight * per_kh * dt_h

    low, high = _reachable(zone.initial_temp_c, a, drift, gain, float(levels[-1]))
    grid = np.linspace(low - GRID_MARGIN_K, high + GRID_MARGIN_K, GRID_POINTS)

    def step_cost(t: int, after: np.ndarray, level: float) -> np.ndarray:
        outside = np.maximum(0.0, zone.comfort_lo[t] - after) + np.maximum(
            0.0, after - zone.comfort_hi[t]
        )
        return price_eur_per_kwh[t] * level * dt_h + per_k_slot * outside

    value = np.zeros_like(grid)  # cost to go after the last slot
    values = [value]
    for t in reversed(range(slots)):
        options = []
        for level in levels:
            after = a * grid + drift[t] + gain[t] * level
            options.append(step_cost(t, after, level) + np.interp(after, grid, value))
        value = np.min(np.stack(options), axis=0)
        values.append(value)
    values.reverse()  # values[t]: cost to go from the temperature at the start of slot t

    schedule: list[float] = []
    temp = zone.initial_temp_c
    for t in range(slots):
        best, chosen, chosen_temp = np.inf, 0.0, temp
        for level in levels:
            after = np.array([a * temp + drift[t] + gain[t] * level])
            total = float(step_cost(t, after, level)[0] + np.interp(after, grid, values[t + 1])[0])
            if total < best - 1e-12:
                best, chosen, chosen_temp = total, float(level), float(after[0])
        schedule.append(chosen)
        temp = chosen_temp
    return schedule


def _reachable(
    start: float, a: float, drift: Sequence[float], gain: Sequence[float], top: float
) -> tuple[float, float]:
    """The lowest and highest temperatures any schedule can reach."""
    cold = warm = low = high = start
    for d, g in zip(drift, gain, strict=True):
        cold = a * cold + d + min(0.0, g * top)
        warm = a * warm + d + max(0.0, g * top)
        low, high = min(low, cold), max(high, warm)
    return low, high
