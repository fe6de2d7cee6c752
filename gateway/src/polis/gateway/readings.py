"""The readings store the gateway queries (gateway.influx_readings.InfluxReadings in service).

Window and last-value queries are blocking and run in a worker thread. Raw rows, which can be a
year of 15-minute data per point, come from ``raw_csv``: a coroutine returning InfluxDB's CSV
answer as text (rendered by polis.gateway.domain.flux_csv without an object per row), in the
API's order, paged by position (keyset), never by offset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from polis.common.influx import Aggregate, InfluxError, Row

__all__ = ["MAX_POINTS", "After", "Aggregate", "InfluxError", "RawRow", "ReadingsStore", "Row"]

# Points in one raw query: each is a bound parameter of the query.
MAX_POINTS = 1_000

# (time as RFC 3339 UTC text, point id, value), ordered by time, then point id.
RawRow = tuple[str, str, float]


@dataclass(frozen=True, slots=True)
class After:
    """A position in the (time, point) order: the last row a previous page returned."""

    time: str  # RFC 3339 UTC, as the store returned it
    point: str


class ReadingsStore(Protocol):
    async def raw_csv(
        self,
        start: datetime,
        stop: datetime,
        points: Sequence[str],
        *,
        limit: int,
        after: After | None = None,
    ) -> str:
        """The first ``limit`` rows of ``points`` in [start, stop) after ``after``, ordered by
        time then point, as InfluxDB CSV with the columns _time, _value and point. A few rows
        more may follow them; callers read only what they asked for."""
        ...

    def query_window(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        every: timedelta,
        fn: Aggregate = Aggregate.MEAN,
    ) -> list[Row]: ...

    def last(
        self,
        tags: Mapping[str, str | Sequence[str]],
        *,
        since: timedelta = timedelta(days=30),
        now: datetime | None = None,
    ) -> list[Row]: ...
