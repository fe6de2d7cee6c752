"""A building's PV from its generation meter: the kWp the optimizer's forecast needs
(pure numpy).

The optimizer forecasts generation as ``kWp · ratio · G / 1000`` (``pv_forecast``, ratio 0.8)
from global horizontal irradiance G. The *kWp-equivalent* is the figure that makes this
forecast match the meter: a least-squares line through the origin of metered power on
irradiance, divided by the ratio. It folds orientation, shading, soiling and the season's
cell temperature into one number (a south-facing array in January yields more per W/m² of
horizontal irradiance than its nameplate says), which is what the forecast can use.

Days the array gave under a tenth of what the irradiance predicts (an inverter trip, snow,
a meter outage) are left out and noted. The last days are held out and predicted from their
irradiance: daily energy CV(RMSE).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polis.optimizer.identify.series import FloatArray

OPTIMIZER_RATIO = 0.8  # the performance ratio ``pv_forecast`` assumes
DAYLIGHT_W_M2 = 50.0  # steps below carry more diffuse-light and timing error than signal
MAX_IRRADIANCE_W_M2 = 1500.0
OUTAGE_SHARE = 0.1  # a day below this share of its predicted energy: the array was off
MIN_TRAINING_DAYS = 5
MIN_DAY_COVERAGE = 0.9  # of a day's daylight steps, for the day to count
CV_LIMIT = 0.15  # held-out daily energy, as for heat pumps
MAX_RELATIVE_ERROR = 0.05  # of the kWp-equivalent (cluster-robust by day)


@dataclass(frozen=True)
class PvFit:
    kwp: float | None  # kWp-equivalent at OPTIMIZER_RATIO; None where it cannot be told
    standard_error_kwp: float | None
    training_days: int
    outage_days: int
    holdout_days: int  # held-out days with enough daylight data
    cv: float | None  # held-out daily energy CV(RMSE)
    reasons: tuple[str, ...]  # why it is rejected; empty when accepted
    notes: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return self.kwp is not None and not self.reasons


@dataclass(frozen=True)
class _Days:
    generation: FloatArray  # (days, steps per day), kW, NaN for gaps
    irradiance: FloatArray
    usable: FloatArray  # bool as float: daylight steps with both measured


def fit_pv(
    generation_kw: FloatArray,
    irradiance_w_m2: FloatArray,
    step_hours: float,
    holdout_days: int = 3,
    ratio: float = OPTIMIZER_RATIO,
) -> PvFit:
    """The kWp-equivalent from whole days of generation and irradiance (the series start
    at local midnight), validated on the last ``holdout_days``."""
    notes: list[str] = []
    generation = _generation(generation_kw, notes)
    irradiance = np.asarray(irradiance_w_m2, dtype=np.float64).copy()
    irradiance[~np.isfinite(irradiance) | (irradiance > MAX_IRRADIANCE_W_M2)] = np.nan
    irradiance = np.clip(irradiance, 0.0, None)
    per_day = round(24.0 / step_hours)
    days = min(len(generation), len(irradiance)) // per_day
    if days <= holdout_days:
        return _rejected(f"{days} whole days of data: not more than the {holdout_days} held out")
    data = _by_day(generation, irradiance, days, per_day)
    train = [d for d in range(days - holdout_days) if _covered(data, d)]
    if len(train) < MIN_TRAINING_DAYS:
        reason = f"{len(train)} training days with daylight data < {MIN_TRAINING_DAYS}"
        return _rejected(reason, notes)
    if not np.nansum(data.generation[train]) > 0.0:
        return _rejected("the generation meter never read above 0 in daylight", notes)
    slope, outages = _fit(data, train)
    train = [d for d in train if d not in outages]
    if outages:
        notes.append(
            f"{len(outages)} days under {OUTAGE_SHARE:.0%} of their predicted yield left out"
        )
    if len(train) < MIN_TRAINING_DAYS:
        reason = f"{len(train)} training days with generation < {MIN_TRAINING_DAYS}"
        return _rejected(reason, notes)
    error = _standard_error(data, train, slope)
    kwp, kwp_error = slope * 1000.0 / ratio, error * 1000.0 / ratio
    held = [d for d in range(days - holdout_days, days) if _covered(data, d)]
    cv = _cv(data, held, slope, step_hours)
    reasons = _reasons(kwp, kwp_error, held, cv)
    return PvFit(kwp, kwp_error, len(train), len(outages), len(held), cv, reasons, tuple(notes))


def _generation(generation_kw: FloatArray, notes: list[str]) -> FloatArray:
    """Generation as a positive power: a meter that counts it as export reads negative."""
    values = np.asarray(generation_kw, dtype=np.float64).copy()
    values[~np.isfinite(values)] = np.nan
    nonzero = values[np.isfinite(values) & (values != 0.0)]
    if nonzero.size and float(np.median(nonzero)) < 0.0:
        notes.append("generation metered as export (negative): sign turned")
        values = -values
    values[values < 0.0] = np.nan  # import at night is the inverter's standby, not PV
    return values


def _by_day(generation: FloatArray, irradiance: FloatArray, days: int, per_day: int) -> _Days:
    shape = (days, per_day)
    g = generation[: days * per_day].reshape(shape)
    i = irradiance[: days * per_day].reshape(shape)
    usable = np.isfinite(g) & np.isfinite(i) & (i >= DAYLIGHT_W_M2)
    return _Days(g, i, usable.astype(np.float64))


def _covered(data: _Days, day: int) -> bool:
    daylight = np.nan_to_num(data.irradiance[day]) >= DAYLIGHT_W_M2
    if not daylight.any():
        return False
    return float(data.usable[day][daylight].mean()) >= MIN_DAY_COVERAGE


def _sums(data: _Days, days: list[int]) -> tuple[FloatArray, FloatArray]:
    """Per day: Σ G·P and Σ G² over usable steps."""
    mask = data.usable[days] > 0
    g = np.where(mask, data.irradiance[days], 0.0)
    p = np.where(mask, data.generation[days], 0.0)
    return (g * p).sum(axis=1), (g * g).sum(axis=1)


def _fit(data: _Days, days: list[int]) -> tuple[float, list[int]]:
    """The slope (kW per W/m²) through the origin, refitted once without outage days."""
    gp, gg = _sums(data, days)
    slope = float(gp.sum() / gg.sum())
    mask = data.usable[days] > 0
    predicted = slope * np.where(mask, data.irradiance[days], 0.0).sum(axis=1)
    metered = np.where(mask, data.generation[days], 0.0).sum(axis=1)
    outages = [d for d, p, m in zip(days, predicted, metered, strict=True) if m < OUTAGE_SHARE * p]
    if not outages:
        return slope, []
    kept = [d for d in days if d not in outages]
    if not kept:
        return slope, outages
    gp, gg = _sums(data, kept)
    return float(gp.sum() / gg.sum()), outages


def _standard_error(data: _Days, days: list[int], slope: float) -> float:
    """Cluster-robust by day: a cloudy day's errors go together."""
    mask = data.usable[days] > 0
    g = np.where(mask, data.irradiance[days], 0.0)
    residual = np.where(mask, data.generation[days] - slope * data.irradiance[days], 0.0)
    scores = (g * residual).sum(axis=1)
    groups = len(days)
    variance = float(scores @ scores) / float((g * g).sum()) ** 2 * groups / max(1, groups - 1)
    return float(np.sqrt(variance))


def _cv(data: _Days, days: list[int], slope: float, step_hours: float) -> float | None:
    if not days:
        return None
    mask = data.usable[days] > 0
    predicted = slope * np.where(mask, data.irradiance[days], 0.0).sum(axis=1) * step_hours
    metered = np.where(mask, data.generation[days], 0.0).sum(axis=1) * step_hours
    mean = float(metered.mean())
    if mean <= 0.0:
        return None
    return float(np.sqrt(np.mean((predicted - metered) ** 2)) / mean)


def _reasons(kwp: float, error: float, held: list[int], cv: float | None) -> tuple[str, ...]:
    reasons: list[str] = []
    if not error < MAX_RELATIVE_ERROR * kwp:
        reasons.append(f"kWp-equivalent not determined: {kwp:.3g} ± {error:.2g} kWp")
    if not held:
        reasons.append("no held-out day with daylight data")
    elif cv is None:
        reasons.append("no generation on the held-out days to check the forecast against")
    elif cv > CV_LIMIT:
        reasons.append(f"held-out daily energy CV(RMSE) {cv:.0%} > {CV_LIMIT:.0%}")
    return tuple(reasons)


def _rejected(reason: str, notes: list[str] | None = None) -> PvFit:
    return PvFit(None, None, 0, 0, 0, None, (reason,), tuple(notes or ()))
