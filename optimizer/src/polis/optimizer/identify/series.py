"""A zone's measured history on a fixed step, the windows a model can run over, and
energy counters turned into power.

A reversible heat pump's electric power is split by its operating mode: ``power_kw`` while
it heats, ``cooling_power_kw`` while it cools (a winter day's solar gains make some zones
cool at noon; counted as heating, they spoil the fit).

Convention: ``temperature_c[k]`` is the zone air temperature sampled at the start of step
``k``; ``outdoor_c``, ``power_kw``, ``irradiance_w_m2``, ``occupancy`` and ``heat_kw`` are
means over step ``k``. Gaps are NaN. The series starts at local midnight, so day ``d`` is
steps ``[d·steps_per_day, (d+1)·steps_per_day)``. Cleaning (``clean.py``) runs before any
fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# A counter step above this multiple of the series' 99th percentile power is a glitch.
SPIKE_FACTOR = 5.0
# A window shorter than this says little about dynamics.
MIN_WINDOW_STEPS = 4


@dataclass(frozen=True)
class ZoneSeries:
    step_hours: float
    temperature_c: FloatArray
    outdoor_c: FloatArray
    power_kw: FloatArray  # heat pump electric power (heating), kW
    irradiance_w_m2: FloatArray | None = None  # global horizontal irradiance
    occupancy: FloatArray | None = None  # 0..1
    heat_kw: FloatArray | None = None  # the heat pump's thermal sub-meter, where there is one
    cooling_power_kw: FloatArray | None = None  # electric power while it cools (its mode point)

    def __post_init__(self) -> None:
        n = len(self.temperature_c)
        if not (np.isfinite(self.step_hours) and 0 < self.step_hours <= 24):
            raise ValueError(f"step_hours must lie in (0, 24], got {self.step_hours}")
        for name in (
            "outdoor_c",
            "power_kw",
            "irradiance_w_m2",
            "occupancy",
            "heat_kw",
            "cooling_power_kw",
        ):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} values, temperature_c has {n}")

    @property
    def steps(self) -> int:
        return len(self.temperature_c)

    @property
    def steps_per_day(self) -> int:
        return round(24.0 / self.step_hours)

    @property
    def days(self) -> int:
        return self.steps // self.steps_per_day

    def days_slice(self, first: int, count: int) -> ZoneSeries:
        """Days ``[first, first + count)`` as a series of their own."""
        lo = first * self.steps_per_day
        hi = min(self.steps, (first + count) * self.steps_per_day)

        def cut(values: FloatArray | None) -> FloatArray | None:
            return None if values is None else values[lo:hi]

        return ZoneSeries(
            step_hours=self.step_hours,
            temperature_c=self.temperature_c[lo:hi],
            outdoor_c=self.outdoor_c[lo:hi],
            power_kw=self.power_kw[lo:hi],
            irradiance_w_m2=cut(self.irradiance_w_m2),
            occupancy=cut(self.occupancy),
            heat_kw=cut(self.heat_kw),
            cooling_power_kw=cut(self.cooling_power_kw),
        )

    def valid_steps(self) -> NDArray[np.bool_]:
        """Steps whose every input and start temperature is measured."""
        ok: NDArray[np.bool_] = self.input_steps() & np.isfinite(self.temperature_c)
        return ok

    def input_steps(self) -> NDArray[np.bool_]:
        """Steps whose every model input is measured (the temperature may be missing)."""
        ok = np.isfinite(self.outdoor_c) & np.isfinite(self.power_kw)
        for optional in (self.irradiance_w_m2, self.occupancy, self.cooling_power_kw):
            if optional is not None:
                ok &= np.isfinite(optional)
        return ok

    def measured_steps(self) -> NDArray[np.bool_]:
        ok: NDArray[np.bool_] = np.isfinite(self.temperature_c)
        return ok

    def fit_windows(self, length: int) -> list[tuple[int, int]]:
        """Windows of at most ``length`` steps the model can be run over, from a measured
        start temperature on measured inputs, through missing temperatures."""
        return windows(self.input_steps(), length, self.measured_steps())


def windows(
    valid: NDArray[np.bool_], length: int, measured: NDArray[np.bool_] | None = None
) -> list[tuple[int, int]]:
    """``(start, steps)`` of consecutive valid steps, cut into pieces of at most ``length``.

    Without ``measured``, ``valid`` marks steps whose inputs *and* start temperature are
    measured; a window of ``steps`` steps needs the temperature at its end too, so it stops
    one step before the next gap. With ``measured`` (the steps whose temperature is
    measured), ``valid`` marks the inputs alone: a window then runs through missing
    temperatures (the model needs its inputs, not its output), starting and ending on a
    measured one.
    """
    if measured is None:
        return _windows(valid, length)
    out: list[tuple[int, int]] = []
    n = len(valid)
    k = 0
    while k < n:
        if not valid[k]:
            k += 1
            continue
        end = k
        while end < n and valid[end]:
            end += 1
        out.extend(_measured_windows(measured, k, end, length))
        k = end
    return out


def _windows(valid: NDArray[np.bool_], length: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    n = len(valid)
    k = 0
    while k < n:
        if not valid[k]:
            k += 1
            continue
        end = k
        while end < n and valid[end]:
            end += 1
        run = end - k - 1  # steps with a measured end temperature
        for start in range(k, k + run, length):
            steps = min(length, k + run - start)
            if steps >= MIN_WINDOW_STEPS:
                out.append((start, steps))
        k = end
    return out


def _measured_windows(
    measured: NDArray[np.bool_], k: int, end: int, length: int
) -> list[tuple[int, int]]:
    """Windows inside the run of valid inputs ``[k, end)``: each starts on a measured
    temperature and ends on one (at most ``end``, the temperature after the run's last
    step), with at least ``MIN_WINDOW_STEPS`` measured temperatures after its start."""
    out: list[tuple[int, int]] = []
    last = min(end, len(measured) - 1)
    start = k
    while start < last:
        if not measured[start]:
            start += 1
            continue
        stop = min(start + length, last)
        while stop > start and not measured[stop]:
            stop -= 1
        if stop == start:
            start += 1
            continue
        if int(measured[start + 1 : stop + 1].sum()) >= MIN_WINDOW_STEPS:
            out.append((start, stop - start))
        start = stop
    return out


def power_from_counter(counter_kwh: FloatArray, step_hours: float) -> FloatArray:
    """Mean power over each step from an energy counter read at the step starts.

    A counter that goes backwards was reset (or replaced): that step is a gap, and counting
    resumes from the new value. The last step has no end reading and is a gap too.
    """
    counter = np.asarray(counter_kwh, dtype=np.float64)
    power = np.full(len(counter), np.nan)
    if len(counter) < 2:
        return power
    with np.errstate(invalid="ignore", over="ignore"):
        delta = np.diff(counter)
        delta[delta < 0.0] = np.nan
        power[:-1] = delta / step_hours
    power[~np.isfinite(power)] = np.nan  # an unreadable or overflowing register
    finite = power[np.isfinite(power)]
    if finite.size:
        ceiling = SPIKE_FACTOR * max(float(np.percentile(finite, 99)), 1e-6)
        power[power > ceiling] = np.nan
    return power
