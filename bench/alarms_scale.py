"""Alarm evaluation at scale: every rule over 200 buildings, evaluated every simulated minute.

    uv run python bench/alarms_scale.py [--copies 40] [--evaluations 20] [--no-influx]

The municipality is the simulator's default one copied ``--copies`` times (5 buildings each:
200 buildings, about 39,000 points). Readings are synthetic but shaped like the simulator's:
the points the rules read (zone temperatures, heat-pump outputs and status, outdoor
temperature, main meter power and energy counters) every minute for five hours, every other
point every minute for the last 70 minutes and every 30 minutes before. Baseline expectations
and control facts are handed as the gateway hands them (every building has an expectation;
a few overrides, fallback plans and refusals).

Figures, each for ``--evaluations`` evaluations at consecutive simulated minutes:

1. engine alone (plan + assess; windows from the in-memory source, fetched outside the timing);
2. the in-memory source's fetch, for comparison;
3. with InfluxDB (``--no-influx`` skips it): a dedicated influxd (the cached build) holding
   the readings; CPU of this process per evaluation (fetch, parse, assess) and influxd's own.

CPU is given per evaluation and as a share of one core at one evaluation per 60 s, the target
being at most 10 %. Peak memory: the process's maximum RSS, and tracemalloc's peak over one
evaluation.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from polis.alarms.engine import AlarmEngine
from polis.alarms.facts import (
    BaselineExpectation,
    ControlFacts,
    ExpectationKind,
    FallbackPlan,
    OverrideInForce,
    RefusedCommand,
)
from polis.alarms.influx_source import InfluxReadings
from polis.alarms.memory_source import MemoryReadings
from polis.common.catalogue import Catalogue, PointRef, parse_catalogue
from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary
from polis.simulator.catalogue import catalogue as simulator_catalogue
from polis.simulator.config import load_config
from polis.simulator.endpoints import endpoint_layout

NOW = datetime(2026, 1, 14, 11, 0, tzinfo=UTC)  # a Wednesday, 13:00 in Athens
HOURS = 5
RECENT_MIN = 70
PERIOD = 60.0
FloatArray = NDArray[np.float64]


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build_catalogue(copies: int) -> Catalogue:
    config = load_config().with_copies(copies)
    layout = endpoint_layout(config, "127.0.0.1", 20000)
    doc = simulator_catalogue(config, layout, modbus_poll_s=10.0, bacnet_poll_s=30.0)
    return parse_catalogue(doc, "bench", complete=True)


def _rule_value(name: str, t: FloatArray, rng: np.random.Generator) -> FloatArray:
    hours = (t - t[0]) / 3600.0
    out: FloatArray = np.zeros_like(t)
    if name.endswith("-temperature") and "zone-" in name:
        out = 21.0 + 0.3 * np.sin(hours) + rng.normal(0, 0.05, t.shape)
    elif name.endswith(("-heating-output", "-cooling-output")):
        out = (30.0 if "heating" in name else 0.0) + rng.uniform(0, 5, t.shape)
    elif name.endswith("-heat-pump-status"):
        out = (np.floor(hours * 2) % 2).astype(np.float64)  # two starts an hour
    elif name == "outdoor-air-temperature":
        out = 8.0 + 2.0 * np.sin(hours / 4)
    elif name == "total-power":
        out = 40.0 + rng.uniform(-5, 5, t.shape)
    elif name.endswith("import-energy"):
        out = 1000.0 + 40.0 * hours
    return out


def rule_points(engine: AlarmEngine) -> set[str]:
    out: set[str] = set()
    for b in engine.buildings:
        out.update(c.point_id for c in b.counters)
        out.update(p for p in (b.outdoor, b.main_power) if p is not None)
        for z in b.zones:
            out.update(
                p
                for p in (z.temperature, z.heating_output, z.cooling_output, z.status, z.power)
                if p is not None
            )
    return out


@dataclass
class Readings:
    """The synthetic readings, per point: times (epoch s) and values."""

    columns: dict[str, tuple[FloatArray, FloatArray]]
    refs: dict[str, PointRef]

    @property
    def rows(self) -> int:
        return sum(t.size for t, _ in self.columns.values())


def synthesize(catalogue: Catalogue, engine: AlarmEngine) -> Readings:
    rng = np.random.default_rng(1)
    end = NOW.timestamp()
    every_minute: FloatArray = end - 60.0 * np.arange(HOURS * 60, 0, -1, dtype=np.float64)
    recent = end - 60.0 * np.arange(RECENT_MIN, 0, -1, dtype=np.float64)
    sparse = np.arange(end - HOURS * 3600, end - RECENT_MIN * 60, 1800.0, dtype=np.float64)
    sparse_and_recent: FloatArray = np.concatenate([sparse, recent])
    ruled = rule_points(engine)
    columns: dict[str, tuple[FloatArray, FloatArray]] = {}
    refs = {}
    for ref in catalogue.points():
        refs[ref.point_id] = ref
        t = every_minute if ref.point_id in ruled else sparse_and_recent
        columns[ref.point_id] = (t, _rule_value(ref.point.id, t, rng))
    return Readings(columns, refs)


def memory_store(readings: Readings) -> MemoryReadings:
    store = MemoryReadings()
    for pid, (t, v) in readings.columns.items():
        store.add(pid, t, v)
    return store


def lines(readings: Readings) -> Iterator[str]:
    for pid, (t, v) in readings.columns.items():
        ref = readings.refs[pid]
        head = (
            f"reading,building={ref.building},device={ref.device},municipality={ref.municipality},"
            f"neighbourhood={ref.neighbourhood},point={pid},quality=good,"
            f"quantity={ref.point.quantity.value},unit={ref.point.unit}"
        )
        for ts, value in zip(t.tolist(), v.tolist(), strict=True):
            yield f"{head} value={value!r} {int(ts) * 1_000_000_000}"


def facts_for(engine: AlarmEngine) -> tuple[ControlFacts, list[BaselineExpectation]]:
    day_start = NOW.replace(hour=0) - timedelta(hours=22)  # yesterday in Athens, in UTC
    baselines = [
        BaselineExpectation(
            b.id,
            day_start,
            day_start + timedelta(days=1),
            960.0,
            40.0,
            unoccupied_kw=30.0,
            unoccupied_uncertainty_kw=3.0,
        )
        for b in engine.buildings
    ]
    # the last night's unoccupied hours (01:00-03:00 in Athens), as the runner asks for them
    night_end = NOW.replace(hour=1)
    baselines += [
        BaselineExpectation(
            b.id,
            night_end - timedelta(hours=2),
            night_end,
            60.0,
            6.0,
            kind=ExpectationKind.AFTER_HOURS,
        )
        for b in engine.buildings
    ]
    overrides, fallbacks, refused = [], [], []
    for i, b in enumerate(engine.buildings[:20]):
        point = next(iter(b.commands))
        overrides.append(OverrideInForce(b.id, point, NOW - timedelta(hours=i * 2), by="bench"))
        fallbacks.append(FallbackPlan(b.id, NOW - timedelta(minutes=10 * i)))
        refused.append(RefusedCommand(b.id, point, NOW - timedelta(minutes=i), "read back differs"))
    return ControlFacts(tuple(overrides), tuple(fallbacks), tuple(refused)), baselines


def cpu() -> float:
    return time.process_time()


@dataclass(frozen=True)
class Figure:
    label: str
    cpu_s: float  # per evaluation
    wall_s: float

    def line(self) -> str:
        share = 100.0 * self.cpu_s / PERIOD
        return (
            f"{self.label:<42} {self.cpu_s * 1000:8.1f} ms CPU  {self.wall_s * 1000:8.1f} ms wall"
            f"  {share:6.2f} % of a core at 1/60 s"
        )


def timed(label: str, n: int, step: Callable[[datetime], object]) -> Figure:
    cpu0, wall0 = cpu(), time.perf_counter()
    for k in range(n):
        step(NOW + timedelta(minutes=k))
    return Figure(label, (cpu() - cpu0) / n, (time.perf_counter() - wall0) / n)


def engine_figures(engine: AlarmEngine, store: MemoryReadings, n: int) -> list[Figure]:
    facts, baselines = facts_for(engine)
    fetched = {k: store.fetch(engine.plan(NOW + timedelta(minutes=k), baselines)) for k in range(n)}
    counts: list[int] = []

    def assess(now: datetime) -> None:
        k = round((now - NOW).total_seconds() / 60)
        engine.plan(now, baselines)
        counts.append(len(engine.assess(now, fetched[k], facts, baselines)))

    alone = timed("engine alone (plan + assess)", n, assess)
    progress(f"{counts[0]} assessments per evaluation")
    memory = timed(
        "in-memory fetch (for comparison)", n, lambda now: store.fetch(engine.plan(now, baselines))
    )
    return [alone, memory]


def influx_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def influx_figures(engine: AlarmEngine, readings: Readings, n: int) -> list[Figure]:
    binary = find_binary()
    if binary is None:
        progress("influxd not built (make influxd): skipping the InfluxDB figures")
        return []
    facts, baselines = facts_for(engine)
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(binary, Path(tmp)) as server:
        assert server.process is not None
        store = InfluxStore(server.url, server.token, server.org, server.bucket, timeout_ms=120_000)
        progress(f"writing {readings.rows:,} readings to influxd at {server.url}")
        batch: list[str] = []
        written = 0
        for line in lines(readings):
            batch.append(line)
            if len(batch) == 50_000:
                store.write_lines(batch)
                written += len(batch)
                batch = []
                if written % 1_000_000 == 0:
                    progress(f"  {written:,} written")
        store.write_lines(batch)
        progress("written; evaluating")
        source = InfluxReadings(store, engine.catalogue.municipality)
        source.fetch(engine.plan(NOW, baselines))  # warm InfluxDB's caches once
        server_cpu0 = influx_cpu(server.process.pid)

        def evaluate(now: datetime) -> None:
            windows = source.fetch(engine.plan(now, baselines))
            engine.assess(now, windows, facts, baselines)

        ours = timed("with InfluxDB: this process (fetch + assess)", n, evaluate)
        theirs = (influx_cpu(server.process.pid) - server_cpu0) / n
        store.close()
    return [ours, Figure("with InfluxDB: influxd's own CPU", theirs, ours.wall_s)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--evaluations", type=int, default=20)
    parser.add_argument("--no-influx", action="store_true")
    args = parser.parse_args()

    progress(f"catalogue: the default municipality x {args.copies}")
    catalogue = build_catalogue(args.copies)
    started = time.perf_counter()
    engine = AlarmEngine(catalogue)
    points = sum(1 for _ in catalogue.points())
    zones = sum(len(b.zones) for b in engine.buildings)
    progress(
        f"{len(catalogue.buildings)} buildings, {points:,} points, {zones} zones; engine built "
        f"in {time.perf_counter() - started:.1f} s"
    )
    readings = synthesize(catalogue, engine)
    progress(f"{readings.rows:,} synthetic readings over {HOURS} h")
    store = memory_store(readings)

    figures = engine_figures(engine, store, args.evaluations)
    tracemalloc.start()
    facts, baselines = facts_for(engine)
    windows = store.fetch(engine.plan(NOW, baselines))
    engine.assess(NOW, windows, facts, baselines)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if not args.no_influx:
        figures += influx_figures(engine, readings, args.evaluations)

    print()
    buildings = len(catalogue.buildings)
    print(f"{buildings} buildings, {points:,} points, {args.evaluations} evaluations each")
    for figure in figures:
        print(figure.line())
    if len(figures) >= 4:
        both = Figure("with InfluxDB: both processes", figures[2].cpu_s + figures[3].cpu_s, 0.0)
        print(both.line())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: {rss:.0f} MB max RSS (synthetic readings included); "
        f"{peak / 2**20:.0f} MB traced over one evaluation (fetch + assess)"
    )


if __name__ == "__main__":
    main()
