"""Hourly series on a regular UTC grid and their local-time calendar features.

M&V works in the building's local time: days, months and the hour of the week follow the
wall clock people keep (Europe/Athens by default), while data is stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

HOUR = timedelta(hours=1)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} has no time zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class HourlySeries:
    """Hourly energy (kWh per hour) and outdoor temperature (°C) from ``start`` (UTC, on the hour).

    Missing values are NaN. Index i covers [start + i h, start + (i + 1) h).
    """

    start: datetime
    energy_kwh: NDArray[np.float64]
    temperature_c: NDArray[np.float64]

    def __post_init__(self) -> None:
        start = _utc(self.start)
        if start.minute or start.second or start.microsecond:
            raise ValueError("an hourly series must start on the hour")
        object.__setattr__(self, "start", start)
        if self.energy_kwh.shape != self.temperature_c.shape or self.energy_kwh.ndim != 1:
            raise ValueError("energy and temperature must be 1-D arrays of the same length")

    def __len__(self) -> int:
        return int(self.energy_kwh.size)

    @property
    def end(self) -> datetime:
        return self.start + len(self) * HOUR

    def index_of(self, moment: datetime) -> int:
        """Index of the hour that starts at ``moment`` (clipped to [0, len])."""
        offset = (_utc(moment) - self.start) // HOUR
        return int(min(max(offset, 0), len(self)))

    def slice(self, start: datetime, end: datetime) -> HourlySeries:
        i, j = self.index_of(start), self.index_of(end)
        return HourlySeries(
            start=self.start + i * HOUR,
            energy_kwh=self.energy_kwh[i:j],
            temperature_c=self.temperature_c[i:j],
        )


@dataclass(frozen=True, slots=True)
class LocalCalendar:
    """Local-time features of each hour of an hourly grid."""

    utc_seconds: NDArray[np.int64]  # start of each hour, seconds since the epoch
    hour_of_week: NDArray[np.int64]  # 0 = Monday 00:00-01:00 local time, ... 167
    day: NDArray[np.int64]  # local calendar day, days since 1970-01-01
    month: NDArray[np.int64]  # local calendar month, months since 1970-01 (year*12+month-1)


@lru_cache(maxsize=32)
def _calendar(start_ts: int, hours: int, timezone: str) -> LocalCalendar:
    zone = ZoneInfo(timezone)
    utc_seconds = start_ts + 3600 * np.arange(hours, dtype=np.int64)
    # The UTC offset changes at most twice a year: evaluate it per hour once, cheaply.
    offsets = np.empty(hours, dtype=np.int64)
    for i, ts in enumerate(utc_seconds.tolist()):
        offset = datetime.fromtimestamp(ts, zone).utcoffset()
        offsets[i] = int(offset.total_seconds()) if offset is not None else 0
    local = utc_seconds + offsets
    day = local // 86400
    hour = (local % 86400) // 3600
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    dates = day.astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype(np.int64)
    return LocalCalendar(
        utc_seconds=utc_seconds, hour_of_week=weekday * 24 + hour, day=day, month=month
    )


def local_calendar(series: HourlySeries, timezone: str) -> LocalCalendar:
    return _calendar(int(series.start.timestamp()), len(series), timezone)


def month_label(month_index: int) -> str:
    """'2026-03' for a month index counted from 1970-01."""
    year, month = divmod(int(month_index), 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


@dataclass(frozen=True, slots=True)
class DailySeries:
    """Daily usage (kWh/day) and mean outdoor temperature per local day; NaN = not usable."""

    day: NDArray[np.int64]  # local calendar day, days since 1970-01-01
    start_utc_seconds: NDArray[np.int64]  # UTC start of the local day
    hours: NDArray[np.int64]  # hours in the day on the grid (23/25 on DST changes)
    energy_kwh: NDArray[np.float64]
    temperature_c: NDArray[np.float64]

    @property
    def month(self) -> NDArray[np.int64]:
        return self.day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def daily_from_hourly(
    series: HourlySeries, timezone: str, min_temperature_coverage: float = 0.5
) -> DailySeries:
    """Aggregate to local days.

    A day's usage is known only when every hour of it is present; its mean temperature when at
    least ``min_temperature_coverage`` of its hours have a temperature (CalTRACK). Partial days
    at either end of the grid are dropped.
    """
    cal = local_calendar(series, timezone)
    if len(series) == 0:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=float)
        return DailySeries(empty_i, empty_i, empty_i, empty_f, empty_f)
    days, first, counts = np.unique(cal.day, return_index=True, return_counts=True)
    energy_ok = np.isfinite(series.energy_kwh)
    temp_ok = np.isfinite(series.temperature_c)
    energy_sum = np.add.reduceat(np.where(energy_ok, series.energy_kwh, 0.0), first)
    energy_n = np.add.reduceat(energy_ok.astype(np.int64), first)
    temp_sum = np.add.reduceat(np.where(temp_ok, series.temperature_c, 0.0), first)
    temp_n = np.add.reduceat(temp_ok.astype(np.int64), first)
    # expected hours in each local day: 24 except on DST changes (count hours of a full day)
    local_midnight = first
    full = np.ones(days.size, dtype=bool)
    full[0] = int(cal.hour_of_week[local_midnight[0]] % 24) == 0
    last_end = cal.hour_of_week[first[-1] + counts[-1] - 1] % 24
    full[-1] = full[-1] and int(last_end) == 23
    energy = np.where(full & (energy_n == counts), energy_sum, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        temperature = np.where(
            full & (temp_n >= min_temperature_coverage * counts), temp_sum / temp_n, np.nan
        )
    return DailySeries(
        day=days,
        start_utc_seconds=cal.utc_seconds[first],
        hours=counts,
        energy_kwh=energy,
        temperature_c=temperature,
    )
