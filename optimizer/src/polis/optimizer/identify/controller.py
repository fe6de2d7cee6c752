"""The zone controller as its data show it: the proportional band, the cooling offset and the
heat pump's electric input at full output (pure numpy).

A proportional controller's heating output rises linearly as the zone falls below its
setpoint: ``output = 50 % + 100 % · (setpoint − T) / band``, saturating at 0 and 100 %. A
line through the unsaturated steps gives the band (its slope is 100 %/band). The optimizer
uses the band to command setpoints at which a floating zone neither heats nor cools, and the
cooling offset (how far above the heating setpoint the same controller starts cooling, read
from the BMS's cooling setpoint) to keep those setpoints below cooling.

Inputs are readings taken together (one poll's: a 15-minute mean mixes a window's saturated
and unsaturated instants, which took the band's R² from 1.0 to 0.3 on the demo's history),
NaN for gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from polis.optimizer.identify.series import FloatArray

# steps whose mean heating output lies strictly inside these bounds are unsaturated
OUTPUT_LO_PCT, OUTPUT_HI_PCT = 5.0, 95.0
BAND_MIN_STEPS = 24  # six hours of unsaturated steps
BAND_MIN_R2 = 0.8  # below: the output does not follow a proportional law
BAND_LIMITS_K = (0.05, 5.0)
# a reading at or above this output is the heat pump at full output
FULL_OUTPUT_PCT = 99.0
FULL_OUTPUT_MIN_STEPS = 8
# Full output is reached on cold mornings, when the input is highest; the input at full
# output falls as the air warms (the COP rises faster than the capacity). A line through the
# full-output readings against outdoor temperature, read at the warm end of the history's
# outdoor temperatures, is what the heat pump can be counted on for in any hour.
WARM_QUANTILE = 0.95
MIN_OUTDOOR_SPREAD_K = 3.0  # of the full-output readings, for a line; else their low end
FULL_OUTPUT_QUANTILE = 0.1


@dataclass(frozen=True)
class ControllerFit:
    proportional_band_k: float | None  # None where the data do not show one
    band_steps: int  # unsaturated steps the band was fitted on
    band_r2: float | None
    cooling_offset_k: float | None  # None: no cooling setpoint read, or not above the band
    full_output_kw: float | None  # electric input at full output in the warm hours, None: never
    full_output_steps: int
    notes: tuple[str, ...]


def _finite(*series: FloatArray | None) -> NDArray[np.bool_]:
    mask = np.ones(len(next(s for s in series if s is not None)), dtype=bool)
    for values in series:
        if values is not None:
            mask &= np.isfinite(values)
    return mask


def fit_band(
    setpoint_c: FloatArray, temperature_c: FloatArray, heating_output_pct: FloatArray
) -> tuple[float | None, int, float | None, str | None]:
    """(band K, steps used, R², why not) from the unsaturated steps."""
    error = setpoint_c - temperature_c
    mask = _finite(error, heating_output_pct)
    mask &= (heating_output_pct > OUTPUT_LO_PCT) & (heating_output_pct < OUTPUT_HI_PCT)
    steps = int(mask.sum())
    if steps < BAND_MIN_STEPS:
        return None, steps, None, f"{steps} unsaturated steps of heating output < {BAND_MIN_STEPS}"
    x, y = error[mask], heating_output_pct[mask]
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    spread = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / spread if spread > 0 else 0.0
    if slope <= 0 or r2 < BAND_MIN_R2:
        return None, steps, r2, f"heating output not proportional to the error (R² {r2:.2f})"
    band = 100.0 / float(slope)
    lo, hi = BAND_LIMITS_K
    if not lo <= band <= hi:
        return None, steps, r2, f"band {band:.2f} K outside {lo}–{hi} K"
    return band, steps, r2, None


def cooling_offset(
    setpoint_c: FloatArray, cooling_setpoint_c: FloatArray, band_k: float | None
) -> float | None:
    """How far above the heating setpoint the controller cools: the median of the BMS's
    cooling setpoint less its heating setpoint; None without readings, or where it does not
    clear the band (heating and cooling would overlap)."""
    gap = (cooling_setpoint_c - setpoint_c)[_finite(cooling_setpoint_c, setpoint_c)]
    if not gap.size:
        return None
    offset = float(np.median(gap))
    return offset if offset > (band_k or 0.0) else None


def full_output_input(
    power_kw: FloatArray, outdoor_c: FloatArray | None, at_full: NDArray[np.bool_]
) -> float:
    """The heat pump's electric input at full output in the history's warm hours."""
    power = power_kw[at_full]
    if outdoor_c is None:
        return float(np.quantile(power, FULL_OUTPUT_QUANTILE))
    outdoor = outdoor_c[at_full]
    if float(np.ptp(outdoor)) < MIN_OUTDOOR_SPREAD_K:
        return float(np.quantile(power, FULL_OUTPUT_QUANTILE))
    slope, intercept = np.polyfit(outdoor, power, 1)
    warm = float(np.nanquantile(outdoor_c, WARM_QUANTILE))
    # never above what was measured: a line rising with temperature is noise, not a plant
    return float(min(slope * warm + intercept, np.quantile(power, FULL_OUTPUT_QUANTILE)))


def fit_controller(
    setpoint_c: FloatArray | None,
    temperature_c: FloatArray,
    heating_output_pct: FloatArray | None,
    cooling_setpoint_c: FloatArray | None,
    power_kw: FloatArray,
    outdoor_c: FloatArray | None = None,
) -> ControllerFit:
    """What the zone's BMS points show of its controller; each part None where they do not."""
    notes: list[str] = []
    band: float | None = None
    steps, r2 = 0, None
    if setpoint_c is None or heating_output_pct is None:
        notes.append("controller band: no setpoint in force or heating output point")
    else:
        band, steps, r2, why = fit_band(setpoint_c, temperature_c, heating_output_pct)
        if why is not None:
            notes.append(f"controller band: {why}")
    offset: float | None = None
    if setpoint_c is not None and cooling_setpoint_c is not None:
        offset = cooling_offset(setpoint_c, cooling_setpoint_c, band)
    full, full_steps = None, 0
    if heating_output_pct is not None:
        at_full = _finite(heating_output_pct, power_kw, outdoor_c)
        at_full &= heating_output_pct >= FULL_OUTPUT_PCT
        full_steps = int(at_full.sum())
        if full_steps >= FULL_OUTPUT_MIN_STEPS:
            full = full_output_input(power_kw, outdoor_c, at_full)
    return ControllerFit(band, steps, r2, offset, full, full_steps, tuple(notes))
