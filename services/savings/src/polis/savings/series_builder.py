"""Turn stored readings (time, value) into the regular series the models need (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from polis.savings.calendar import DailySeries, HourlySeries, daily_from_hourly, local_calendar

Point = tuple[datetime, float]
DAY_SECONDS = 86_400


def _seconds(points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
    ts = np.array([int(t.timestamp()) for t, _ in points], dtype=np.int64)
    vs = np.array([v for _, v in points], dtype=float)
    return ts, vs


def interval_seconds(points: Sequence[Point]) -> int | None:
    """The data's typical interval (median spacing), or None with fewer than two points."""
    if len(points) < 2:
        return None
    ts, _ = _seconds(points)
    spacing = np.diff(np.sort(ts))
    spacing = spacing[spacing > 0]
    return int(np.median(spacing)) if spacing.size else None


def is_daily(points: Sequence[Point]) -> bool:
    """True when energy comes per day or coarser (prorated bills, daily meter reads)."""
    step = interval_seconds(points)
    return step is not None and step >= DAY_SECONDS - 3600


def hourly_series(
    energy: Sequence[Point], temperature: Sequence[Point], start: datetime, end: datetime
) -> HourlySeries:
    """Hourly grid over [start, end): energy summed per hour, temperature averaged per hour.

    An hour's energy is known only when all its sub-hourly intervals are present.
    """
    start_s = int(start.timestamp()) // 3600 * 3600
    hours = max(0, -(-(int(end.timestamp()) - start_s) // 3600))
    grid_start = datetime.fromtimestamp(start_s, tz=start.tzinfo)
    energy_h = np.full(hours, np.nan)
    temp_h = np.full(hours, np.nan)
    if energy and hours:
        ts, vs = _seconds(energy)
        idx = (ts - start_s) // 3600
        keep = (idx >= 0) & (idx < hours)
        step = interval_seconds(energy) or 3600
        per_hour = max(1, round(3600 / min(step, 3600)))
        total = np.bincount(idx[keep], weights=vs[keep], minlength=hours)
        count = np.bincount(idx[keep], minlength=hours)
        energy_h = np.where(count >= per_hour, total, np.nan)
    if temperature and hours:
        ts, vs = _seconds(temperature)
        idx = (ts - start_s) // 3600
        keep = (idx >= 0) & (idx < hours)
        total = np.bincount(idx[keep], weights=vs[keep], minlength=hours)
        count = np.bincount(idx[keep], minlength=hours)
        with np.errstate(invalid="ignore", divide="ignore"):
            temp_h = np.where(count > 0, total / count, np.nan)
    return HourlySeries(start=grid_start, energy_kwh=energy_h, temperature_c=temp_h)


def daily_series(
    energy: Sequence[Point],
    temperature: Sequence[Point],
    start: datetime,
    end: datetime,
    timezone: str,
) -> DailySeries:
    """Local days over [start, end) from daily energy and (sub-)hourly temperature."""
    grid = hourly_series((), temperature, start, end)
    days = daily_from_hourly(grid, timezone)
    cal = local_calendar(grid, timezone)
    energy_d = np.full(days.day.size, np.nan)
    if energy and days.day.size:
        ts, vs = _seconds(energy)
        hour_idx = (ts - int(grid.start.timestamp())) // 3600
        keep = (hour_idx >= 0) & (hour_idx < len(grid))
        local_day = cal.day[hour_idx[keep]]
        pos = np.searchsorted(days.day, local_day)
        ok = (pos < days.day.size) & (days.day[np.minimum(pos, days.day.size - 1)] == local_day)
        sums = np.bincount(pos[ok], weights=vs[keep][ok], minlength=days.day.size)
        seen = np.bincount(pos[ok], minlength=days.day.size) > 0
        energy_d = np.where(seen, sums, np.nan)
    return DailySeries(
        day=days.day,
        start_utc_seconds=days.start_utc_seconds,
        hours=days.hours,
        energy_kwh=energy_d,
        temperature_c=days.temperature_c,
    )
