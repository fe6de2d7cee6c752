"""Per-device polling: one task per device and scan group, so a slow device slows only itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

from polis.adapter.driver import Driver, DriverError, PartialScrape, ScanGroup
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.model import Quality, Reading
from polis.adapter.normalise import PointNormaliser
from polis.common.logging import get_logger

log = get_logger(__name__)

ReadingConsumer = Callable[[Sequence[Reading]], None]


class LatestReadings:
    """The newest reading of every point, for ReadPoints."""

    def __init__(self) -> None:
        self._latest: dict[str, Reading] = {}

    def update(self, readings: Sequence[Reading]) -> None:
        for r in readings:
            self._latest[r.point_id] = r

    def get(self, point_id: str) -> Reading | None:
        return self._latest.get(point_id)


class DevicePoller:
    """Polls one driver's groups; turns raw values into readings with quality flags."""

    def __init__(
        self,
        driver: Driver,
        normalisers: Mapping[str, PointNormaliser],
        consume: ReadingConsumer,
        metrics: AdapterMetrics,
        now_ns: Callable[[], int],
        *,
        max_backoff_s: float = 300.0,
    ) -> None:
        self.driver = driver
        self._normalisers = normalisers  # keyed by the driver's point key
        self._consume = consume
        self._metrics = metrics
        self._now_ns = now_ns
        self._max_backoff_s = max_backoff_s
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        # labelled children resolved once: labels() costs more than the increment itself
        protocol = driver.protocol
        self._latency = metrics.poll_latency.labels(protocol)
        self._up = metrics.device_up.labels(driver.device_id)
        self._read = {q: metrics.points_read.labels(protocol, q.value) for q in Quality}

    def start(self) -> None:
        watch = getattr(self.driver, "watch", None)
        if watch is not None:
            self._tasks.append(
                asyncio.create_task(watch(self._on_change), name=f"cov:{self.driver.device_id}")
            )
        for group in self.driver.groups():
            self._tasks.append(
                asyncio.create_task(
                    self._run(group), name=f"poll:{self.driver.device_id}:{group.index}"
                )
            )

    def _on_change(self, key: str, raw: float) -> None:
        """A change notification (BACnet COV): one reading, outside the poll rounds."""
        reading = self._normalisers[key].normalise(raw, self._now_ns())
        self._consume([reading])
        self._read[reading.quality].inc()

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def poll_once(self, group: ScanGroup) -> tuple[list[Reading], bool]:
        """One round: readings for every point of the group, and whether the device answered."""
        started = time.perf_counter()
        answered = True
        try:
            values = await self.driver.scrape(group)
        except PartialScrape as partial:
            values = partial.values
            answered = not partial.timeout
            self._metrics.device_errors.labels(self.driver.device_id, partial.reason).inc()
            log.warning("poll incomplete", device=self.driver.device_id, error=str(partial))
        except DriverError as error:
            values = {}
            answered = False
            self._metrics.device_errors.labels(self.driver.device_id, "error").inc()
            log.warning("poll failed", device=self.driver.device_id, error=str(error))
        self._latency.observe(time.perf_counter() - started)
        self._up.set(1 if answered else 0)
        t = self._now_ns()
        normalisers = self._normalisers
        get = values.get
        readings = []
        for key in group.point_keys:
            raw = get(key)
            norm = normalisers[key]
            readings.append(norm.missing(t) if raw is None else norm.normalise(raw, t))
        counts: dict[Quality, int] = {}
        for r in readings:
            counts[r.quality] = counts.get(r.quality, 0) + 1
        for quality, count in counts.items():
            self._read[quality].inc(count)
        return readings, answered

    async def _run(self, group: ScanGroup) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        failures = 0
        while not self._stopping:
            readings, answered = await self.poll_once(group)
            self._consume(readings)
            if answered and failures:
                log.info("device answering again", device=self.driver.device_id, after=failures)
            failures = 0 if answered else failures + 1
            # a silent device is retried less often (exponential back-off); the missing
            # readings still mark every skipped round's gap when it is polled again
            delay = group.interval_s * (2 ** min(failures, 16) if failures else 1)
            next_at += min(delay, max(self._max_backoff_s, group.interval_s))
            now = loop.time()
            if next_at < now:
                next_at = now  # fell behind: do not burst to catch up
            await asyncio.sleep(next_at - now)
