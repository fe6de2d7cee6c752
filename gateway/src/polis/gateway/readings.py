"""The readings store the gateway queries: polis.common.influx.InfluxStore satisfies it.

Calls are blocking (influxdb-client is synchronous) and run in a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from polis.common.influx import Aggregate, InfluxError, Row

__all__ = ["Aggregate", "InfluxError", "ReadingsStore", "Row"]


class ReadingsStore(Protocol):
    def query_range(
        self,
        start: datetime,
        stop: datetime,
        tags: Mapping[str, str | Sequence[str]],
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]: ...

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
