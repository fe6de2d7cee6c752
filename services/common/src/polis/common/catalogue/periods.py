"""Weekly time windows, shared by tariffs, comfort bands and occupancy calendars."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Period(BaseModel):
    """A daily time window on some weekdays, optionally only between two dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: tuple[Day, ...] = DAYS
    start: time = time(0, 0)
    end: time = time(0, 0)  # 00:00 as end means midnight
    valid_from: date | None = None
    valid_to: date | None = None

    def contains(self, local: datetime) -> bool:
        if DAYS[local.weekday()] not in self.days:
            return False
        if self.valid_from and local.date() < self.valid_from:
            return False
        if self.valid_to and local.date() > self.valid_to:
            return False
        now = local.time()
        end = self.end if self.end != time(0, 0) else time.max
        return self.start <= now < end if self.start <= end else now >= self.start or now < end
