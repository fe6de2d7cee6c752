"""The adapter's point catalogue, cached; the last good catalogue is served while it is down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from polis.gateway.domain.catalogue import Catalogue, DisplayMetadata, PointInfo
from polis.gateway.peers.errors import PeerUnavailable
from polis.points.v1 import points_pb2


def point_info(point: points_pb2.Point) -> PointInfo:
    return PointInfo(
        id=point.id,
        municipality=point.municipality,
        neighbourhood=point.neighbourhood,
        building=point.building,
        device=point.device,
        quantity=points_pb2.Quantity.Name(point.quantity).removeprefix("QUANTITY_").lower(),
        unit=point.unit,
        kind=points_pb2.PointKind.Name(point.kind).removeprefix("POINT_KIND_").lower(),
        brick_class=point.brick_class,
        description=point.description,
        min_value=point.min_value if point.HasField("min_value") else None,
        max_value=point.max_value if point.HasField("max_value") else None,
    )


class CatalogueCache:
    def __init__(
        self,
        fetch: Callable[[], Awaitable[list[points_pb2.Point]]],
        ttl_s: float,
        metadata: DisplayMetadata,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._metadata = metadata
        self._clock = clock
        self._current: Catalogue | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.stale = False

    async def get(self) -> Catalogue:
        if self._current is not None and self._clock() - self._fetched_at < self._ttl_s:
            return self._current
        async with self._lock:
            if self._current is not None and self._clock() - self._fetched_at < self._ttl_s:
                return self._current
            try:
                points = await self._fetch()
            except PeerUnavailable:
                if self._current is None:
                    raise
                # Serve the last good catalogue; retry after a short pause, not every call.
                self.stale = True
                self._fetched_at = self._clock() - max(0.0, self._ttl_s - 5.0)
                return self._current
            self._current = Catalogue.build((point_info(p) for p in points), self._metadata)
            self._fetched_at = self._clock()
            self.stale = False
            return self._current
