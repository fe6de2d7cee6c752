"""A building's calendar of closures (school holidays, public holidays) and day types.

Occupancy is an independent variable of the baseline (IPMVP allows schedules and occupancy as
independent variables): a school closed for the summer uses far less than its weekly pattern
predicts, and without the calendar those weeks are residuals. A closure is either

- recurring every year, ``MM-DD`` to ``MM-DD`` inclusive (``12-24`` to ``01-07`` wraps the new
  year), as the simulator's municipality YAML writes school holidays; or
- dated, ``YYYY-MM-DD`` to ``YYYY-MM-DD`` inclusive (a one-off closure, a moving holiday).

Each local day then gets a day type for the models: open days by their weekday (see
``DayTypes``), and closed days as a type of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

_RECURRING = re.compile(r"^(\d\d)-(\d\d)$")
_DATED = re.compile(r"^\d{4}-\d\d-\d\d$")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class DayTypes(StrEnum):
    """How open days are told apart (closed days are always a type of their own)."""

    NONE = "none"  # one type for every open day (CalTRACK daily)
    WEEKDAY_WEEKEND = "weekday_weekend"  # Monday-Friday, Saturday-Sunday
    DAY_OF_WEEK = "day_of_week"  # each weekday its own type


#: Number of day-type codes: seven weekdays at most, then the closed type.
CLOSED_DAY_TYPE = 7
DAY_TYPE_COUNT = 8


def _month_day(text: str) -> tuple[int, int]:
    match = _RECURRING.match(text)
    if match is None:
        raise ValueError(f"{text!r} is neither MM-DD nor YYYY-MM-DD")
    month, day = int(match.group(1)), int(match.group(2))
    # 2000 is a leap year, so 02-29 is accepted.
    date(2000, month, day)  # raises ValueError naming the bad month or day
    return month, day


@dataclass(frozen=True, slots=True)
class Closure:
    """Days a building is closed, inclusive at both ends; recurring or dated (see module)."""

    start: str
    end: str
    reason: str = ""

    def __post_init__(self) -> None:
        dated = [bool(_DATED.match(self.start)), bool(_DATED.match(self.end))]
        if all(dated):
            first, last = date.fromisoformat(self.start), date.fromisoformat(self.end)
            if last < first:
                raise ValueError(f"closure end {self.end} is before its start {self.start}")
        elif any(dated):
            raise ValueError(
                f"closure {self.start}..{self.end}: give both ends as MM-DD or both as YYYY-MM-DD"
            )
        else:
            _month_day(self.start)
            _month_day(self.end)

    @property
    def recurring(self) -> bool:
        return not _DATED.match(self.start)

    def covers(self, day: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which local days (days since 1970-01-01) fall in the closure."""
        if not self.recurring:
            first = date.fromisoformat(self.start).toordinal() - _EPOCH_ORDINAL
            last = date.fromisoformat(self.end).toordinal() - _EPOCH_ORDINAL
            return np.asarray((day >= first) & (day <= last))
        dates = day.astype("datetime64[D]")
        months = dates.astype("datetime64[M]")
        month_day = (months.astype(np.int64) % 12 + 1) * 100 + (
            (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
        )
        sm, sd = _month_day(self.start)
        em, ed = _month_day(self.end)
        lo, hi = sm * 100 + sd, em * 100 + ed
        if lo <= hi:
            return np.asarray((month_day >= lo) & (month_day <= hi))
        return np.asarray((month_day >= lo) | (month_day <= hi))  # wraps the new year


@dataclass(frozen=True, slots=True)
class BuildingCalendar:
    """The closures that apply to one building (its own and the municipality's holidays)."""

    closures: tuple[Closure, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.closures)

    def closed(self, day: ArrayLike) -> NDArray[np.bool_]:
        days = np.asarray(day, dtype=np.int64)
        mask = np.zeros(days.shape, dtype=bool)
        for closure in self.closures:
            mask |= closure.covers(days)
        return mask

    def with_closures(self, more: Iterable[Closure]) -> BuildingCalendar:
        return BuildingCalendar(self.closures + tuple(more))


NO_CLOSURES = BuildingCalendar()


def day_types(day: ArrayLike, closed: ArrayLike, scheme: DayTypes) -> NDArray[np.int64]:
    """Day-type code of each local day: 0-6 for open days per ``scheme``, 7 when closed."""
    days = np.asarray(day, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    if scheme is DayTypes.DAY_OF_WEEK:
        codes = weekday
    elif scheme is DayTypes.WEEKDAY_WEEKEND:
        codes = (weekday >= 5).astype(np.int64)
    else:
        codes = np.zeros(days.shape, dtype=np.int64)
    return np.where(np.asarray(closed, dtype=bool), CLOSED_DAY_TYPE, codes).astype(np.int64)


def day_type_name(code: int, scheme: DayTypes) -> str:
    if code == CLOSED_DAY_TYPE:
        return "closed"
    if scheme is DayTypes.DAY_OF_WEEK:
        return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[code]
    if scheme is DayTypes.WEEKDAY_WEEKEND:
        return ("weekday", "weekend")[code]
    return "open"
