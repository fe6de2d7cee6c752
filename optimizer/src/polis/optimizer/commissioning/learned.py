"""A zone's learned catalogue entry: the identified model in the optimizer's terms.

The identified 1R1C model maps onto the ``hvac`` keys one to one but for two things:

- **Gains.** The model's internal gains follow the occupancy series,
  ``g_u + (g_o − g_u)·occupancy``; the optimizer knows one gain for the zone's occupied
  comfort periods and one for the rest. The occupied gain is the model's gain at the low end
  of the history's occupied steps (their 10th percentile: a school's quiet afternoon hours,
  not its full mornings), so that a plan errs towards heating enough; the unoccupied gain
  is the model's mean over the other steps. (With the mean of the occupied steps the
  classrooms' plan expected 35 kW of gains where the afternoon brought a quarter of that,
  and the zone spent 3.9 Kh below comfort in a day, as much as without the optimizer.)
- **The structure.** The catalogue holds 1R1C zones. Where identification chose a 2R2C model
  (better on the held-out days by its margin), the 1R1C fit is written if it passes the
  same held-out acceptance on its own (:func:`one_node_validation`).
- **The electric limit** (``max_kw``): the heat pump's input at full output in the warm hours
  of the history (:func:`polis.optimizer.identify.controller.full_output_input`), with a
  10 % margin, never above the nameplate figure the catalogue had; the nameplate figure
  where the heat pump never ran at full output.

The controller's band and cooling offset come from its BMS points where they show them
(:mod:`polis.optimizer.identify.controller`); otherwise the catalogue's stay.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from polis.common.catalogue.loads import ModelState, ZoneConfig
from polis.optimizer.identify import Fit, Validation, ZoneModel, ZoneSeries, clean, validate
from polis.optimizer.identify.controller import ControllerFit
from polis.optimizer.identify.series import FloatArray

DIGITS = 4
CAPACITY_MARGIN = 0.9  # of the full-output input the optimizer may plan with
STEP = timedelta(minutes=15)
MAX_TAU_RELATIVE_ERROR = 0.3  # as identification judges the chosen model
OCCUPIED_GAIN_QUANTILE = 0.1  # of the model's gain over the occupied steps: errs low


def one_node_validation(fit: Fit, series: ZoneSeries, holdout_days: int) -> Validation:
    """The 1R1C fit validated on the held-out days as identification validates the chosen
    model, with its own reasons: a time constant at its bound or known to worse than 30 %."""
    data = clean(series).series
    validation = validate(fit.model, data, data.days - holdout_days)
    reasons = list(validation.reasons)
    reasons += [f"{name} at its bound" for name in fit.at_bound if name in ("tau_h", "r_k_per_kw")]
    tau, error = fit.model.tau_h, fit.standard_errors.get("tau_h", float("inf"))
    if not error < MAX_TAU_RELATIVE_ERROR * tau:
        reasons.append(f"time constant not identified: {tau:.0f} ± {error:.0f} h")
    return replace(validation, reasons=tuple(reasons))


def occupied_steps(zone: ZoneConfig, times: list[datetime], timezone: str) -> FloatArray:
    """1.0 for steps in one of the zone's comfort periods (judged at the step's end, as the
    optimizer judges a slot), else 0.0."""
    tz = ZoneInfo(timezone)
    return np.array(
        [
            1.0 if any(p.contains((t + STEP).astimezone(tz)) for p in zone.occupied) else 0.0
            for t in times
        ]
    )


def catalogue_gains(
    model: ZoneModel, series: ZoneSeries, occupied: FloatArray
) -> tuple[float, float]:
    """(occupied, unoccupied) internal gains: the model's at the low end of the occupied
    steps, and its mean over the others."""
    gains = np.full(series.steps, model.gains_unoccupied_kw)
    if series.occupancy is not None:
        spread = model.gains_occupied_kw - model.gains_unoccupied_kw
        gains = gains + spread * series.occupancy
    valid = np.isfinite(gains)
    inside, outside = valid & (occupied > 0.5), valid & (occupied <= 0.5)
    g_occupied = (
        float(np.quantile(gains[inside], OCCUPIED_GAIN_QUANTILE))
        if inside.any()
        else model.gains_occupied_kw
    )
    g_unoccupied = float(np.mean(gains[outside])) if outside.any() else model.gains_unoccupied_kw
    return g_occupied, g_unoccupied


def electric_limit(nameplate_kw: float, controller: ControllerFit | None) -> tuple[float, str]:
    """(max_kw, where it came from)."""
    if controller is None or controller.full_output_kw is None:
        return nameplate_kw, "nameplate"
    measured = CAPACITY_MARGIN * controller.full_output_kw
    if measured >= nameplate_kw:
        return nameplate_kw, "nameplate (below the measured full-output input)"
    return measured, f"full output ({controller.full_output_steps} steps)"


def zone_entry(
    zone: ZoneConfig,
    model: ZoneModel,
    series: ZoneSeries,
    occupied: FloatArray,
    controller: ControllerFit | None,
) -> dict[str, Any]:
    """The catalogue keys the learned zone replaces, and ``model: learned``."""
    g_occupied, g_unoccupied = catalogue_gains(model, series, occupied)
    max_kw, _ = electric_limit(zone.max_kw, controller)
    band = zone.controller.proportional_band_k
    offset = zone.controller.cooling_offset_k
    if controller is not None:
        band = controller.proportional_band_k if controller.proportional_band_k else band
        offset = controller.cooling_offset_k if controller.cooling_offset_k else offset
    values: dict[str, Any] = {
        "model": ModelState.LEARNED.value,
        "r_k_per_kw": model.r_k_per_kw,
        "c_kwh_per_k": model.c_kwh_per_k,
        "max_kw": max_kw,
        "cop_nominal": model.cop.nominal,
        "cop_slope_per_k": model.cop.slope_per_k,
        "cop_reference_c": model.cop.reference_c,
        "gains_occupied_kw": g_occupied,
        "gains_unoccupied_kw": g_unoccupied,
        "solar_aperture_m2": model.aperture_m2,
    }
    values = {k: round(float(v), DIGITS) if k != "model" else v for k, v in values.items()}
    values["controller"] = {
        "proportional_band_k": round(band, DIGITS),
        "cooling_offset_k": None if offset is None else round(offset, DIGITS),
    }
    return values
