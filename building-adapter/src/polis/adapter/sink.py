"""From readings to InfluxDB: encoding, batching, and the durable buffer on failure.

Readings are encoded to line protocol once, journaled, batched, and written. When a write
fails the batch goes to the :class:`~polis.adapter.buffer.DurableBuffer`; while the buffer
holds anything, new batches queue behind it so InfluxDB receives every reading in order. The
:class:`~polis.adapter.journal.PendingJournal` covers the readings between two flushes, so a
killed process loses none of them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from polis.adapter.buffer import BufferFull, DurableBuffer
from polis.adapter.journal import PendingJournal
from polis.adapter.metrics import AdapterMetrics
from polis.adapter.model import PointLayout, Quality, Reading, ReadingBatch
from polis.common.catalogue import PointRef
from polis.common.influx import READING
from polis.common.lineprotocol import Sample, encode
from polis.common.logging import get_logger

log = get_logger(__name__)
_GOOD = Quality.GOOD


class LineWriter(Protocol):
    """What the sink needs from InfluxDB (``polis.common.influx.InfluxStore`` provides it)."""

    def write_lines(self, lines: Sequence[str], bucket: str | None = None) -> None: ...


class ReadingEncoder:
    """Encodes readings with per-point tag text computed once (escaping by polis.common)."""

    def __init__(self, points: Iterable[PointRef], units: dict[str, str]) -> None:
        self._prefixes: dict[str, dict[Quality, str]] = {}
        for ref in points:
            marker = "QUALITYMARK"
            line = encode(
                Sample(
                    READING,
                    {
                        "municipality": ref.municipality,
                        "neighbourhood": ref.neighbourhood,
                        "building": ref.building,
                        "device": ref.device,
                        "point": ref.point_id,  # the stable id, as the control API names it
                        "quantity": ref.point.quantity.value,
                        "unit": units[ref.point_id],
                        "quality": marker,
                    },
                    {"value": 0.0},
                    0,
                )
            )
            head, _, tail = line.partition(marker)
            tail = tail.rsplit(" value=", 1)[0] + " value="
            # the whole line up to the value, per quality: one lookup and one format per reading
            self._prefixes[ref.point_id] = {q: f"{head}{q.value}{tail}" for q in Quality}
        # per poll layout: the good prefixes in poll order, and every point's prefixes
        self._layouts: dict[PointLayout, tuple[tuple[str, ...], tuple[dict[Quality, str], ...]]]
        self._layouts = {}

    def encode(self, reading: Reading) -> str:
        prefix = self._prefixes[reading.point_id][reading.quality]
        return f"{prefix}{reading.value!r} {reading.time_ns}"

    def encode_many(self, readings: Iterable[Reading]) -> list[str]:
        if isinstance(readings, ReadingBatch):
            return self.encode_batch(readings)
        prefixes = self._prefixes
        return [f"{prefixes[r.point_id][r.quality]}{r.value!r} {r.time_ns}" for r in readings]

    def encode_batch(self, batch: ReadingBatch) -> list[str]:
        """One poll's lines: the timestamp formatted once, prefixes taken in poll order."""
        tables = self._layouts.get(batch.layout)
        if tables is None:
            by_point = tuple(self._prefixes[pid] for pid in batch.layout.point_ids)
            tables = self._layouts[batch.layout] = (
                tuple(p[Quality.GOOD] for p in by_point),
                by_point,
            )
        good, by_point = tables
        end = f" {batch.time_ns}"
        qualities, values = batch.qualities, batch.values
        if qualities.count(_GOOD) == len(qualities):
            return [f"{prefix}{value!r}{end}" for prefix, value in zip(good, values, strict=True)]
        return [
            f"{prefixes[quality]}{value!r}{end}"
            for prefixes, quality, value in zip(by_point, qualities, values, strict=True)
        ]


class ReadingSink:
    def __init__(
        self,
        encoder: ReadingEncoder,
        writer: LineWriter,
        buffer: DurableBuffer,
        metrics: AdapterMetrics,
        *,
        batch_size: int = 5000,
        flush_interval_s: float = 1.0,
        warn_fraction: float = 0.8,
        retry_max_s: float = 30.0,
        journal: PendingJournal | None = None,
    ) -> None:
        self._encoder = encoder
        self._writer = writer
        self._buffer = buffer
        self._metrics = metrics
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self._warn_at = int(buffer.max_readings * warn_fraction)
        self._retry_max_s = retry_max_s
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stopping = False
        self.dropped_full = 0
        self._journal = journal
        if journal is not None:
            self._recover(journal)
        metrics.buffer_depth.set(buffer.depth)

    def _recover(self, journal: PendingJournal) -> None:
        """Move what a killed process journaled into the buffer, before any new reading."""
        segments, lines = journal.recover()
        for start in range(0, len(lines), self.batch_size):
            self._store(lines[start : start + self.batch_size])
        journal.discard(segments)
        if lines:
            log.warning("journaled readings recovered into the buffer", readings=len(lines))

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, readings: Sequence[Reading]) -> None:
        """Queue readings (non-blocking); a full batch wakes the writer."""
        lines = self._encoder.encode_many(readings)
        if self._journal is not None:
            self._journal.append(lines)
        self._pending.extend(lines)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    async def run(self) -> None:
        """Flush periodically until :meth:`stop`; replays the buffer whenever it can."""
        backoff = self.flush_interval_s
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            ok = await self.flush()
            backoff = self.flush_interval_s if ok else min(max(backoff * 2, 0.5), self._retry_max_s)

    async def stop(self) -> None:
        """Flush what is queued (to InfluxDB or, failing that, to the buffer)."""
        self._stopping = True
        self._wake.set()
        await self.flush()

    async def flush(self) -> bool:
        """Write queued readings; True when InfluxDB took everything (buffer empty)."""
        async with self._lock:
            # the journal segment holds exactly the pending lines: take both together
            segment = self._journal.rotate() if self._journal and self._pending else None
            batches = []
            while self._pending:
                batches.append(self._pending[: self.batch_size])
                del self._pending[: self.batch_size]
            ok = await self._replay()
            for lines in batches:
                if ok and await self._write(lines):
                    continue
                ok = False
                self._store(lines)
            if segment is not None:
                PendingJournal.discard([segment])
            return ok

    async def _write(self, lines: list[str]) -> bool:
        try:
            await asyncio.to_thread(self._writer.write_lines, lines)
        except Exception as error:
            self._metrics.influx_up.set(0)
            log.warning("influx write failed; buffering", error=str(error), readings=len(lines))
            return False
        self._metrics.influx_up.set(1)
        self._metrics.points_written.inc(len(lines))
        return True

    async def _replay(self) -> bool:
        while self._buffer.depth:
            batches = await asyncio.to_thread(self._buffer.oldest, 4)
            for batch in batches:
                if not await self._write(batch.lines):
                    return False
                await asyncio.to_thread(self._buffer.remove, [batch.id])
                self._metrics.buffer_depth.set(self._buffer.depth)
            if self._buffer.depth == 0:
                log.info("buffer replayed to influx")
        return True

    def _store(self, lines: list[str]) -> None:
        try:
            self._buffer.append(lines)
        except BufferFull as error:
            # Bounded by design: beyond the bound the newest readings are refused, counted and
            # logged loudly rather than growing the disk without limit.
            self.dropped_full += len(lines)
            log.error("buffer full; readings refused", error=str(error), readings=len(lines))
            return
        depth = self._buffer.depth
        self._metrics.buffer_depth.set(depth)
        if depth >= self._warn_at:
            log.warning(
                "buffer filling",
                depth=depth,
                max=self._buffer.max_readings,
                path=str(self._buffer.path),
            )
