"""BACnet device driver: ReadPropertyMultiple polling with fallbacks, writes at a priority."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from polis.adapter.bacnet.client import BacnetClient, BacnetError, to_float
from polis.adapter.driver import (
    CommandState,
    DeviceRefused,
    DriverError,
    PartialScrape,
    ScanGroup,
)
from polis.common.catalogue.devices import BacnetDeviceConfig, BacnetPointConfig
from polis.common.logging import get_logger

log = get_logger(__name__)


class BacnetDriver:
    protocol = "bacnet"

    def __init__(self, config: BacnetDeviceConfig, client: BacnetClient) -> None:
        self.device_id = config.id
        self.config = config
        self._client = client
        self._points: dict[str, BacnetPointConfig] = {p.id: p for p in config.points}
        by_interval: dict[float, list[str]] = {}
        for p in config.points:
            by_interval.setdefault(p.poll_interval_s or config.poll_interval_s, []).append(p.id)
        self._groups = [
            ScanGroup(i, interval, tuple(keys))
            for i, (interval, keys) in enumerate(sorted(by_interval.items()))
        ]
        self.use_rpm = True
        self.chunk = config.max_properties_per_request

    def groups(self) -> Sequence[ScanGroup]:
        return self._groups

    async def _read_chunk_rpm(self, keys: Sequence[str]) -> dict[str, float | None]:
        requests: dict[str, list[str]] = {}
        for key in keys:
            p = self._points[key]
            requests.setdefault(p.object, []).append(p.property)
        rows = await self._client.read_multiple(
            self.config.station, list(requests.items()), self.config.timeout_s
        )
        out: dict[str, float | None] = {}
        for key in keys:
            p = self._points[key]
            value = rows.get((p.object, p.property))
            out[key] = None if value is None or isinstance(value, BacnetError) else to_float(value)
        return out

    async def _read_single(self, key: str) -> float | None:
        p = self._points[key]
        try:
            value = await self._client.read(
                self.config.station, p.object, p.property, self.config.timeout_s
            )
        except BacnetError as error:
            if error.kind == "timeout":
                raise
            return None
        return to_float(value)

    async def scrape(self, group: ScanGroup) -> dict[str, float | None]:
        keys = list(group.point_keys)
        out: dict[str, float | None] = {}
        start = 0
        try:
            while start < len(keys):
                if not self.use_rpm:
                    out[keys[start]] = await self._read_single(keys[start])
                    start += 1
                    continue
                chunk = keys[start : start + self.chunk]
                try:
                    out.update(await self._read_chunk_rpm(chunk))
                    start += len(chunk)
                except BacnetError as error:
                    if error.kind == "segmentation" and self.chunk > 1:
                        self.chunk = max(1, self.chunk // 2)
                        log.info("shrinking requests", device=self.device_id, chunk=self.chunk)
                    elif error.kind in ("reject", "abort", "error", "failure"):
                        self.use_rpm = False
                        log.info(
                            "falling back to ReadProperty", device=self.device_id, error=str(error)
                        )
                    else:
                        raise
        except BacnetError as error:
            for key in keys:
                out.setdefault(key, None)
            raise PartialScrape(
                out, f"{self.device_id}: {error}", timeout=error.kind == "timeout"
            ) from error
        return out

    async def watch(self, emit: Callable[[str, float], None]) -> None:
        """COV subscriptions of the points configured with ``cov: true`` (they are polled
        as well, as a safety net). A refused subscription is retried after its lifetime."""
        points = [p for p in self.config.points if p.cov]
        if points:
            await asyncio.gather(*(self._watch_one(p, emit) for p in points))

    async def _watch_one(
        self, point: BacnetPointConfig, emit: Callable[[str, float], None]
    ) -> None:
        def on_value(prop: str, value: object) -> None:
            number = to_float(value)
            if prop == point.property and number is not None:
                emit(point.id, number)

        while True:
            try:
                await self._client.subscribe(
                    self.config.station, point.object, self.config.cov_lifetime_s, on_value
                )
            except BacnetError as error:
                log.warning(
                    "cov subscription failed",
                    device=self.device_id,
                    point=point.id,
                    error=str(error),
                )
                await asyncio.sleep(self.config.cov_lifetime_s)

    def _command(self, key: str) -> BacnetPointConfig:
        p = self._points.get(key)
        if p is None or p.write is None:
            raise DriverError(f"{self.device_id}/{key} is not a command point")
        return p

    async def write(self, key: str, value: float, priority: int) -> None:
        p = self._command(key)
        try:
            await self._client.write(
                self.config.station, p.object, value, priority, self.config.timeout_s
            )
        except BacnetError as error:
            if error.kind in ("error", "reject"):  # the device answered: no
                raise DeviceRefused(f"{self.device_id}/{key}: write refused: {error}") from error
            raise DriverError(f"{self.device_id}/{key}: write failed: {error}") from error

    async def read_command(self, key: str) -> CommandState:
        p = self._command(key)
        try:
            value = await self._client.read(
                self.config.station, p.object, "present-value", self.config.timeout_s
            )
            active = await self._client.priority_in_force(
                self.config.station, p.object, self.config.timeout_s
            )
        except BacnetError as error:
            raise DriverError(f"{self.device_id}/{key}: read-back failed: {error}") from error
        present = to_float(value)
        if present is None:
            raise DriverError(f"{self.device_id}/{key}: present value {value!r} is not numeric")
        return CommandState(present, active)

    async def relinquish(self, key: str, priority: int) -> None:
        p = self._command(key)
        try:
            await self._client.write(
                self.config.station, p.object, None, priority, self.config.timeout_s
            )
        except BacnetError as error:
            raise DriverError(f"{self.device_id}/{key}: relinquish refused: {error}") from error

    async def close(self) -> None:
        return None
