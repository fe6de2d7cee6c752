"""Held-out validation of an identified zone model, and the acceptance decision.

Each held-out day is simulated 24 h ahead from its measured midnight temperature on measured
inputs only (outdoor temperature, heat pump power, occupancy, irradiance), as the optimizer
would run the model. Thresholds (docs/commissioning.md):

- temperature RMSE ≤ 0.5 K: half the optimizer's 1 K comfort span, and the setpoint
  resolution facility managers work with;
- daily heat pump energy CV(RMSE) ≤ 15 %: the energy the model needs to follow the measured
  temperatures, against the metered energy (ASHRAE Guideline 14 allows 15 % for monthly
  calibration; a day's plan at a worse figure misprices its pre-heating).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from polis.optimizer.identify.rc import windows
from polis.optimizer.identify.series import FloatArray, ZoneSeries

RMSE_LIMIT_K = 0.5
CV_LIMIT = 0.15
# Days whose metered energy is below this share of the mean are left out of the CV: a
# CV over days with nothing to predict says nothing.
MIN_DAY_ENERGY_SHARE = 0.1
MIN_DAY_COVERAGE = 0.9


@dataclass(frozen=True)
class Validation:
    days: int  # held-out days simulated
    rmse_k: float  # NaN without held-out data
    energy_cv: float | None  # None where the held-out days hold no heating to predict
    reasons: tuple[str, ...]  # empty when accepted

    @property
    def accepted(self) -> bool:
        return not self.reasons


class Dynamics(Protocol):
    """What validation needs of a zone model (1R1C or 2R2C)."""

    def simulate(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray: ...

    def required_power_kw(self, series: ZoneSeries, lo: int, steps: int) -> FloatArray: ...


def _day_energy(
    model: Dynamics, series: ZoneSeries, lo: int, steps: int
) -> tuple[float, float] | None:
    valid = series.valid_steps()[lo : lo + steps] & np.isfinite(
        series.temperature_c[lo + 1 : lo + steps + 1]
    )
    if valid.mean() < MIN_DAY_COVERAGE:
        return None
    predicted = model.required_power_kw(series, lo, steps)[valid]
    measured = series.power_kw[lo : lo + steps][valid]
    scale = series.step_hours / valid.mean()  # fill small gaps at the day's mean rate
    return max(float(predicted.sum() * scale), 0.0), float(measured.sum() * scale)


def validate(model: Dynamics, series: ZoneSeries, first_day: int = 0) -> Validation:
    """Validate ``model`` on the days of ``series`` from ``first_day`` (the held-out days).

    The days before are history the model may read its state from (a 2R2C model's mass
    temperature), never fitted on here."""
    per_day = series.steps_per_day
    valid = series.valid_steps()
    errors: list[FloatArray] = []
    energies: list[tuple[float, float]] = []
    for day in range(first_day, series.days):
        lo = day * per_day
        day_valid = valid[lo : lo + per_day].copy()
        for start, steps in windows(day_valid, per_day):
            simulated = model.simulate(series, lo + start, steps)
            errors.append(simulated - series.temperature_c[lo + start + 1 : lo + start + steps + 1])
        if lo + per_day < series.steps:
            energy = _day_energy(model, series, lo, per_day)
            if energy is not None:
                energies.append(energy)
    reasons: list[str] = []
    if not errors:
        return Validation(0, float("nan"), None, ("no held-out day with measured data",))
    residuals = np.concatenate(errors)
    rmse = float(np.sqrt(np.mean(residuals**2)))
    if rmse > RMSE_LIMIT_K:
        reasons.append(f"held-out temperature RMSE {rmse:.2f} K > {RMSE_LIMIT_K} K")
    cv = energy_cv(energies)
    if cv is not None and cv > CV_LIMIT:
        reasons.append(f"held-out daily energy CV(RMSE) {cv:.0%} > {CV_LIMIT:.0%}")
    return Validation(series.days - first_day, rmse, cv, tuple(reasons))


def energy_cv(energies: list[tuple[float, float]]) -> float | None:
    if not energies:
        return None
    predicted, measured = (np.array(v) for v in zip(*energies, strict=True))
    mean = float(measured.mean())
    if mean <= 0.0:
        return None
    keep = measured >= MIN_DAY_ENERGY_SHARE * mean
    if not keep.any():
        return None
    error = predicted[keep] - measured[keep]
    return float(np.sqrt(np.mean(error**2)) / measured[keep].mean())
