"""What a building's measured data need before a fit: impossible readings become gaps,
a stuck temperature sensor becomes a gap, short gaps in slow inputs are bridged, and a
series that is mostly impossible (a unit mistake) or empty is named in a reason.

Every change is noted; every reason names the series (the ``ZoneSeries`` field) it is
about, so a facility manager knows which point to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from polis.optimizer.identify.series import FloatArray, ZoneSeries

# A temperature that repeats exactly for this long is a stuck sensor, not a building: a
# real zone always moves by a few hundredths of a kelvin.
STUCK_HOURS = 6.0
# A sensor that reports in steps (0.1 K, a BMS's change-of-value increment) can sit on one
# step for half a day in a zone held at its setpoint (up to 15 h on the simulator's zones
# at 0.1 K); not for a whole day with its outdoor swing.
STUCK_HOURS_QUANTISED = 24.0
# A series whose readings step by at least this much is quantised (K).
MIN_RESOLUTION_K = 0.01
# Past this share of stuck or impossible readings a series is not data.
MAX_BAD_SHARE = 0.25
# Gaps up to this long in slow inputs (outdoor temperature, irradiance, occupancy) are
# bridged linearly; the heat pump's power and the zone temperature never are.
BRIDGE_HOURS = 1.0
# Outside these a reading is not what its series says it is.
ZONE_RANGE_C = (-10.0, 45.0)
OUTDOOR_RANGE_C = (-50.0, 60.0)
POWER_RANGE_KW = (0.0, 10_000.0)
IRRADIANCE_RANGE_W_M2 = (-20.0, 1500.0)  # a pyranometer reads a little below 0 at night
OCCUPANCY_RANGE = (-0.01, 1.01)


@dataclass(frozen=True)
class Plausible:
    name: str  # the ZoneSeries field
    low: float
    high: float
    unit: str
    hint: str  # the likely mistake behind most readings outside


PLAUSIBLE = (
    Plausible("temperature_c", *ZONE_RANGE_C, "°C", "°F or K instead of °C?"),
    Plausible("outdoor_c", *OUTDOOR_RANGE_C, "°C", "°F or K instead of °C?"),
    Plausible("power_kw", *POWER_RANGE_KW, "kW", "W instead of kW, or a counter?"),
    Plausible("cooling_power_kw", *POWER_RANGE_KW, "kW", "W instead of kW, or a counter?"),
    Plausible("heat_kw", *POWER_RANGE_KW, "kW", "W instead of kW, or a counter?"),
    Plausible("irradiance_w_m2", *IRRADIANCE_RANGE_W_M2, "W/m²", "kW/m² or lux?"),
    Plausible("occupancy", *OCCUPANCY_RANGE, "", "a percentage instead of a fraction 0..1?"),
)
REQUIRED = ("temperature_c", "outdoor_c", "power_kw")
OPTIONAL = ("irradiance_w_m2", "occupancy", "heat_kw", "cooling_power_kw")


@dataclass(frozen=True)
class Cleaned:
    series: ZoneSeries
    notes: tuple[str, ...]
    stuck_fraction: float
    reasons: tuple[str, ...] = field(default=())  # the data are unusable as they are


def clean(series: ZoneSeries) -> Cleaned:
    """Impossible, stuck and empty readings handled; what was done noted, what makes the
    data unusable given as a reason."""
    notes: list[str] = []
    reasons: list[str] = []
    checks = {check.name: check for check in PLAUSIBLE}
    required = {
        name: _plausible(getattr(series, name), checks[name], notes, reasons) for name in REQUIRED
    }
    stuck = _unstick(required["temperature_c"], series.step_hours, notes, reasons)
    for name, readings in required.items():
        named = any(reason.startswith(f"{name}:") for reason in reasons)
        if not np.isfinite(readings).any() and not named:
            reasons.append(f"{name}: no readings")
    optional: dict[str, FloatArray | None] = {}
    for name in OPTIONAL:
        raw = getattr(series, name)
        values = None if raw is None else _plausible(raw, checks[name], notes, reasons)
        if values is not None and not np.isfinite(values).any():
            notes.append(f"{name}: no readings, left out")
            values = None
        optional[name] = values
    step = series.step_hours
    required["outdoor_c"] = _bridge(required["outdoor_c"], step, "outdoor_c", notes)
    for name in ("irradiance_w_m2", "occupancy"):
        values = optional[name]
        optional[name] = None if values is None else _bridge(values, step, name, notes)
    cleaned = replace(
        series,
        temperature_c=required["temperature_c"],
        outdoor_c=required["outdoor_c"],
        power_kw=required["power_kw"],
        irradiance_w_m2=optional["irradiance_w_m2"],
        occupancy=optional["occupancy"],
        heat_kw=optional["heat_kw"],
        cooling_power_kw=optional["cooling_power_kw"],
    )
    reasons.extend(_unit_reasons(cleaned))
    return Cleaned(cleaned, tuple(notes), stuck, tuple(reasons))


def _plausible(
    raw: FloatArray, check: Plausible, notes: list[str], reasons: list[str]
) -> FloatArray:
    """Readings outside the range (and infinities) become gaps; small negative irradiance
    becomes 0."""
    values = np.asarray(raw, dtype=np.float64).copy()
    values[~np.isfinite(values)] = np.nan
    if check.name == "irradiance_w_m2":
        values[(values < 0.0) & (values >= check.low)] = 0.0
    with np.errstate(invalid="ignore"):
        outside = (values < check.low) | (values > check.high)
    if check.name == "occupancy":
        values[(values >= check.low) & (values < 0.0)] = 0.0
        values[(values > 1.0) & (values <= check.high)] = 1.0
    count = int(outside.sum())
    if not count:
        return values
    readings = int(np.isfinite(values).sum())
    share = count / readings
    notes.append(f"{check.name}: {count} readings outside {_range(check)} treated as gaps")
    if share > MAX_BAD_SHARE:
        reasons.append(
            f"{check.name}: {share:.0%} of readings outside {_range(check)} ({check.hint})"
        )
    values[outside] = np.nan
    return values


def _range(check: Plausible) -> str:
    return f"{check.low:g}…{check.high:g}" + (f" {check.unit}" if check.unit else "")


def _unstick(
    temperature: FloatArray, step_hours: float, notes: list[str], reasons: list[str]
) -> float:
    """Stuck stretches of the zone temperature become gaps, in place; their share."""
    step = resolution(temperature)
    hours = STUCK_HOURS_QUANTISED if step else STUCK_HOURS
    stuck = stuck_mask(temperature, step_hours, hours)
    if not stuck.any():
        return 0.0
    notes.append(
        f"temperature_c: flat for {stuck.sum() * step_hours:.1f} h (runs of {hours:g} h or "
        "more): treated as a stuck sensor (gap)"
    )
    temperature[stuck] = np.nan
    share = float(stuck.mean())
    if share > MAX_BAD_SHARE:
        cause = "a stuck sensor"
        if step:
            cause += (
                f", or a zone so steady that its {step:.2g} K sensor never changed (then "
                "the data do not excite the zone: a setback or free-float test is needed)"
            )
        reasons.append(f"temperature_c: repeated exactly for {share:.0%} of the series ({cause})")
    return share


def resolution(values: FloatArray) -> float:
    """The step of a sensor that reports in steps (e.g. 0.1 K), or 0 for a continuous one."""
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return 0.0
    steps = np.abs(np.diff(finite))
    steps = steps[steps > 1e-9]
    if not steps.size:
        return 0.0
    step = float(steps.min())
    if step < MIN_RESOLUTION_K:
        return 0.0
    units = finite / step
    on_grid = np.abs(units - np.round(units)) < 0.02
    return step if float(on_grid.mean()) > 0.95 else 0.0


def stuck_mask(
    values: FloatArray, step_hours: float, hours: float = STUCK_HOURS
) -> NDArray[np.bool_]:
    """Steps inside a run of exactly repeated (finite) values at least ``hours`` long."""
    n = len(values)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    min_run = max(2, int(np.ceil(hours / step_hours)))
    finite = np.isfinite(values)
    same = np.zeros(n, dtype=bool)  # step k repeats step k-1
    same[1:] = (values[1:] == values[:-1]) & finite[1:] & finite[:-1]
    starts = np.flatnonzero(~same)
    ends = np.append(starts[1:], n)
    long = ends - starts >= min_run
    for start, end in zip(starts[long], ends[long], strict=True):
        mask[start:end] = True
    return mask


def _bridge(values: FloatArray, step_hours: float, name: str, notes: list[str]) -> FloatArray:
    """Gaps of at most ``BRIDGE_HOURS`` between two readings filled linearly."""
    gaps = ~np.isfinite(values)
    if not gaps.any() or gaps.all():
        return values
    longest = max(1, int(BRIDGE_HOURS / step_hours + 1e-9))
    index = np.arange(len(values))
    edges = np.diff(np.concatenate([[0], gaps.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    inner = (starts > 0) & (ends < len(values)) & (ends - starts <= longest)
    if not inner.any():
        return values
    known = ~gaps
    filled = np.interp(index, index[known], values[known])
    out = values.copy()
    bridged = 0
    for start, end in zip(starts[inner], ends[inner], strict=True):
        out[start:end] = filled[start:end]
        bridged += end - start
    notes.append(f"{name}: {bridged} readings in gaps up to {BRIDGE_HOURS:g} h interpolated")
    return out


def _unit_reasons(series: ZoneSeries) -> list[str]:
    """An outdoor temperature above the zone's while the heat pump heats is not an outdoor
    temperature in °C: most likely °F (5 °C reads as 41)."""
    heating = (
        np.isfinite(series.temperature_c)
        & np.isfinite(series.outdoor_c)
        & (np.nan_to_num(series.power_kw) > 0.0)
    )
    if heating.sum() < series.steps_per_day:
        return []
    excess = float(np.median(series.outdoor_c[heating] - series.temperature_c[heating]))
    if excess <= 0.0:
        return []
    return [
        f"outdoor_c: above the zone temperature by {excess:.1f} K (median) while the heat "
        "pump heats (°F instead of °C, or not an outdoor sensor?)"
    ]
