"""The gateway's readings store on InfluxDB: raw rows straight from Flux CSV, the rest through
polis.common.influx.InfluxStore.

Raw rows are the one large result the gateway serves (a year of 15-minute data is 35,040 rows
per point). They are read with one Flux query per page over InfluxDB's HTTP query API (httpx,
asynchronous, so no worker thread waits on it, and uncompressed: this is loopback or a local
network) and handed on as CSV text, which polis.gateway.domain.flux_csv rewrites into the API's
JSON or CSV without a dict, datetime or model object per row. The Flux is built
the way InfluxStore builds it: every caller value is bound in a ``params`` record by
``polis.common.influx.bind``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from polis.common.influx import READING, InfluxError, InfluxStore, bind
from polis.common.settings import PolisSettings
from polis.gateway.domain.flux_csv import after_position
from polis.gateway.domain.paging import parse_rfc3339
from polis.gateway.readings import MAX_POINTS, After

# Rows one point may have at one instant (one per series: a point's tags other than its id
# rarely change, and never several times at one instant).
REPEATS_PER_POINT = 4


def raw_flux(n_points: int) -> str:
    """The Flux of one page of raw rows; values come from ``params`` (see raw_params).

    A page after a cursor starts at the cursor's instant and repeats the rows already served
    at that instant; they are dropped from the answer (flux_csv.after_position) rather than by
    a per-row filter in Flux, which costs more than the rest of the query.
    """
    if not 1 <= n_points <= MAX_POINTS:
        raise ValueError(f"point: between 1 and {MAX_POINTS} points per query")
    points = " or ".join(f"r.point == params.p{i}" for i in range(n_points))
    return "\n".join(
        [
            "from(bucket: params.bucket)",
            "  |> range(start: params.start, stop: params.stop)",
            '  |> filter(fn: (r) => r._measurement == params.measurement and r._field == "value")',
            f"  |> filter(fn: (r) => {points})",
            # A series is in time order: no more than n of its rows can be on the page.
            "  |> limit(n: params.n)",
            '  |> keep(columns: ["_time", "_value", "point"])',
            "  |> group()",
            '  |> sort(columns: ["_time", "point"])',
            # Flux fuses sort() directly followed by limit() into a top-n selection that is
            # several times slower than a full sort for pages of thousands of rows; a group()
            # that keeps the one sorted table as it is stands between them.
            "  |> group()",
            "  |> limit(n: params.n)",
        ]
    )


def raw_params(
    bucket: str,
    start: datetime,
    stop: datetime,
    points: Sequence[str],
    limit: int,
    after: After | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "bucket": bucket,
        "start": start,
        "stop": stop,
        "measurement": READING,
        "n": int(limit),
    }
    if after is not None:
        # Start at the cursor's instant (floored to microseconds, so never past it), with room
        # for the rows served before at that instant: at most a few series per point.
        params["start"] = max(start, parse_rfc3339(after.time))
        params["n"] = int(limit) + REPEATS_PER_POINT * len(points)
    for i, point in enumerate(points):
        params[f"p{i}"] = point
    return params


class InfluxReadings:
    """ReadingsStore over one InfluxDB bucket."""

    def __init__(self, store: InfluxStore, token: str, timeout_s: float = 10.0) -> None:
        self.store = store
        self._url = store.url.rstrip("/") + "/api/v2/query"
        self._headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/csv",
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
        }
        self._org = store.org
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Windows and last values are InfluxStore's own queries, served as they are.
        self.query_window = store.query_window
        self.last = store.last

    @classmethod
    def from_settings(cls, settings: PolisSettings) -> InfluxReadings:
        return cls(
            InfluxStore.from_settings(settings),
            settings.influx_token.get_secret_value(),
            settings.influx_timeout_ms / 1000,
        )

    def _http(self) -> httpx.AsyncClient:
        # Connections belong to the event loop that opened them.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self._timeout_s)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def raw_csv(
        self,
        start: datetime,
        stop: datetime,
        points: Sequence[str],
        *,
        limit: int,
        after: After | None = None,
    ) -> str:
        if not points:
            return ""
        query = bind(
            raw_flux(len(points)),
            raw_params(self.store.bucket, start, stop, points, limit, after),
        )
        body = {"query": query, "dialect": {"header": True, "annotations": []}}
        try:
            response = await self._http().post(
                self._url, params={"org": self._org}, headers=self._headers, json=body
            )
        except httpx.HTTPError as error:
            raise InfluxError(f"query on {self.store.url} failed: {error}") from error
        if response.status_code != 200:
            raise InfluxError(
                f"query on {self.store.url} failed: HTTP {response.status_code} "
                f"{response.text[:200]}"
            )
        return response.text if after is None else after_position(response.text, after)
