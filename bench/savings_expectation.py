"""What the gateway's energy alarms cost the savings service: after-hours expectations against a
year-long hourly baseline held in a real InfluxDB.

The gateway asks each building, about once an hour while it is closed, what its baseline
model expects over the two unoccupied hours just past. Each answer needs the model fitted on
the baseline year; the service keeps a fit for ``POLIS_SAVINGS_BASELINE_CACHE_S`` (a day by
default). Prints, in one run on the same data, the time and CPU (this process and influxd) per
expectation fitted afresh on every request (the baseline, ``baseline_cache_s=0``) and with the
fit kept, their ratio, and what a municipality of 200 buildings would spend a day.

    uv run python bench/savings_expectation.py [--buildings 10] [--spans 24]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from polis.common.influx import InfluxStore
from polis.common.influxd import InfluxServer, find_binary
from polis.savings.application import SavingsApp
from polis.savings.measurement import MeasurementOptions, Window
from polis.savings.sites import Site, SiteDirectory
from polis.savings.store import InfluxMeterStore
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
DAYS_AFTER = 30
CLOSED_HOURS_A_DAY = 14  # 18:00-08:00, the spans the rule asks about


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def influx_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def csv_of(building: str, seed: int) -> str:
    hours = int((SWITCH - START).total_seconds() // 3600) + 24 * DAYS_AFTER
    data = synthetic_building(START, hours, seed, SyntheticBuilding(base_kw=15 + seed % 20))
    lines = ["meter_id,timestamp,value,unit"]
    for i in range(hours):
        t = (START + timedelta(hours=i)).isoformat()
        lines.append(f"{building}/main/energy,{t},{data.series.energy_kwh[i]:.3f},kWh")
        lines.append(
            f"{building}/weather/outdoor_temperature,{t},{data.series.temperature_c[i]:.2f},degC"
        )
    return "\n".join(lines) + "\n"


def spans(count: int) -> list[Window]:
    """Two-hour after-hours spans of the month after the baseline (local 20:00 and 02:00)."""
    out = []
    for i in range(count):
        day = SWITCH + timedelta(days=1 + i // 2)
        hour = 18 if i % 2 == 0 else 0  # UTC: 20:00 and 02:00 local
        out.append(Window(day + timedelta(hours=hour), day + timedelta(hours=hour + 2)))
    return out


def run(
    app: SavingsApp, buildings: list[str], windows: list[Window], pid: int
) -> tuple[float, float, float]:
    """Seconds of wall time, this process' CPU and influxd's CPU per expectation."""
    baseline = Window(START, SWITCH)
    wall0, cpu0, theirs0 = time.perf_counter(), own_cpu(), influx_cpu(pid)
    asked = 0
    for building in buildings:
        for window in windows:
            e = app.expectation(building, baseline, window)
            assert e.accepted, e.reason
            asked += 1
    wall = (time.perf_counter() - wall0) / asked
    return wall, (own_cpu() - cpu0) / asked, (influx_cpu(pid) - theirs0) / asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=10)
    parser.add_argument("--spans", type=int, default=24, help="spans asked per building")
    args = parser.parse_args()
    binary = find_binary()
    if binary is None:
        raise SystemExit("influxd not built: run `make influxd` first")
    names = [f"b{i:03d}" for i in range(args.buildings)]
    sites = SiteDirectory({n: Site(n, "kentro", "larissa") for n in names})
    windows = spans(args.spans)
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(binary, Path(tmp)) as server:
        assert server.process is not None
        influx = InfluxStore(
            server.url, server.token, server.org, server.bucket, timeout_ms=120_000
        )
        store = InfluxMeterStore(influx)
        loader = SavingsApp(store, sites, MeasurementOptions())
        for i, name in enumerate(names):
            outcome = loader.import_csv(csv_of(name, i))
            assert not outcome.errors, outcome.errors[:3]
            progress(f"imported {name}: {outcome.points_written:,} readings ({i + 1}/{len(names)})")
        pid = server.process.pid
        fresh = SavingsApp(store, sites, MeasurementOptions(), baseline_cache_s=0.0)
        kept = SavingsApp(store, sites, MeasurementOptions())
        run(fresh, names[:1], windows[:2], pid)  # warm InfluxDB's caches once
        asked = len(names) * len(windows)
        progress(f"asking {asked} expectations fitted afresh")
        f_wall, f_cpu, f_influx = run(fresh, names, windows, pid)
        progress(f"asking {asked} expectations on kept fits (first per building fits)")
        k_wall, k_cpu, k_influx = run(kept, names, windows, pid)
        influx.close()
    print()
    print(f"{len(names)} buildings, a year of hourly baseline each, {len(windows)} spans each")
    print(f"{'per expectation':28s} {'wall ms':>9s} {'our CPU ms':>11s} {'influxd CPU ms':>15s}")
    for label, wall, cpu, theirs in (
        ("fitted afresh (baseline)", f_wall, f_cpu, f_influx),
        ("fit kept", k_wall, k_cpu, k_influx),
    ):
        print(f"{label:28s} {1e3 * wall:9.1f} {1e3 * cpu:11.1f} {1e3 * theirs:15.1f}")
    ratio = (f_cpu + f_influx) / (k_cpu + k_influx)
    print(f"ratio fresh / kept: wall {f_wall / k_wall:.1f}x, CPU {ratio:.1f}x")
    day = 200 * CLOSED_HOURS_A_DAY
    print(
        f"200 buildings x {CLOSED_HOURS_A_DAY} closed hours a day: "
        f"{day * (f_cpu + f_influx) / 60:.1f} CPU-min fitted afresh, "
        f"{(day * (k_cpu + k_influx) + 200 * (f_cpu + f_influx)) / 60:.1f} with fits kept "
        "a day (one refit per building a day)"
    )


if __name__ == "__main__":
    main()
