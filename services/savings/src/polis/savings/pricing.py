"""Tariffs (€/kWh) and grid emission factors (kg CO2/kWh) that change over time.

A schedule is a list of steps, each in force from ``valid_from`` until the next step (or its
own ``valid_to``). A step has a base rate and, for a time-of-use tariff, periods with their own
rate: local weekdays and a local time-of-day range (``07:00``-``23:00``; ``24:00`` is the end
of the day). Hours no period covers pay the base rate. The rate applied to an interval is the
one in force when the interval starts; a day (daily model) is valued at the mean rate of its
hours, since a daily model has no hourly shape to weight them with.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class TouPeriod:
    """A rate on the given local weekdays (0 = Monday) in [start, end) minutes of the day."""

    weekdays: frozenset[int]
    start_minute: int
    end_minute: int
    rate: float

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty subset of 0 (Monday) .. 6 (Sunday)")
        if not 0 <= self.start_minute < self.end_minute <= DAY_MINUTES:
            raise ValueError("a period runs from start to a later end within one day")
        if self.rate < 0:
            raise ValueError(f"rate must be >= 0, got {self.rate}")

    def overlaps(self, other: TouPeriod) -> bool:
        return bool(self.weekdays & other.weekdays) and (
            self.start_minute < other.end_minute and other.start_minute < self.end_minute
        )


def _period_label(p: TouPeriod) -> str:
    days = ",".join(WEEKDAYS[d] for d in sorted(p.weekdays))
    return f"{days} {p.start_minute // 60:02d}:{p.start_minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class RateStep:
    valid_from: datetime
    rate: float
    periods: tuple[TouPeriod, ...] = ()
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        if self.valid_from.tzinfo is None:
            raise ValueError("valid_from must carry a time zone")
        if self.rate < 0:
            raise ValueError(f"rate must be >= 0, got {self.rate}")
        if self.valid_to is not None:
            if self.valid_to.tzinfo is None:
                raise ValueError("valid_to must carry a time zone")
            if self.valid_to <= self.valid_from:
                raise ValueError("valid_to must be after valid_from")
        for a, b in itertools.combinations(self.periods, 2):
            if a.overlaps(b):
                raise ValueError(
                    f"time-of-use periods {_period_label(a)} and {_period_label(b)} overlap"
                )


def _offset(ts: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=16)
def _local_fields(start_ts: int, count: int, timezone: str) -> tuple[NDArray[np.int64], ...]:
    """Local weekday and minute of day of ``count`` hourly instants from ``start_ts``."""
    zone = ZoneInfo(timezone)
    utc = start_ts + 3600 * np.arange(count, dtype=np.int64)
    offsets = np.array([_offset(ts, zone) for ts in utc.tolist()], dtype=np.int64)
    local = utc + offsets
    return (local // 86400 + 3) % 7, (local % 86400) // 60


def _local(utc_seconds: NDArray[np.int64], timezone: str) -> tuple[NDArray[np.int64], ...]:
    """Local weekday and minute of day of each instant (on whole hours: computed per hour)."""
    if utc_seconds.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    hours = utc_seconds // 3600
    first = int(hours.min())
    weekday, minute = _local_fields(first * 3600, int(hours.max()) - first + 1, timezone)
    idx = hours - first
    return weekday[idx], minute[idx] + (utc_seconds % 3600) // 60


@dataclass(frozen=True, slots=True)
class RateSchedule:
    """Piecewise-constant rate; before the first step the first step's rate applies."""

    steps: tuple[RateStep, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("a rate schedule needs at least one step")
        ordered = tuple(sorted(self.steps, key=lambda s: s.valid_from))
        for i, (a, b) in enumerate(itertools.pairwise(ordered)):
            if a.valid_to is not None and a.valid_to != b.valid_from:
                raise ValueError(
                    f"step {i}: valid_to {a.valid_to.isoformat()} must be the next step's "
                    f"valid_from {b.valid_from.isoformat()} (no gaps or overlaps)"
                )
        object.__setattr__(self, "steps", ordered)

    @classmethod
    def flat(cls, rate: float) -> RateSchedule:
        return cls((RateStep(datetime.fromisoformat("1970-01-01T00:00:00+00:00"), rate),))

    @classmethod
    def of(cls, steps: Sequence[tuple[datetime, float]]) -> RateSchedule:
        return cls(tuple(RateStep(when, rate) for when, rate in steps))

    @property
    def time_of_use(self) -> bool:
        return any(step.periods for step in self.steps)

    def at(self, utc_seconds: NDArray[np.int64], timezone: str = "UTC") -> NDArray[np.float64]:
        """The rate in force at each instant (periods in ``timezone`` local time)."""
        ts = np.asarray(utc_seconds, dtype=np.int64)
        starts = np.array([int(s.valid_from.timestamp()) for s in self.steps], dtype=np.int64)
        idx = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, None)
        last = self.steps[-1].valid_to
        if last is not None and ts.size and int(ts.max()) >= int(last.timestamp()):
            raise ValueError(
                f"no rate in force at or after {last.isoformat()} (the last step's valid_to)"
            )
        rates = np.array([s.rate for s in self.steps], dtype=float)[idx]
        if not self.time_of_use:
            return rates
        weekday, minute = _local(ts, timezone)
        for k, step in enumerate(self.steps):
            in_step = idx == k
            for period in step.periods:
                hit = (
                    in_step
                    & np.isin(weekday, list(period.weekdays))
                    & (minute >= period.start_minute)
                    & (minute < period.end_minute)
                )
                rates[hit] = period.rate
        return rates

    def mean_over_hours(
        self, start_utc_seconds: NDArray[np.int64], hours: NDArray[np.int64], timezone: str
    ) -> NDArray[np.float64]:
        """Mean hourly rate over each interval of ``hours`` hours (a local day: 23, 24 or 25)."""
        starts = np.asarray(start_utc_seconds, dtype=np.int64)
        counts = np.asarray(hours, dtype=np.int64)
        if starts.size == 0:
            return np.zeros(0)
        if not self.time_of_use:
            return self.at(starts, timezone)
        width = int(counts.max())
        grid = starts[:, None] + 3600 * np.arange(width, dtype=np.int64)[None, :]
        inside = np.arange(width)[None, :] < counts[:, None]
        rates = self.at(np.where(inside, grid, starts[:, None]).ravel(), timezone).reshape(
            grid.shape
        )
        return np.asarray((rates * inside).sum(axis=1) / counts, dtype=float)
