"""Identify one zone: clean, choose the COP line, fit on training days, validate on held-out
days, and accept or reject with reasons.

The 1R1C model is fitted first; a 2R2C model started from it replaces it only where it is
clearly better on the held-out days (``BETTER_2R2C``), since its extra node costs the
optimizer a state per zone and its unmeasured mass temperature adds an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polis.optimizer.identify.cop import CopLine, CopSource, choose_cop
from polis.optimizer.identify.rc import Fit, ZoneModel, fit_1r1c
from polis.optimizer.identify.rc2 import ZoneModel2, fit_2r2c
from polis.optimizer.identify.series import ZoneSeries, clean
from polis.optimizer.identify.validate import Validation, validate

MIN_TRAINING_DAYS = 7.0  # of valid steps: a week sees every weekday's schedule once
MAX_STUCK_FRACTION = 0.25
# Below this spread the zone was held at one temperature: no dynamics to learn from.
MIN_TEMPERATURE_SPREAD_K = 0.5
# A time constant known to worse than this (relative standard error) is not identified.
MAX_TAU_RELATIVE_ERROR = 0.3
# The 2R2C model is kept where its held-out RMSE is below this share of the 1R1C model's.
BETTER_2R2C = 0.8


@dataclass(frozen=True)
class Identification:
    model: ZoneModel | ZoneModel2 | None  # the structure chosen
    fit: Fit | None  # the 1R1C fit, with its standard errors
    validation: Validation | None  # of the chosen model
    reasons: tuple[str, ...]  # why the model is rejected; empty when accepted
    notes: tuple[str, ...]  # what cleaning did and what is assumed

    @property
    def accepted(self) -> bool:
        return self.model is not None and not self.reasons


def identified_combinations(cop: CopLine) -> str:
    """What the data determine, and what rests on the COP line."""
    scale = {
        CopSource.SUBMETER: "the COP line fitted to the thermal sub-meter",
        CopSource.PRIOR: "the COP line from the heat pump's data sheet (prior)",
        CopSource.DEFAULT: "the default COP line (no sub-meter, no data sheet)",
    }[cop.source]
    return (
        "identified from temperatures: time constant R·C and the heat inputs relative to C "
        f"(COP/C, gains/C, aperture/C); R and C separately rest on {scale}"
    )


def identify_zone(
    series: ZoneSeries, *, holdout_days: int = 3, cop_prior: CopLine | None = None
) -> Identification:
    """Fit on all days but the last ``holdout_days``, validate on those."""
    cleaned = clean(series)
    data = cleaned.series
    notes = list(cleaned.notes)
    train_days = data.days - holdout_days
    if train_days <= 0:
        return Identification(None, None, None, ("series shorter than the held-out days",), ())
    train = data.days_slice(0, train_days)
    cop = choose_cop(train, cop_prior)
    notes.append(identified_combinations(cop))
    reasons = _data_reasons(train, cleaned.stuck_fraction)
    if reasons:
        return Identification(None, None, None, tuple(reasons), tuple(notes))
    fit = fit_1r1c(train, cop)
    if fit is None:
        return Identification(None, None, None, ("no usable window of data",), tuple(notes))
    model = fit.model
    if train.occupancy is None:
        model = ZoneModel(
            model.r_k_per_kw,
            model.c_kwh_per_k,
            model.gains_unoccupied_kw,
            model.gains_unoccupied_kw,
            model.aperture_m2,
            cop,
            model.eer,
        )
        notes.append("no occupancy series: one constant gain for all hours")
    reasons = _fit_reasons(fit)
    chosen, validation = _choose_structure(model, train, data, notes)
    reasons.extend(validation.reasons)
    return Identification(chosen, fit, validation, tuple(reasons), tuple(notes))


def _choose_structure(
    model: ZoneModel, train: ZoneSeries, data: ZoneSeries, notes: list[str]
) -> tuple[ZoneModel | ZoneModel2, Validation]:
    """Both structures validated on the days after ``train``."""
    validation = validate(model, data, train.days)
    two = fit_2r2c(train, model)
    if two is None or not np.isfinite(validation.rmse_k):
        return model, validation
    validation2 = validate(two[0], data, train.days)
    if validation2.rmse_k < BETTER_2R2C * validation.rmse_k:
        notes.append(
            f"2R2C chosen: held-out RMSE {validation2.rmse_k:.3f} K against "
            f"{validation.rmse_k:.3f} K for 1R1C"
        )
        return two[0], validation2
    notes.append(
        f"1R1C kept: held-out RMSE {validation.rmse_k:.3f} K, 2R2C {validation2.rmse_k:.3f} K"
    )
    return model, validation


def _data_reasons(train: ZoneSeries, stuck_fraction: float) -> list[str]:
    reasons: list[str] = []
    valid = train.valid_steps()
    valid_days = float(valid.sum()) * train.step_hours / 24.0
    if valid_days < MIN_TRAINING_DAYS:
        reasons.append(
            f"{valid_days:.1f} days of valid training data < {MIN_TRAINING_DAYS:.0f} days"
        )
    if stuck_fraction > MAX_STUCK_FRACTION:
        reasons.append(f"zone temperature sensor stuck for {stuck_fraction:.0%} of the series")
    temps = train.temperature_c[valid]
    if temps.size and float(np.percentile(temps, 95) - np.percentile(temps, 5)) < (
        MIN_TEMPERATURE_SPREAD_K
    ):
        reasons.append(
            "no excitation: the zone temperature stayed within "
            f"{MIN_TEMPERATURE_SPREAD_K} K (constant setpoint); a setback or a free-float "
            "test is needed to learn its time constant"
        )
    if not np.any(train.power_kw[valid] > 0.0):
        reasons.append("the heat pump never ran in the training data")
    return reasons


def _fit_reasons(fit: Fit) -> list[str]:
    reasons = [f"{name} at its bound" for name in fit.at_bound if name in ("tau_h", "r_k_per_kw")]
    tau = fit.model.tau_h
    error = fit.standard_errors.get("tau_h", float("inf"))
    if not error < MAX_TAU_RELATIVE_ERROR * tau:
        reasons.append(
            f"time constant not identified: {tau:.0f} ± {error:.0f} h "
            f"(> {MAX_TAU_RELATIVE_ERROR:.0%})"
        )
    return reasons
