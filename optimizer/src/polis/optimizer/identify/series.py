"""A zone's measured history on a fixed step, and the cleaning applied before any fit.

A reversible heat pump's electric power is split by its operating mode: ``power_kw`` while
it heats, ``cooling_power_kw`` while it cools (a winter day's solar gains make some zones
cool at noon; counted as heating, they spoil the fit).

Convention: ``temperature_c[k]`` is the zone air temperature sampled at the start of step
``k``; ``outdoor_c``, ``power_kw``, ``irradiance_w_m2``, ``occupancy`` and ``heat_kw`` are
means over step ``k``. Gaps are NaN. The series starts at local midnight, so day ``d`` is
steps ``[d·steps_per_day, (d+1)·steps_per_day)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# A temperature that repeats exactly for this long is a stuck sensor, not a building.
STUCK_HOURS = 6.0
# A counter step above this multiple of the series' 99th percentile power is a glitch.
SPIKE_FACTOR = 5.0


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
        if self.step_hours <= 0:
            raise ValueError("step_hours must be positive")
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
        ok = np.isfinite(self.temperature_c) & np.isfinite(self.outdoor_c)
        ok &= np.isfinite(self.power_kw)
        for optional in (self.irradiance_w_m2, self.occupancy, self.cooling_power_kw):
            if optional is not None:
                ok &= np.isfinite(optional)
        return ok


def power_from_counter(counter_kwh: FloatArray, step_hours: float) -> FloatArray:
    """Mean power over each step from an energy counter read at the step starts.

    A counter that goes backwards was reset (or replaced): that step is a gap, and counting
    resumes from the new value. The last step has no end reading and is a gap too.
    """
    counter = np.asarray(counter_kwh, dtype=np.float64)
    power = np.full(len(counter), np.nan)
    if len(counter) < 2:
        return power
    delta = np.diff(counter)
    delta[delta < 0.0] = np.nan
    power[:-1] = delta / step_hours
    finite = power[np.isfinite(power)]
    if finite.size:
        ceiling = SPIKE_FACTOR * max(float(np.percentile(finite, 99)), 1e-6)
        power[power > ceiling] = np.nan
    return power


def stuck_mask(
    values: FloatArray, step_hours: float, hours: float = STUCK_HOURS
) -> NDArray[np.bool_]:
    """Steps inside a run of exactly repeated values at least ``hours`` long."""
    n = len(values)
    mask = np.zeros(n, dtype=bool)
    min_run = max(2, int(np.ceil(hours / step_hours)))
    start = 0
    for k in range(1, n + 1):
        same = k < n and values[k] == values[start] and np.isfinite(values[k])
        if same:
            continue
        if k - start >= min_run:
            mask[start:k] = True
        start = k
    return mask


@dataclass(frozen=True)
class Cleaned:
    series: ZoneSeries
    notes: tuple[str, ...]
    stuck_fraction: float


def clean(series: ZoneSeries) -> Cleaned:
    """Stuck temperatures and impossible powers become gaps; what was done is noted."""
    notes: list[str] = []
    temperature = series.temperature_c.astype(np.float64, copy=True)
    stuck = stuck_mask(temperature, series.step_hours)
    if stuck.any():
        notes.append(
            f"zone temperature flat for {stuck.sum() * series.step_hours:.1f} h: "
            "treated as a stuck sensor (gap)"
        )
        temperature[stuck] = np.nan
    power = series.power_kw.astype(np.float64, copy=True)
    negative = power < 0.0
    if negative.any():
        notes.append(f"{int(negative.sum())} negative power values treated as gaps")
        power[negative] = np.nan
    outdoor = series.outdoor_c.astype(np.float64, copy=True)
    implausible = (outdoor < -50.0) | (outdoor > 60.0)
    if implausible.any():
        notes.append(f"{int(implausible.sum())} implausible outdoor temperatures treated as gaps")
        outdoor[implausible] = np.nan
    cleaned = replace(series, temperature_c=temperature, power_kw=power, outdoor_c=outdoor)
    return Cleaned(cleaned, tuple(notes), float(stuck.mean()) if len(stuck) else 0.0)
