"""What a building's baseline model expects over a period, with its uncertainty: the
reference of the gateway's energy alarms.

``expected_kwh`` is the model's prediction of the building's consumption within the IPMVP
boundary (the main meter with generation added back and excluded sub-meters and storage taken
off), summed over the intervals it predicts and the meters measured; ``actual_kwh`` is the
consumption measured over the same intervals. The standard uncertainty is Guideline 14's
savings uncertainty at 68 % for those intervals (with its autocorrelation correction): a noisy
or autocorrelated building gets a wide band. ``expected_main_kwh`` is the same expectation as
the main meter alone would measure it: ``predicted - (consumption - main)``.

With the hourly model, the mean power it expects in the period's unoccupied hours (its own
occupancy detection, closed days included) is given as well, with one hour's standard
uncertainty (CV(RMSE) times the period's mean predicted hour: generous at night, when usage
is below the mean).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from polis.savings.closures import NO_CLOSURES, BuildingCalendar
from polis.savings.hourly_model import HourlyModel
from polis.savings.measurement import BuildingMeasurement, Window
from polis.savings.statistics import savings_uncertainty

Point = tuple[datetime, float]
STANDARD = 0.68  # one standard deviation


@dataclass(frozen=True, slots=True)
class Expectation:
    building: str
    model: str
    accepted: bool
    reason: str
    expected_kwh: float = 0.0  # consumption within the IPMVP boundary
    uncertainty_kwh: float = 0.0
    actual_kwh: float = 0.0  # consumption measured over the counted intervals
    intervals: int = 0
    expected_main_kwh: float | None = None  # at the main meter, where it measured
    unoccupied_kw: float | None = None
    unoccupied_uncertainty_kw: float = 0.0


def per_interval(
    starts: NDArray[np.int64], end_s: int, points: Sequence[Point]
) -> NDArray[np.float64]:
    """Energy of ``points`` summed into the intervals starting at ``starts`` (NaN: none)."""
    out = np.full(starts.shape, np.nan)
    if not points or not starts.size:
        return out
    ts = np.array([int(t.timestamp()) for t, _ in points], dtype=np.int64)
    vs = np.array([v for _, v in points], dtype=float)
    idx = np.searchsorted(starts, ts, side="right") - 1
    keep = (idx >= 0) & (ts < end_s) & np.isfinite(vs)
    total = np.bincount(idx[keep], weights=vs[keep], minlength=starts.size)
    count = np.bincount(idx[keep], minlength=starts.size)
    return np.where(count > 0, total, np.nan)


def _local_features(
    starts: NDArray[np.int64], timezone: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Hour of the week (0 = Monday 00:00 local), calendar month (1-12) and local day
    (days since 1970-01-01) of each hour start."""
    zone = ZoneInfo(timezone)
    local = [datetime.fromtimestamp(int(s), zone) for s in starts.tolist()]
    how = np.array([t.weekday() * 24 + t.hour for t in local], dtype=np.int64)
    month = np.array([t.month for t in local], dtype=np.int64)
    day = np.array([t.toordinal() - 719163 for t in local], dtype=np.int64)  # 1970-01-01
    return how, month, day


def _unoccupied(
    model: HourlyModel,
    starts: NDArray[np.int64],
    expected: NDArray[np.float64],
    rows: NDArray[np.bool_],
    timezone: str,
    calendar: BuildingCalendar,
    cv_rmse: float,
) -> tuple[float | None, float]:
    how, month, day = _local_features(starts, timezone)
    closed = calendar.closed(day) if calendar else None
    empty = ~model.occupied(how, month, closed) & rows
    if not empty.any():
        return None, 0.0
    mean_hour = float(np.mean(expected[rows]))
    return float(np.mean(expected[empty])), abs(cv_rmse * mean_hour)


def expectation(
    m: BuildingMeasurement,
    main: Sequence[Point],
    period: Window,
    timezone: str,
    calendar: BuildingCalendar = NO_CLOSURES,
) -> Expectation:
    """The expectation over ``period`` from a measurement whose reporting window it is;
    ``main`` is the main meter's interval energy over the period (for ``expected_main_kwh``)."""
    stats, intervals = m.statistics, m.intervals
    if not m.accepted or stats is None or intervals is None:
        return Expectation(m.building, m.model_label, False, m.reason)
    starts, rows = intervals.start_utc_seconds, intervals.used
    if not rows.any():
        return Expectation(
            m.building, m.model_label, False, "no interval of the period is predicted"
        )
    predicted = intervals.baseline_kwh
    expected_kwh = float(np.sum(predicted[rows]))
    counted = int(rows.sum())
    uncertainty = savings_uncertainty(stats, expected_kwh, counted, STANDARD)
    metered = per_interval(starts, int(period.end.timestamp()), main)
    at_main = rows & np.isfinite(metered)
    expected_main = None
    if at_main.any():
        moved = predicted - (intervals.actual_kwh - metered)
        expected_main = float(np.sum(moved[at_main]))
    unoccupied_kw, unoccupied_sd = None, 0.0
    if isinstance(m.model, HourlyModel):
        unoccupied_kw, unoccupied_sd = _unoccupied(
            m.model, starts, predicted, rows, timezone, calendar, stats.cv_rmse
        )
    return Expectation(
        building=m.building,
        model=m.model_label,
        accepted=True,
        reason=stats.reason,
        expected_kwh=max(expected_kwh, 0.0),
        uncertainty_kwh=float(uncertainty),
        actual_kwh=float(np.sum(intervals.actual_kwh[rows])),
        intervals=counted,
        expected_main_kwh=expected_main,
        unoccupied_kw=None if unoccupied_kw is None else max(unoccupied_kw, 0.0),
        unoccupied_uncertainty_kw=unoccupied_sd,
    )
