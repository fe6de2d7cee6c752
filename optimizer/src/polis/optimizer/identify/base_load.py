"""A building's base load, the power the optimizer cannot move (pure numpy).

What the main meter draws, less the loads the optimizer plans (heat pumps, hot water, pool
pump, EV chargers) and the battery's charging, plus the on-site generation it hides:

    base = main − Σ planned loads − battery + generation

The main meter's draw comes from its energy counters (import less export), exact between
any two readings however seldom a meter is read; the other terms are the mean of their power
points over the same day. The catalogue holds one figure per building (``base_load_kw``, the
optimizer's forecast until it reads history): the mean over weekdays, the days the plans
matter most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from polis.optimizer.identify.series import FloatArray

MIN_DAYS = 5  # weekdays with a usable balance
MIN_COUNTER_HOURS = 12.0  # between a day's first and last counter reading
MIN_POWER_SHARE = 0.5  # of a day's steps, for each power point


@dataclass(frozen=True)
class BaseLoad:
    kw: float | None  # None: not enough data
    days: int  # weekdays it is the mean of
    reason: str | None


def _counter_span(counter: FloatArray, step_hours: float) -> tuple[int, int] | None:
    """The day's first and last counter reading, when far enough apart."""
    read = np.flatnonzero(np.isfinite(counter))
    if read.size < 2 or float(read[-1] - read[0]) * step_hours < MIN_COUNTER_HOURS:
        return None
    return int(read[0]), int(read[-1])


def _mean(power: FloatArray) -> float | None:
    read = np.isfinite(power)
    return float(np.mean(power[read])) if read.mean() >= MIN_POWER_SHARE else None


def base_load(
    main_kwh: FloatArray,
    subtract: Sequence[FloatArray],
    add: Sequence[FloatArray],
    weekday: FloatArray,
    step_hours: float,
) -> BaseLoad:
    """The weekday mean of the base load; ``main_kwh`` is the main meter's net counter
    (import less export), the others are powers (kW). The series start at local midnight."""
    per_day = round(24.0 / step_hours)
    days: list[float] = []
    for d in range(len(main_kwh) // per_day):
        lo = d * per_day
        span = _counter_span(main_kwh[lo : lo + per_day], step_hours)
        if weekday[lo] < 0.5 or span is None:
            continue
        # every term over the steps between the two counter readings
        first, last = lo + span[0], lo + span[1]
        main = float(main_kwh[last] - main_kwh[first]) / ((last - first) * step_hours)
        loads = [_mean(p[first:last]) for p in subtract]
        generation = [_mean(p[first:last]) for p in add]
        if any(x is None for x in [*loads, *generation]):
            continue
        days.append(main - sum(x or 0.0 for x in loads) + sum(x or 0.0 for x in generation))
    if len(days) < MIN_DAYS:
        return BaseLoad(None, len(days), f"{len(days)} weekdays with every power read < {MIN_DAYS}")
    value = float(np.mean(days))
    # a base load below zero is a sign error or a load left out, not a building
    if value < 0:
        return BaseLoad(None, len(days), f"base load came out negative ({value:.1f} kW)")
    return BaseLoad(value, len(days), None)
