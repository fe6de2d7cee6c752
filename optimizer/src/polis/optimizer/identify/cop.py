"""The heat pump's COP line, the one heat input whose scale the zone data cannot give.

From temperatures and electric power alone, a zone model identifies its time constant R·C
and every heat input *relative to C* (COP/C, gains/C, aperture/C): doubling the COP and C
and halving R gives the same temperatures. The COP line fixes the scale. It comes, in order
of preference, from the heat pump's thermal sub-meter (fitted here), from its data sheet
(a prior the caller passes), or from the default below, and the result says which.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from polis.optimizer.identify.series import FloatArray, ZoneSeries

REFERENCE_C = 7.0
COP_MIN, COP_MAX = 1.0, 8.0
# An air-to-water heat pump at a 35 °C supply: a typical data-sheet line.
DEFAULT_NOMINAL = 3.3
DEFAULT_SLOPE_PER_K = 0.09
# Sub-meter steps below this fraction of the peak electric power are start-up noise.
SUBMETER_MIN_FRACTION = 0.1
SUBMETER_MIN_STEPS = 48


class CopSource(StrEnum):
    SUBMETER = "sub-meter"
    PRIOR = "prior"
    DEFAULT = "default"


@dataclass(frozen=True)
class CopLine:
    nominal: float  # COP at the reference outdoor temperature
    slope_per_k: float
    source: CopSource
    reference_c: float = REFERENCE_C

    def at(self, outdoor_c: FloatArray) -> FloatArray:
        value = self.nominal + self.slope_per_k * (outdoor_c - self.reference_c)
        return np.clip(value, COP_MIN, COP_MAX)


DEFAULT_COP = CopLine(DEFAULT_NOMINAL, DEFAULT_SLOPE_PER_K, CopSource.DEFAULT)


def cop_from_submeter(series: ZoneSeries) -> CopLine | None:
    """A line through heat / electricity against outdoor temperature, or None when the
    sub-meter is missing or too short (or too flat in outdoor temperature) to fit one."""
    if series.heat_kw is None:
        return None
    power = series.power_kw
    running = np.isfinite(power) & np.isfinite(series.heat_kw) & np.isfinite(series.outdoor_c)
    peak = float(np.nanmax(np.where(running, power, np.nan))) if running.any() else 0.0
    running &= power > SUBMETER_MIN_FRACTION * max(peak, 1e-9)
    if running.sum() < SUBMETER_MIN_STEPS:
        return None
    outdoor = series.outdoor_c[running]
    ratio = series.heat_kw[running] / power[running]
    if float(np.ptp(outdoor)) < 3.0:
        return CopLine(float(np.median(ratio)), DEFAULT_SLOPE_PER_K, CopSource.SUBMETER)
    slope, intercept = np.polyfit(outdoor - REFERENCE_C, ratio, 1)
    nominal = float(np.clip(intercept, COP_MIN, COP_MAX))
    return CopLine(nominal, float(np.clip(slope, 0.0, 0.3)), CopSource.SUBMETER)


def choose_cop(series: ZoneSeries, prior: CopLine | None) -> CopLine:
    return cop_from_submeter(series) or prior or DEFAULT_COP
