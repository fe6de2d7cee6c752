"""The engine's readings from InfluxDB: one Flux query per part of a plan.

Measurement ``reading`` of the raw bucket (tags municipality, building, device, point,
quantity, unit, quality; field ``value``), through ``polis.common.influx.InfluxStore`` with
every value bound as a parameter. Each query lets InfluxDB's storage engine do the work it can
do per series (``last``, ``first``, ``count``, windowed ``mean``/``min``/``max``/``last``), so
a municipality of 10,000 points is six or seven queries and a few tens of thousands of rows:

- seen: each point's last measured reading; the first reading of one point per device;
- quality: readings counted per quality tag, of the points that can be flagged;
- series: one per request, aggregated per window (``aggregateWindow``, windows aligned to the
  epoch and stamped with their start);
- starts: the rises of 0/1 points, counted in Flux (``difference``) so the raw rows stay there.

A point's quality tag splits it into several series (``good``, ``stale``, ``reset``). The
starts count groups the rows by point in Flux. A series query aggregates per series, which the
storage engine does for a fifth of the CPU that grouping first costs (see
``bench/alarms_series_grouping.py``); where two series of a point share a window, that point
is asked again with its rows grouped in time order before they aggregate, so a window's mean
weighs every reading and its last value is the latest. Nothing is merged here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from polis.alarms.windows import Aggregate, Plan, Series, SeriesRequest, Windows
from polis.common.influx import READING, InfluxStore
from polis.common.logging import get_logger

log = get_logger(__name__)

# readings that measured something: not the adapter's repeated last value, not implausible
_MEASURED = '  |> filter(fn: (r) => r.quality != "missing" and r.quality != "out_of_range")'
_BASE = """from(bucket: params.bucket)
  |> range(start: params.start, stop: params.stop)
  |> filter(fn: (r) => r._measurement == params.measurement and r._field == "value")
  |> filter(fn: (r) => r.municipality == params.municipality)"""

SEEN_FLUX = f"""{_BASE}
  |> filter(fn: (r) => r.quality != "missing")
  |> last()
  |> keep(columns: ["_time", "point"])"""


def points_pattern(points: Iterable[str]) -> str:
    """A regular expression matching exactly these point ids (RE2, as Flux compiles it)."""
    return "^(?:" + "|".join(re.escape(p) for p in sorted(points)) + ")$"


# A set of thousands of points is one regular expression bound as a parameter: InfluxDB
# matches it against the point tag's index in a tenth of a second, where an ``or`` of
# thousands of equalities takes seconds (and a chain of them is refused as nested too deep).
_POINTS = 'import "regexp"\nwanted = regexp.compile(v: params.points)'
_WANTED = "  |> filter(fn: (r) => r.point =~ wanted)"


# each query touching every series of a municipality costs InfluxDB about 40 µs a series:
# only the last measured reading needs them all; the first reading is asked of one point per
# device, the quality counts of the points that can be flagged
FIRST_FLUX = "\n".join(
    [
        _POINTS,
        _BASE,
        _WANTED,
        "  |> first()",
        '  |> keep(columns: ["_time"])',
        "  |> group()",
        '  |> min(column: "_time")',
    ]
)
QUALITY_FLUX = "\n".join(
    [_POINTS, _BASE, _WANTED, "  |> count()", '  |> keep(columns: ["_value", "point", "quality"])']
)


# one table per point whatever its quality tags, in time order
_BY_POINT = ['  |> group(columns: ["point"])', '  |> sort(columns: ["_time"])']


def series_flux(
    fn: Aggregate, points: Iterable[str], params: dict[str, Any], *, grouped: bool = False
) -> str:
    """``fn`` per window of each series (``grouped``: of each point's rows together)."""
    params["points"] = points_pattern(points)
    return "\n".join(
        [
            _POINTS,
            _BASE,
            _WANTED,
            _MEASURED,
            *(_BY_POINT if grouped else []),
            f"  |> aggregateWindow(every: params.every, fn: {Aggregate(fn).value}, "
            'createEmpty: false, timeSrc: "_start")',
            '  |> keep(columns: ["_time", "_value", "point"])',
        ]
    )


def starts_flux(points: Iterable[str], params: dict[str, Any]) -> str:
    params["points"] = points_pattern(points)
    return "\n".join(
        [
            _POINTS,
            _BASE,
            _WANTED,
            _MEASURED,
            '  |> group(columns: ["point"])',
            '  |> sort(columns: ["_time"])',
            "  |> difference()",
            "  |> map(fn: (r) => ({r with _value: if r._value > 0.5 then 1.0 else 0.0}))",
            "  |> sum()",
            '  |> keep(columns: ["_value", "point"])',
        ]
    )


def parse_time(text: str) -> datetime:
    """RFC 3339 as InfluxDB writes it (``Z``, up to nanoseconds), to microseconds."""
    head, _, frac = text.rstrip("Z").partition(".")
    stamp = f"{head}.{frac[:6]:0<6}+00:00" if frac else f"{head}+00:00"
    return datetime.fromisoformat(stamp)


class InfluxReadings:
    """Answers a plan from one municipality's readings in ``store``'s bucket (synchronous)."""

    def __init__(self, store: InfluxStore, municipality: str) -> None:
        self.store = store
        self.municipality = municipality

    def _params(self, start: datetime, stop: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "bucket": self.store.bucket,
            "start": start,
            "stop": stop,
            "measurement": READING,
            "municipality": self.municipality,
            **extra,
        }

    def fetch(self, plan: Plan) -> Windows:
        windows = Windows(plan.now)
        self._seen(plan, windows)
        self._quality(plan, windows)
        for request in plan.series:
            windows.series[request.name] = self.series(request)
        self._starts(plan, windows)
        return windows

    def _seen(self, plan: Plan, windows: Windows) -> None:
        wanted = plan.seen_points
        for record in self.store.records(SEEN_FLUX, self._params(plan.seen_start, plan.now)):
            point = record.get("point", "")
            if point in wanted:
                when = parse_time(record["_time"])
                previous = windows.last_measured.get(point)
                if previous is None or when > previous:
                    windows.last_measured[point] = when
        if not plan.first_points:
            return
        params = self._params(plan.seen_start, plan.now, points=points_pattern(plan.first_points))
        for record in self.store.records(FIRST_FLUX, params):
            windows.first_seen = parse_time(record["_time"])

    def _quality(self, plan: Plan, windows: Windows) -> None:
        if not plan.quality_points:
            return
        points = points_pattern(plan.quality_points)
        params = self._params(plan.quality_start, plan.now, points=points)
        for record in self.store.records(QUALITY_FLUX, params):
            counts = windows.quality.setdefault(record["point"], {})
            quality = record.get("quality", "")
            counts[quality] = counts.get(quality, 0) + int(record["_value"])

    def series(self, request: SeriesRequest) -> dict[str, Series]:
        params = self._params(request.start, request.stop, every=request.every)
        by_point, split = self._windows(series_flux(request.fn, request.points, params), params)
        if split:
            # windows two of a point's series share: the point again, its rows grouped
            params = self._params(request.start, request.stop, every=request.every)
            exact, _ = self._windows(series_flux(request.fn, split, params, grouped=True), params)
            for point in split:
                by_point[point] = exact.get(point, {})
        return dict(_series(by_point))

    def _windows(
        self, flux: str, params: dict[str, Any]
    ) -> tuple[dict[str, dict[str, float]], set[str]]:
        """Each point's value per window start, and the points with a window in two series."""
        by_point: dict[str, dict[str, float]] = {}
        split: set[str] = set()
        for record in self.store.records(flux, params):
            point, stamp = record["point"], record["_time"]
            values = by_point.setdefault(point, {})
            if stamp in values:
                split.add(point)
            values[stamp] = float(record["_value"])
        return by_point, split

    def _starts(self, plan: Plan, windows: Windows) -> None:
        if plan.starts_start is None or not plan.starts_points:
            return
        params = self._params(plan.starts_start, plan.now)
        flux = starts_flux(plan.starts_points, params)
        for record in self.store.records(flux, params):
            windows.starts[record["point"]] = round(float(record["_value"]))


def _series(by_point: dict[str, dict[str, float]]) -> Iterator[tuple[str, Series]]:
    for point, values in by_point.items():
        ordered = sorted((parse_time(stamp), value) for stamp, value in values.items())
        yield point, Series(tuple(t for t, _ in ordered), tuple(v for _, v in ordered))
