"""Identify one zone: clean, choose the COP line, fit on training days, validate on held-out
days, and accept or reject with reasons.

The 1R1C model is fitted first; a 2R2C model started from it replaces it only where it is
clearly better on the held-out days (``BETTER_2R2C``), since its extra node costs the
optimizer a state per zone and its unmeasured mass temperature adds an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polis.optimizer.identify.clean import clean
from polis.optimizer.identify.cop import CopLine, CopSource, choose_cop
from polis.optimizer.identify.rc import (
    FIT_HORIZON_HOURS,
    LOWER,
    NAMES,
    UPPER,
    Fit,
    ZoneModel,
    fit_1r1c,
    vector_of,
)
from polis.optimizer.identify.rc2 import Fit2, ZoneModel2, fit_2r2c, parameters_at_bound
from polis.optimizer.identify.series import ZoneSeries
from polis.optimizer.identify.validate import Validation, validate

MIN_TRAINING_DAYS = 7.0  # of usable steps: a week sees every weekday's schedule once
# A time constant known to worse than this (relative standard error, cluster-robust) is not
# identified: two standard errors then stay within the 25 % the planning tolerates.
MAX_TAU_RELATIVE_ERROR = 0.125
# A zone's heat capacity outside this is no building zone (kWh/K).
C_RANGE_KWH_PER_K = (0.1, 5000.0)
# Series with more gaps than this are named when too little data is left.
GAP_SHARE_NAMED = 0.05
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
        reason = f"{data.days} whole days of data: not more than the {holdout_days} held out"
        return Identification(None, None, None, (*cleaned.reasons, reason), tuple(notes))
    train = data.days_slice(0, train_days)
    cop = choose_cop(train, cop_prior)
    notes.append(identified_combinations(cop))
    # A series that is not data (a unit mistake, a stuck sensor) is the reason to give;
    # the shortage of data it causes would only repeat it.
    reasons = list(cleaned.reasons) or _data_reasons(train)
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
    chosen, validation, two = _choose_structure(model, train, data, notes)
    lacking = [
        name
        for name, values in (("occupancy", train.occupancy), ("irradiance", train.irradiance_w_m2))
        if values is None
    ]
    if two is None:
        reasons = _fit_reasons(fit, validation.accepted, lacking)
    else:  # the 1R1C fit's figures describe a structure that was not kept
        tau, error = two.model.tau_h, two.tau_standard_error_h
        reasons = _tau_reasons(tau, error, validation.accepted, lacking)
    reasons.extend(validation.reasons)
    return Identification(chosen, fit, validation, tuple(reasons), tuple(notes))


def _choose_structure(
    model: ZoneModel, train: ZoneSeries, data: ZoneSeries, notes: list[str]
) -> tuple[ZoneModel | ZoneModel2, Validation, Fit2 | None]:
    """Both structures validated on the days after ``train``; the 2R2C fit where it is
    chosen."""
    validation = validate(model, data, train.days)
    two = fit_2r2c(train, model)
    if two is None or not np.isfinite(validation.rmse_k):
        return model, validation, None
    wild = parameters_at_bound(two.model)
    if wild:
        notes.append(f"2R2C left out: {', '.join(wild)} at a bound")
        return model, validation, None
    validation2 = validate(two.model, data, train.days)
    if validation2.rmse_k < BETTER_2R2C * validation.rmse_k:
        notes.append(
            f"2R2C chosen: held-out RMSE {validation2.rmse_k:.3f} K against "
            f"{validation.rmse_k:.3f} K for 1R1C"
        )
        return two.model, validation2, two
    notes.append(
        f"1R1C kept: held-out RMSE {validation.rmse_k:.3f} K, 2R2C {validation2.rmse_k:.3f} K"
    )
    return model, validation, None


def _data_reasons(train: ZoneSeries) -> list[str]:
    reasons: list[str] = []
    length = round(FIT_HORIZON_HOURS / train.step_hours)
    usable = sum(steps for _, steps in train.fit_windows(length))
    usable_days = usable * train.step_hours / 24.0
    if usable_days < MIN_TRAINING_DAYS:
        reasons.append(
            f"{usable_days:.1f} days of usable training data < {MIN_TRAINING_DAYS:.0f} days"
            + _gap_summary(train)
        )
    ran = np.isfinite(train.power_kw) & (np.nan_to_num(train.power_kw) > 0.0)
    if np.isfinite(train.power_kw).any() and not ran.any():
        reasons.append("the heat pump never ran in the training data")
    return reasons


def _gap_summary(train: ZoneSeries) -> str:
    """The series with many gaps, most first: where to look for the missing data."""
    shares: list[tuple[float, str]] = []
    for name in (
        "temperature_c",
        "outdoor_c",
        "power_kw",
        "irradiance_w_m2",
        "occupancy",
        "cooling_power_kw",
    ):
        values = getattr(train, name)
        if values is not None and len(values):
            share = float(np.mean(~np.isfinite(values)))
            if share > GAP_SHARE_NAMED:
                shares.append((share, name))
    if not shares:
        return ""
    named = ", ".join(f"{name} {share:.0%}" for share, name in sorted(shares, reverse=True))
    return f" (gaps: {named})"


def _fit_reasons(fit: Fit, validated: bool, lacking: list[str]) -> list[str]:
    """What makes the 1R1C fit unusable. ``validated``: the held-out figures passed;
    ``lacking``: the optional inputs the zone has no series for."""
    reasons: list[str] = []
    values = dict(zip(NAMES, vector_of(fit.model), strict=True))
    for name in fit.at_bound:
        i = NAMES.index(name)
        reasons.append(
            f"{name} at its bound: {values[name]:.4g}, allowed {LOWER[i]:g}…{UPPER[i]:g}"
            + _bound_hint(name, lacking)
        )
    c = fit.model.c_kwh_per_k
    if not C_RANGE_KWH_PER_K[0] <= c <= C_RANGE_KWH_PER_K[1]:
        reasons.append(
            f"c_kwh_per_k {c:.4g} outside {C_RANGE_KWH_PER_K[0]:g}…{C_RANGE_KWH_PER_K[1]:g}"
        )
    error = fit.standard_errors.get("tau_h", float("inf"))
    reasons.extend(_tau_reasons(fit.model.tau_h, error, validated, lacking))
    return reasons


def _bound_hint(name: str, lacking: list[str]) -> str:
    if name == "r_k_per_kw":
        return " (a power in W instead of kW?)"
    if lacking:
        return f" (no {' or '.join(lacking)} series: gains the model cannot place?)"
    return ""


def _tau_reasons(tau: float, error: float, validated: bool, lacking: list[str]) -> list[str]:
    """τ known to worse than ``MAX_TAU_RELATIVE_ERROR``: where the model follows the
    held-out days, the data do not move the zone enough to tell τ; where it does not, the
    model misses something, most often an input."""
    if error < MAX_TAU_RELATIVE_ERROR * tau:
        return []
    head = (
        f"time constant not identified: {tau:.3g} ± {error:.2g} h "
        f"(> {MAX_TAU_RELATIVE_ERROR:.1%}): "
    )
    if validated:
        return [
            head + "the data do not excite the zone enough to learn it (a constant "
            "setpoint, a coarse sensor); a setback or free-float test is needed"
        ]
    missing = ", ".join(lacking) if lacking else "occupancy, irradiance, the heat pump's mode"
    return [head + f"the model does not follow the data; an input it lacks ({missing})?"]
