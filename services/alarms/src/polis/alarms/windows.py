"""What the engine asks of the readings store (a :class:`Plan`) and what it gets (:class:`Windows`).

A plan names a few requests, each over one time range and a set of points, each answered in
aggregate form (a time per point, counts per point, one value per window of ``every``) so that
a whole municipality is a handful of queries and a few tens of thousands of rows. Only
*measured* readings count: quality ``missing`` repeats the last value and is left out of
every series (docs/adapter.md, Quality).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Aggregate(StrEnum):
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class Series:
    """One value per window, in time order; ``times`` are the windows' starts."""

    times: tuple[datetime, ...] = ()
    values: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values):
            raise ValueError("one value per time")

    def since(self, start: datetime) -> Series:
        """The windows starting at or after ``start``."""
        i = bisect_left(self.times, start)
        return Series(self.times[i:], self.values[i:])

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True, slots=True)
class SeriesRequest:
    """``fn`` of each point's measured readings per window of ``every`` in [start, stop)."""

    name: str
    fn: Aggregate
    every: timedelta
    start: datetime
    stop: datetime
    points: frozenset[str]


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything one evaluation at ``now`` needs from the store.

    - ``seen``: over [seen_start, now): each point's last measured reading, and the earliest
      reading of any of ``first_points`` (one per device: how long the store has been
      receiving readings at all);
    - ``quality``: over [quality_start, now): readings counted per quality tag, for the points
      that can be flagged (a range, a counter) and one point per device;
    - ``series``: aggregates per window (see :class:`SeriesRequest`);
    - ``starts``: over [starts_start, now): how often each 0/1 point rose from 0 to 1.
    """

    now: datetime
    seen_start: datetime
    seen_points: frozenset[str]
    quality_start: datetime
    quality_points: frozenset[str]
    first_points: frozenset[str] = frozenset()
    series: tuple[SeriesRequest, ...] = ()
    starts_start: datetime | None = None
    starts_points: frozenset[str] = frozenset()

    def request(self, name: str) -> SeriesRequest | None:
        return next((r for r in self.series if r.name == name), None)


@dataclass(slots=True)
class Windows:
    """The store's answer to a plan. Points without readings are absent."""

    now: datetime
    last_measured: dict[str, datetime] = field(default_factory=dict)
    first_seen: datetime | None = None  # the earliest reading of any point since seen_start
    quality: dict[str, dict[str, int]] = field(default_factory=dict)
    series: dict[str, dict[str, Series]] = field(default_factory=dict)  # request -> point
    starts: dict[str, int] = field(default_factory=dict)

    def of(self, request: str, point: str | None) -> Series:
        """A point's series of one request (empty when it has none)."""
        if point is None:
            return _EMPTY
        return self.series.get(request, {}).get(point, _EMPTY)


_EMPTY = Series()
