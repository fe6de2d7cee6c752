"""When a building or zone is occupied, in its local time (pure).

A zone is occupied in its comfort periods (the ``occupied`` bands of its ``hvac`` load), or,
without any, in its building calendar's weekly hours; a closure of the building's calendar
(school holidays) makes every period of the day unoccupied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from polis.common.catalogue.calendars import Closure
from polis.common.catalogue.periods import Period


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def closed_on(day: date, closures: Sequence[Closure]) -> bool:
    """Whether ``day`` falls in one of the closures (inclusive; ``12-24``..``01-07`` wraps)."""
    for closure in closures:
        if len(closure.start) == 10:  # dated, YYYY-MM-DD
            if date.fromisoformat(closure.start) <= day <= date.fromisoformat(closure.end):
                return True
            continue
        first, last, here = _month_day(closure.start), _month_day(closure.end), (day.month, day.day)
        inside = first <= here <= last if first <= last else here >= first or here <= last
        if inside:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Occupancy:
    """The periods a subject is occupied, its building's closures and its time zone."""

    periods: tuple[Period, ...]
    closures: tuple[Closure, ...]
    timezone: ZoneInfo

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.timezone)

    def period_at(self, instant: datetime) -> int | None:
        """The index of the period in force at ``instant``, or None when unoccupied."""
        local = self.local(instant)
        if closed_on(local.date(), self.closures):
            return None
        for i, period in enumerate(self.periods):
            if period.contains(local):
                return i
        return None

    def occupied(self, instant: datetime) -> bool:
        return self.period_at(instant) is not None

    def occupied_since(self, instant: datetime, step: timedelta, limit: timedelta) -> timedelta:
        """How long, in steps of ``step`` back from ``instant`` and up to ``limit``, the subject
        has been occupied without a break (zero when it is not occupied at ``instant``)."""
        elapsed = timedelta(0)
        while elapsed < limit and self.occupied(instant - elapsed):
            elapsed += step
        return min(elapsed, limit)
