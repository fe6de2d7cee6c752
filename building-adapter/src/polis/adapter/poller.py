"""Per-device polling: one task per device and scan group, so a slow device slows only itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat

from polis.adapter.driver import Driver, DriverError, PartialScrape, PolledValues, ScanGroup
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.model import PointLayout, Quality, Reading, ReadingBatch
from polis.adapter.normalise import GroupNormaliser, PointNormaliser
from polis.common.logging import get_logger

log = get_logger(__name__)

ReadingConsumer = Callable[[Sequence[Reading]], None]


class LatestReadings:
    """The newest reading of every point, for ReadPoints."""

    def __init__(self) -> None:
        # a poll's batch is kept whole, once per layout, and a reading is built only when
        # asked for; single readings (change notifications) per point. The update count
        # says which of a point's two is newer.
        self._updates = 0
        self._batches: dict[PointLayout, tuple[int, ReadingBatch]] = {}
        self._layout_of: dict[str, PointLayout] = {}
        self._single: dict[str, tuple[int, Reading]] = {}

    def update(self, readings: Sequence[Reading]) -> None:
        self._updates += 1
        if isinstance(readings, ReadingBatch):
            layout = readings.layout
            if layout not in self._batches:
                self._layout_of.update(zip(layout.point_ids, repeat(layout)))
            self._batches[layout] = (self._updates, readings)
            return
        for r in readings:
            self._single[r.point_id] = (self._updates, r)

    def get(self, point_id: str) -> Reading | None:
        single = self._single.get(point_id)
        layout = self._layout_of.get(point_id)
        batched = self._batches[layout] if layout is not None else None
        if batched is not None and (single is None or batched[0] > single[0]):
            return batched[1].reading(point_id)
        return single[1] if single is not None else None


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
        self._read_good = self._read[Quality.GOOD]
        # per group, built once: the readings' layout and the normalisers in poll order
        self._plans = {group.index: self._plan(group) for group in driver.groups()}

    def _plan(self, group: ScanGroup) -> tuple[PointLayout, GroupNormaliser]:
        normalisers = [self._normalisers[key] for key in group.point_keys]
        layout = PointLayout(
            tuple(n.point_id for n in normalisers), tuple(n.unit for n in normalisers)
        )
        return layout, GroupNormaliser(normalisers)

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

    def _failed(self, error: DriverError) -> tuple[Mapping[str, float | None], bool]:
        """What a failed scrape still read (``None`` elsewhere), and whether the device
        answered at all."""
        if isinstance(error, PartialScrape):
            self._metrics.device_errors.labels(self.driver.device_id, error.reason).inc()
            log.warning("poll incomplete", device=self.driver.device_id, error=str(error))
            return error.values, not error.timeout
        self._metrics.device_errors.labels(self.driver.device_id, "error").inc()
        log.warning("poll failed", device=self.driver.device_id, error=str(error))
        return {}, False

    async def poll_once(self, group: ScanGroup) -> tuple[ReadingBatch, bool]:
        """One round: readings for every point of the group, and whether the device answered."""
        started = time.perf_counter()
        try:
            values, answered = await self.driver.scrape(group), True
        except DriverError as error:
            values, answered = self._failed(error)
        self._latency.observe(time.perf_counter() - started)
        self._up.set(1 if answered else 0)
        t = self._now_ns()
        plan = self._plans.get(group.index)
        if plan is None:
            plan = self._plans[group.index] = self._plan(group)
        layout, normaliser = plan
        if isinstance(values, PolledValues) and values.group is group:
            raws = values.in_order
        else:
            raws = list(map(values.get, group.point_keys))
        normalised, qualities, flagged = normaliser.normalise(raws, t)
        # the metrics once per poll, not per reading
        good = len(normalised) - len(flagged)
        if good:
            self._read_good.inc(good)
        for quality in set(flagged):
            self._read[quality].inc(flagged.count(quality))
        return ReadingBatch(layout, normalised, qualities, t), answered

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
