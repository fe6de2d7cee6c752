"""What exact series cost the alarm engine when quality tags split a point into several series.

    uv run python bench/alarms_series_grouping.py [--copies 40] [--repeats 3] [--split 0.02]

The adapter tags each reading good, stale or reset, and InfluxDB keeps one series per tag, so
a window's mean or last value must be taken over a point's rows together. Three ways to answer
every series request of one evaluation's plan, timed on the same readings:

1. per series (the baseline, the engine's query before: wrong where two series share a
   window): ``aggregateWindow`` straight after the filters, which InfluxDB's storage engine
   computes per series;
2. grouped: every point's rows grouped and sorted by time in Flux before ``aggregateWindow``
   (exact, but the storage engine can no longer aggregate);
3. as ``polis.alarms.influx_source`` answers: per series, and the points with two series in
   one window asked again, grouped (exact).

Readings are those of ``bench/alarms_scale.py`` (the default municipality copied ``--copies``
times, 200 buildings by default) in a dedicated influxd, with every seventh reading of the last
70 minutes of a ``--split`` share of the rules' points tagged ``stale``. Figures: CPU of
influxd and of this process, and wall time, per evaluation's series requests, and each way's
ratio to the baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from alarms_scale import (
    NOW,
    RECENT_MIN,
    Readings,
    build_catalogue,
    facts_for,
    influx_cpu,
    lines,
    progress,
    rule_points,
    synthesize,
)

from polis.alarms.engine import AlarmEngine
from polis.alarms.influx_source import InfluxReadings, series_flux
from polis.alarms.windows import SeriesRequest
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary

Way = Callable[[InfluxReadings, SeriesRequest], int]


def tagged(readings: Readings, split: set[str]) -> Iterator[str]:
    """The readings' lines, every seventh recent reading of the ``split`` points stale."""
    since = int(NOW.timestamp()) - RECENT_MIN * 60
    for line in lines(readings):
        point = line.split(",point=", 1)[1].split(",", 1)[0]
        if point in split:
            ts = int(line.rsplit(" ", 1)[1]) // 1_000_000_000
            if ts >= since and (ts // 60) % 7 == 0:
                line = line.replace(",quality=good,", ",quality=stale,")
        yield line


def rows_of(source: InfluxReadings, flux: str, params: dict[str, object]) -> int:
    return sum(1 for _ in source.store.records(flux, params))


def per_series(source: InfluxReadings, request: SeriesRequest) -> int:
    params = source._params(request.start, request.stop, every=request.every)
    return rows_of(source, series_flux(request.fn, request.points, params), params)


def grouped(source: InfluxReadings, request: SeriesRequest) -> int:
    params = source._params(request.start, request.stop, every=request.every)
    return rows_of(source, series_flux(request.fn, request.points, params, grouped=True), params)


def as_answered(source: InfluxReadings, request: SeriesRequest) -> int:
    return sum(len(s.times) for s in source.series(request).values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--split", type=float, default=0.02)
    args = parser.parse_args()
    binary = find_binary()
    if binary is None:
        raise SystemExit("influxd not built (make influxd)")
    catalogue = build_catalogue(args.copies)
    engine = AlarmEngine(catalogue)
    readings = synthesize(catalogue, engine)
    ruled = sorted(rule_points(engine))
    rng = np.random.default_rng(2)
    split = {p for p in ruled if rng.random() < args.split}
    _, baselines = facts_for(engine)
    plan = engine.plan(NOW, baselines)
    progress(
        f"{len(catalogue.buildings)} buildings; {len(plan.series)} series requests over "
        f"{sum(len(r.points) for r in plan.series):,} points; {len(split)} points split"
    )
    ways: dict[str, Way] = {
        "per series (baseline)": per_series,
        "grouped": grouped,
        "as answered": as_answered,
    }
    figures: dict[str, tuple[float, float, float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(binary, Path(tmp)) as server:
        assert server.process is not None
        pid = server.process.pid
        store = InfluxStore(server.url, server.token, server.org, server.bucket, timeout_ms=120_000)
        progress(f"writing {readings.rows:,} readings")
        batch: list[str] = []
        for line in tagged(readings, split):
            batch.append(line)
            if len(batch) == 50_000:
                store.write_lines(batch)
                batch = []
        store.write_lines(batch)
        source = InfluxReadings(store, catalogue.municipality)
        for name, way in ways.items():
            rows = sum(way(source, r) for r in plan.series)  # warms InfluxDB's caches
            influx0, ours0, wall0 = influx_cpu(pid), time.process_time(), time.perf_counter()
            for _ in range(args.repeats):
                for request in plan.series:
                    way(source, request)
            n = args.repeats
            figures[name] = (
                (influx_cpu(pid) - influx0) / n,
                (time.process_time() - ours0) / n,
                (time.perf_counter() - wall0) / n,
                rows,
            )
        store.close()
    base = figures["per series (baseline)"]
    print()
    print(f"series requests of one evaluation, mean of {args.repeats}:")
    for name, (theirs, ours, wall, rows) in figures.items():
        print(
            f"  {name:<22} influxd {theirs * 1000:7.0f} ms CPU (x{theirs / base[0]:.2f})  "
            f"this process {ours * 1000:5.0f} ms CPU  wall {wall * 1000:6.0f} ms "
            f"(x{wall / base[2]:.2f})  {rows:,} rows"
        )


if __name__ == "__main__":
    main()
