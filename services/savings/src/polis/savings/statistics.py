"""Goodness-of-fit and savings-uncertainty statistics per ASHRAE Guideline 14-2014.

All functions take observed values and model predictions (or residuals) as arrays; NaNs are
not accepted here, callers drop missing observations first.

- CV(RMSE) = sqrt(sum(e^2) / (n - p)) / mean(y)
- NMBE     = sum(y - y_hat) / ((n - p) * mean(y))
- R^2      = 1 - SS_res / SS_tot
- Fractional savings uncertainty (Annex B, with the lag-1 autocorrelation correction):
  dE/E = 1.26 * t * CV * sqrt((n / n') * (1 + 2 / n') / m) / F,
  n' = n * (1 - rho) / (1 + rho), t from Student's t with n' - p degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from polis.savings.tdist import t_critical

#: Guideline 14 empirical factor in the fractional savings uncertainty formula.
G14_UNCERTAINTY_FACTOR = 1.26


def _pair(observed: ArrayLike, predicted: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    y = np.asarray(observed, dtype=float)
    y_hat = np.asarray(predicted, dtype=float)
    if y.shape != y_hat.shape or y.ndim != 1:
        raise ValueError("observed and predicted must be 1-D arrays of the same length")
    if y.size == 0:
        raise ValueError("no observations")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(y_hat))):
        raise ValueError("observations and predictions must be finite")
    return y, y_hat


def _dof(n: int, parameters: int) -> int:
    if parameters < 0:
        raise ValueError("parameters must be >= 0")
    if n - parameters <= 0:
        raise ValueError(f"need more observations ({n}) than parameters ({parameters})")
    return n - parameters


def r_squared(observed: ArrayLike, predicted: ArrayLike) -> float:
    y, y_hat = _pair(observed, predicted)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ss_res = float(np.sum((y - y_hat) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def adjusted_r_squared(r2: float, n: int, regressors: int) -> float:
    """Adjusted R^2 for a model with ``regressors`` explanatory terms plus an intercept."""
    if n - regressors - 1 <= 0:
        return float("nan")
    return 1.0 - (1.0 - r2) * (n - 1) / (n - regressors - 1)


def _residuals(
    observed: ArrayLike, predicted: ArrayLike, parameters: int
) -> tuple[NDArray[np.float64], int, float]:
    """Residuals y - y_hat, the n - p degrees of freedom and the observed mean."""
    y, y_hat = _pair(observed, predicted)
    return y - y_hat, _dof(y.size, parameters), float(y.mean())


def cv_rmse(observed: ArrayLike, predicted: ArrayLike, parameters: int) -> float:
    """CV(RMSE) as a fraction (0.15 = 15 %), with the n - p degrees-of-freedom adjustment."""
    residuals, dof, mean = _residuals(observed, predicted, parameters)
    if mean == 0.0:
        return float("inf")
    # |mean|: a net-exporting building (rooftop PV) has a negative mean, and a spread is positive.
    return math.sqrt(float(np.sum(residuals**2)) / dof) / abs(mean)


def nmbe(observed: ArrayLike, predicted: ArrayLike, parameters: int) -> float:
    """Normalised mean bias error as a fraction, positive when the model under-predicts."""
    residuals, dof, mean = _residuals(observed, predicted, parameters)
    if mean == 0.0:
        return float("inf")
    return float(np.sum(residuals)) / (dof * mean)


def lag1_autocorrelation(residuals: ArrayLike) -> float:
    """Lag-1 autocorrelation coefficient of a residual series (in time order)."""
    e = np.asarray(residuals, dtype=float)
    if e.size < 3:
        return 0.0
    d = e - e.mean()
    denom = float(np.dot(d, d))
    if denom == 0.0:
        return 0.0
    return float(np.dot(d[1:], d[:-1]) / denom)


def effective_sample_size(n: int, rho: float) -> float:
    """n' = n (1 - rho) / (1 + rho); rho is clipped to [0, 0.99] (negative rho adds nothing)."""
    rho = min(max(rho, 0.0), 0.99)
    return n * (1.0 - rho) / (1.0 + rho)


@dataclass(frozen=True, slots=True)
class Gates:
    """Acceptance thresholds on CV(RMSE) and |NMBE|, as fractions."""

    max_cv_rmse: float
    max_abs_nmbe: float


#: Guideline 14 calibration gates by data resolution.
MONTHLY_GATES = Gates(max_cv_rmse=0.15, max_abs_nmbe=0.05)
HOURLY_GATES = Gates(max_cv_rmse=0.30, max_abs_nmbe=0.10)


@dataclass(frozen=True, slots=True)
class FitStatistics:
    r_squared: float
    cv_rmse: float
    nmbe: float
    n: int
    parameters: int
    autocorrelation: float
    accepted: bool
    reason: str


def fit_statistics(
    observed: ArrayLike, predicted: ArrayLike, parameters: int, gates: Gates
) -> FitStatistics:
    """All fit statistics of a baseline model and its acceptance against ``gates``."""
    y, y_hat = _pair(observed, predicted)
    cv = cv_rmse(y, y_hat, parameters)
    bias = nmbe(y, y_hat, parameters)
    problems = []
    if not cv <= gates.max_cv_rmse:
        problems.append(f"CV(RMSE) {cv:.1%} exceeds {gates.max_cv_rmse:.0%}")
    if not abs(bias) <= gates.max_abs_nmbe:
        problems.append(f"NMBE {bias:+.2%} outside ±{gates.max_abs_nmbe:.0%}")
    return FitStatistics(
        r_squared=r_squared(y, y_hat),
        cv_rmse=cv,
        nmbe=bias,
        n=int(y.size),
        parameters=parameters,
        autocorrelation=lag1_autocorrelation(y - y_hat),
        accepted=not problems,
        reason="; ".join(problems) if problems else "meets ASHRAE Guideline 14 gates",
    )


def savings_uncertainty(
    stats: FitStatistics, baseline_kwh: float, reporting_points: int, confidence: float
) -> float:
    """Absolute uncertainty (kWh, ± at ``confidence``) of savings over ``reporting_points``.

    Guideline 14 Annex B: dE_save = 1.26 t CV sqrt((n/n')(1 + 2/n') / m) * E_baseline, which is
    the fractional uncertainty dE/E times E_save with F = E_save / E_baseline cancelled.
    """
    if reporting_points <= 0 or not math.isfinite(stats.cv_rmse):
        return float("nan")
    n = stats.n
    n_eff = effective_sample_size(n, stats.autocorrelation)
    dof = max(n_eff - stats.parameters, 1.0)
    t = t_critical(confidence, dof)
    spread = math.sqrt((n / n_eff) * (1.0 + 2.0 / n_eff) / reporting_points)
    return G14_UNCERTAINTY_FACTOR * t * stats.cv_rmse * spread * abs(baseline_kwh)


def fractional_savings_uncertainty(
    stats: FitStatistics,
    baseline_kwh: float,
    savings_kwh: float,
    reporting_points: int,
    confidence: float,
) -> float:
    """dE_save / E_save (a fraction); infinite when there are no savings."""
    if savings_kwh == 0.0:
        return float("inf")
    absolute = savings_uncertainty(stats, baseline_kwh, reporting_points, confidence)
    return absolute / abs(savings_kwh)
