"""Occupancy calendars: a building's weekly occupied hours and its closures."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from polis.common.catalogue.ids import ID_PATTERN
from polis.common.catalogue.periods import Period

_RECURRING = re.compile(r"^(\d\d)-(\d\d)$")


def _valid_day(text: str) -> str:
    """``MM-DD`` (every year) or ``YYYY-MM-DD`` (once)."""
    match = _RECURRING.match(text)
    try:
        if match is not None:
            date(2000, int(match.group(1)), int(match.group(2)))  # 2000: 02-29 is accepted
        else:
            date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither MM-DD nor YYYY-MM-DD") from None
    return text


class Closure(BaseModel):
    """Days the building is closed, inclusive: recurring ``MM-DD`` or dated ``YYYY-MM-DD``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _day(cls, value: str) -> str:
        return _valid_day(value)


class OccupancyCalendar(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    # weekly hours the building is normally occupied (empty: not stated)
    occupied: tuple[Period, ...] = ()
    closures: tuple[Closure, ...] = ()
