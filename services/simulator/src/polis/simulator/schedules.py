"""Weekly local-time schedules evaluated on arrays of instants (pure, vectorised)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from polis.simulator.config import WeeklySchedule

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class LocalCalendar:
    """Local wall-clock fields of a series of UTC instants."""

    weekday: IntArray  # 0 = Monday
    minute_of_day: FloatArray
    month_day: IntArray  # month * 100 + day, e.g. 1224


def _offset(epoch: int, zone: ZoneInfo) -> float:
    offset = datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def local_calendar(t: FloatArray, timezone: str) -> LocalCalendar:
    """Convert epoch seconds to local weekday, minute of day and month-day."""
    zone = ZoneInfo(timezone)
    hours = np.floor(t / 3600.0).astype(np.int64)
    unique_hours, inverse = np.unique(hours, return_inverse=True)
    offset_seconds = np.array([_offset(int(h) * 3600, zone) for h in unique_hours])
    local = t + offset_seconds[inverse]
    days = np.floor(local / 86_400.0).astype(np.int64)
    minute = (local - days * 86_400.0) / 60.0
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return LocalCalendar(weekday=weekday, minute_of_day=minute, month_day=month * 100 + day)


def _closed(schedule: WeeklySchedule, month_day: IntArray) -> NDArray[np.bool_]:
    closed = np.zeros(month_day.shape, dtype=bool)
    for closure in schedule.closures:
        (sm, sd), (em, ed) = closure.days_of_year()
        start, end = sm * 100 + sd, em * 100 + ed
        if start <= end:
            closed |= (month_day >= start) & (month_day <= end)
        else:  # wraps the new year, e.g. 12-24 .. 01-07
            closed |= (month_day >= start) | (month_day <= end)
    return closed


def evaluate(schedule: WeeklySchedule, calendar: LocalCalendar) -> FloatArray:
    """The schedule's value at each instant; later periods win where periods overlap."""
    values = np.full(calendar.minute_of_day.shape, schedule.default, dtype=np.float64)
    for period in schedule.periods:
        days = np.array([d.number for d in period.days], dtype=np.int64)
        start = period.start.hour * 60 + period.start.minute
        end = period.end.hour * 60 + period.end.minute
        active = (
            np.isin(calendar.weekday, days)
            & (calendar.minute_of_day >= start)
            & (calendar.minute_of_day < end)
        )
        values[active] = period.value
    if schedule.closures:
        values[_closed(schedule, calendar.month_day)] = schedule.default
    return values
