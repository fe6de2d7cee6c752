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

from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from polis.optimizer.identify.series import FloatArray, ZoneSeries, windows

RMSE_LIMIT_K = 0.5
CV_LIMIT = 0.15
# Days whose metered energy is below this share of the mean are left out of the CV: a
# CV over days with nothing to predict says nothing.
MIN_DAY_ENERGY_SHARE = 0.1
# A day's energy is checked where each series is measured this much, without a gap longer
# than MAX_DAY_GAP_HOURS (its gaps are then interpolated).
MIN_DAY_COVERAGE = 0.5
MAX_DAY_GAP_HOURS = 2.0


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
    model: Dynamics, series: ZoneSeries, filled: ZoneSeries, lo: int, steps: int
) -> tuple[float, float] | None:
    """Predicted and metered energy of the day ``[lo, lo + steps)``, or None where the day
    is too gappy to tell.

    Both come from ``filled``, the series with its gaps interpolated: the model inverted
    step by step telescopes over a day to its mean temperature and end points, which
    scattered missing readings barely move, while skipping the missing steps would break
    the telescoping and leave each step's sensor noise in the sum."""
    hi = lo + steps
    if hi >= series.steps:
        return None
    for values in _day_series(series, lo, hi):
        if not _complete_enough(values, series.step_hours):
            return None
    predicted = model.required_power_kw(filled, lo, steps)
    metered = filled.power_kw[lo:hi]
    return max(float(predicted.sum()), 0.0) * series.step_hours, float(
        metered.sum() * series.step_hours
    )


def _day_series(series: ZoneSeries, lo: int, hi: int) -> list[FloatArray]:
    out = [series.temperature_c[lo : hi + 1], series.outdoor_c[lo:hi], series.power_kw[lo:hi]]
    for optional in (series.irradiance_w_m2, series.occupancy, series.cooling_power_kw):
        if optional is not None:
            out.append(optional[lo:hi])
    return out


def _complete_enough(values: FloatArray, step_hours: float) -> bool:
    """At least ``MIN_DAY_COVERAGE`` measured and no gap longer than ``MAX_DAY_GAP_HOURS``."""
    ok = np.isfinite(values)
    if ok.mean() < MIN_DAY_COVERAGE:
        return False
    edges = np.diff(np.concatenate([[0], (~ok).astype(np.int8), [0]]))
    longest = int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max(initial=0))
    return longest * step_hours <= MAX_DAY_GAP_HOURS


def validate(model: Dynamics, series: ZoneSeries, first_day: int = 0) -> Validation:
    """Validate ``model`` on the days of ``series`` from ``first_day`` (the held-out days).

    The days before are history the model may read its state from (a 2R2C model's mass
    temperature), never fitted on here. Each day's simulations run through missing
    temperatures (only the inputs must be measured) and are scored where one is measured."""
    per_day = series.steps_per_day
    inputs = series.input_steps()
    measured = series.measured_steps()
    filled = filled_series(series)
    errors: list[FloatArray] = []
    energies: list[tuple[float, float]] = []
    heated = False
    for day in range(first_day, series.days):
        lo = day * per_day
        for start, steps in windows(
            inputs[lo : lo + per_day], per_day, measured[lo : lo + per_day + 1]
        ):
            simulated = model.simulate(series, lo + start, steps)
            actual = series.temperature_c[lo + start + 1 : lo + start + steps + 1]
            seen = np.isfinite(actual)
            errors.append(simulated[seen] - actual[seen])
        heated = heated or bool(np.nansum(series.power_kw[lo : lo + per_day]) > 0.0)
        energy = _day_energy(model, series, filled, lo, per_day)
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
    if not energies and heated:
        reasons.append(
            "no held-out day complete enough to check the energy (each series "
            f"{MIN_DAY_COVERAGE:.0%} measured, no gap over {MAX_DAY_GAP_HOURS:g} h)"
        )
    return Validation(series.days - first_day, rmse, cv, tuple(reasons))


def filled_series(series: ZoneSeries) -> ZoneSeries:
    """Every series with its gaps interpolated, for a day's energy."""

    def fill(values: FloatArray | None) -> FloatArray | None:
        return None if values is None else interpolated(values)

    return replace(
        series,
        temperature_c=interpolated(series.temperature_c),
        outdoor_c=interpolated(series.outdoor_c),
        power_kw=interpolated(series.power_kw),
        irradiance_w_m2=fill(series.irradiance_w_m2),
        occupancy=fill(series.occupancy),
        cooling_power_kw=fill(series.cooling_power_kw),
    )


def interpolated(values: FloatArray) -> FloatArray:
    """Gaps filled linearly between their measured neighbours (held at the ends)."""
    ok = np.isfinite(values)
    if ok.all() or not ok.any():
        return values
    index = np.arange(len(values))
    filled: FloatArray = np.interp(index, index[ok], values[ok])
    return filled


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
