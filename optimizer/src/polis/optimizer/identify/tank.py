"""A hot-water tank's draw profile and standing loss from its temperature and heater power
(pure numpy).

The tank is one node: its stored heat above cold water is ``E = V·c_w·(T − T_cold)``, and
over each step

    heater energy − (E[k+1] − E[k]) = draw + standing loss

so the metered heater power and the measured temperature give what left the tank in each
step. Averaged by local hour over the training weekdays, that is the optimizer's hourly
outflow; the quietest hour is taken as the standing loss (``loss_kw``), the rest of each hour
as its draw (``daily_draw_kwh``). The split does not change a plan (the optimizer subtracts
both), only how the catalogue reads. The catalogue holds one day's profile for every day, so
the weekday profile is learned, and validated on held-out weekdays: each day's outflow
predicted from the profile against the measured one, as a CV(RMSE).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from polis.optimizer.identify.series import FloatArray

WATER_KWH_PER_L_K = 4186.0 / 3.6e6
MIN_TRAINING_DAYS = 5  # weekdays with a complete energy balance
MIN_VALID_FRACTION = 0.9  # of a day's steps, for it to count
CV_LIMIT = 0.25


@dataclass(frozen=True)
class TankModel:
    daily_draw_kwh: tuple[float, ...]  # per local hour, what is drawn (kWh)
    loss_kw: float
    training_days: int
    outflow_kwh_per_day: float  # mean over the training weekdays
    holdout_days: int
    cv: float | None  # held-out daily outflow CV(RMSE); None without a held-out weekday
    reasons: tuple[str, ...]  # why it is rejected; empty when accepted

    @property
    def accepted(self) -> bool:
        return not self.reasons


def outflow_kw(
    temperature_c: FloatArray,
    heater_kw: FloatArray,
    step_hours: float,
    volume_l: float,
    cold_c: float,
) -> FloatArray:
    """Mean draw plus loss over each step (kW), NaN where an input is missing."""
    stored = volume_l * WATER_KWH_PER_L_K * (temperature_c - cold_c)
    change = np.full(len(stored), np.nan)
    change[:-1] = stored[1:] - stored[:-1]
    return np.asarray(heater_kw - change / step_hours, dtype=np.float64)


def _daily(out: FloatArray, per_day: int, step_hours: float) -> tuple[FloatArray, FloatArray]:
    """Each day's outflow (kWh) and the share of its steps that are valid."""
    days = len(out) // per_day
    by_day = out[: days * per_day].reshape(days, per_day)
    valid = np.isfinite(by_day)
    share = valid.mean(axis=1)
    # a day with a few missing steps: their mean stands in for them
    means = np.array(
        [row[ok].mean() if ok.any() else np.nan for row, ok in zip(by_day, valid, strict=True)]
    )
    return means * per_day * step_hours, share


def fit_tank(
    out_kw: FloatArray,
    local_hour: FloatArray,
    weekday: FloatArray,
    step_hours: float,
    holdout_days: int,
) -> TankModel:
    """The profile from all days but the last ``holdout_days``, validated on those.

    ``out_kw`` from :func:`outflow_kw`; ``local_hour`` (0–23) and ``weekday`` (1.0 on Monday
    to Friday) per step; the series starts at local midnight."""
    per_day = round(24.0 / step_hours)
    days = len(out_kw) // per_day
    train_days = days - holdout_days
    daily, share = _daily(out_kw, per_day, step_hours)
    day_is_weekday = weekday[: days * per_day].reshape(days, per_day)[:, 0] > 0.5
    good = day_is_weekday & (share >= MIN_VALID_FRACTION)
    train = good.copy()
    train[train_days:] = False
    reasons: list[str] = []
    if train.sum() < MIN_TRAINING_DAYS:
        reasons.append(f"{int(train.sum())} complete training weekdays < {MIN_TRAINING_DAYS}")
    steps = np.repeat(train, per_day)
    steps = np.concatenate([steps, np.zeros(len(out_kw) - len(steps), dtype=bool)])
    steps &= np.isfinite(out_kw)
    hourly = np.zeros(24)
    for hour in range(24):
        in_hour = steps & (local_hour == hour)
        if in_hour.any():
            hourly[hour] = float(np.mean(out_kw[in_hour]))
    loss = max(float(hourly.min()), 0.0)
    draw = tuple(round(max(float(h) - loss, 0.0), 4) for h in hourly)
    predicted = float(sum(draw) + 24.0 * loss)
    held = good.copy()
    held[:train_days] = False
    cv = None
    if held.any() and predicted > 0:
        errors = daily[held] - predicted
        cv = float(np.sqrt(np.mean(errors**2)) / np.mean(daily[held]))
        if cv > CV_LIMIT:
            reasons.append(f"held-out daily outflow CV(RMSE) {cv:.0%} > {CV_LIMIT:.0%}")
    elif not held.any():
        reasons.append("no complete held-out weekday")
    mean = float(np.mean(daily[train])) if train.any() else float("nan")
    return TankModel(draw, loss, int(train.sum()), mean, int(held.sum()), cv, tuple(reasons))
