"""A plan answered from readings held in memory, with the InfluxDB source's semantics.

For tests, the benchmark's engine-only figures and checks of the engine on the simulator's
model run in process. Windows are aligned to the epoch and stamped with their start, only
measured readings (quality other than ``missing`` and ``out_of_range``) enter series and
starts, ``missing`` readings do not count as measured for silence, every reading counts for
the first reading (of the plan's ``first_points``) and for quality counts — as in
polis.alarms.influx_source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from polis.alarms.windows import Aggregate, Plan, Series, SeriesRequest, Windows

QUALITIES = ("good", "stale", "out_of_range", "missing", "reset")
_CODE = {q: i for i, q in enumerate(QUALITIES)}
_MISSING = _CODE["missing"]
_OUT = _CODE["out_of_range"]

FloatArray = NDArray[np.float64]


@dataclass
class _Column:
    times: list[FloatArray] = field(default_factory=list)
    values: list[FloatArray] = field(default_factory=list)
    codes: list[NDArray[np.int8]] = field(default_factory=list)
    packed: tuple[FloatArray, FloatArray, NDArray[np.int8]] | None = None

    def arrays(self) -> tuple[FloatArray, FloatArray, NDArray[np.int8]]:
        if self.packed is None:
            t = np.concatenate(self.times) if self.times else np.empty(0)
            order = np.argsort(t, kind="stable")
            v = np.concatenate(self.values)[order] if self.values else np.empty(0)
            c = np.concatenate(self.codes)[order] if self.codes else np.empty(0, np.int8)
            self.packed = (t[order], v, c)
        return self.packed


def _epoch(t: datetime) -> float:
    return t.timestamp()


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class MemoryReadings:
    """Readings per point id: times (epoch seconds), values and quality tags."""

    def __init__(self) -> None:
        self._points: dict[str, _Column] = {}

    def add(
        self,
        point: str,
        times: ArrayLike,
        values: ArrayLike,
        quality: str | Sequence[str] = "good",
    ) -> None:
        t = np.asarray(times, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        if t.shape != v.shape:
            raise ValueError(f"{point}: {t.size} times for {v.size} values")
        if isinstance(quality, str):
            codes = np.full(t.shape, _CODE[quality], dtype=np.int8)
        else:
            codes = np.array([_CODE[q] for q in quality], dtype=np.int8)
        column = self._points.setdefault(point, _Column())
        column.times.append(t)
        column.values.append(v)
        column.codes.append(codes)
        column.packed = None

    def drop(self, point: str) -> None:
        """Forget a point's readings."""
        self._points.pop(point, None)

    def drop_after(self, point: str, start: float) -> None:
        """Forget a point's readings at or after ``start`` (epoch seconds)."""
        column = self._points.get(point)
        if column is None:
            return
        t, v, c = column.arrays()
        keep = t < start
        self._points[point] = _Column([t[keep]], [v[keep]], [c[keep]])

    def points(self) -> list[str]:
        return list(self._points)

    def rows(self, point: str) -> tuple[FloatArray, FloatArray, list[str]]:
        """A point's readings in time order: times (epoch seconds), values, qualities."""
        t, v, c = self._points[point].arrays()
        return t, v, [QUALITIES[i] for i in c]

    def _span(
        self, point: str, start: float, stop: float
    ) -> tuple[FloatArray, FloatArray, NDArray[np.int8]]:
        column = self._points.get(point)
        if column is None:
            return np.empty(0), np.empty(0), np.empty(0, np.int8)
        t, v, c = column.arrays()
        lo, hi = np.searchsorted(t, start, "left"), np.searchsorted(t, stop, "left")
        return t[lo:hi], v[lo:hi], c[lo:hi]

    def fetch(self, plan: Plan) -> Windows:
        windows = Windows(plan.now)
        now = _epoch(plan.now)
        self._seen(plan, windows, now)
        self._quality(plan, windows, now)
        for request in plan.series:
            windows.series[request.name] = self.series(request)
        if plan.starts_start is not None:
            self._starts(plan, windows, now)
        return windows

    def _seen(self, plan: Plan, windows: Windows, now: float) -> None:
        start = _epoch(plan.seen_start)
        firsts = []
        for point in self._points:
            t, _, c = self._span(point, start, now)
            if not t.size:
                continue
            if point in plan.first_points:
                firsts.append(float(t[0]))
            measured = t[c != _MISSING]
            if measured.size and point in plan.seen_points:
                windows.last_measured[point] = _instant(float(measured[-1]))
        windows.first_seen = _instant(min(firsts)) if firsts else None

    def _quality(self, plan: Plan, windows: Windows, now: float) -> None:
        start = _epoch(plan.quality_start)
        for point in plan.quality_points:
            _, _, c = self._span(point, start, now)
            if c.size:
                counts = np.bincount(c, minlength=len(QUALITIES))
                windows.quality[point] = {
                    q: int(n) for q, n in zip(QUALITIES, counts, strict=True) if n
                }

    def series(self, request: SeriesRequest) -> dict[str, Series]:
        every = request.every.total_seconds()
        start, stop = _epoch(request.start), _epoch(request.stop)
        out = {}
        for point in request.points:
            t, v, c = self._span(point, start, stop)
            keep = (c != _MISSING) & (c != _OUT)
            t, v = t[keep], v[keep]
            if not t.size:
                continue
            index = np.floor(t / every)
            starts, first = np.unique(index, return_index=True)
            out[point] = Series(
                tuple(_instant(s * every) for s in starts), tuple(_reduce(request.fn, v, first))
            )
        return out

    def _starts(self, plan: Plan, windows: Windows, now: float) -> None:
        assert plan.starts_start is not None
        start = _epoch(plan.starts_start)
        for point in plan.starts_points:
            _, v, c = self._span(point, start, now)
            measured = v[(c != _MISSING) & (c != _OUT)]
            if measured.size >= 2:
                windows.starts[point] = int(np.count_nonzero(np.diff(measured) > 0.5))


def _reduce(fn: Aggregate, values: FloatArray, first: NDArray[np.int64]) -> list[float]:
    if fn is Aggregate.MEAN:
        sums = np.add.reduceat(values, first)
        counts = np.diff(np.append(first, values.size))
        return [float(x) for x in sums / counts]
    if fn is Aggregate.MIN:
        return [float(x) for x in np.minimum.reduceat(values, first)]
    if fn is Aggregate.MAX:
        return [float(x) for x in np.maximum.reduceat(values, first)]
    last = np.append(first[1:], values.size) - 1
    return [float(x) for x in values[last]]
