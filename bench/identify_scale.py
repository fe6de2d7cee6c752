"""Identification at municipal scale: time per zone-month and for N buildings, with memory.

    uv run python bench/identify_scale.py [--buildings 200] [--days 30] [--workers 2]
        [--blas-sample 18]

The simulator's default municipality (5 buildings, 9 zones) is copied to ``--buildings``
buildings (``MunicipalityConfig.with_copies``); each copy's zones get their envelope (UA) and
thermal mass scaled by a seeded factor in 0.8–1.25, so no two copies hold the same data.
Every zone's month (from Monday 6 January 2025, 15-minute steps: temperature, outdoor
temperature, heat pump power split by mode, occupancy, irradiance) is simulated from the
simulator's own physics, then identified in a process pool of ``--workers`` processes:

1. baseline: the 1R1C fit alone (``fit_1r1c`` on the training days);
2. full: ``identify_zone`` (cleaning, 1R1C, 2R2C, held-out validation, acceptance);

each pass timed as a whole (wall) and per zone (the worker's CPU), with their ratio, the
accepted share and τ's error against the simulator's truth. Peak memory is the largest
resident set of a worker and of this process (``getrusage`` maxrss). The workers run with
one BLAS thread (``OPENBLAS_NUM_THREADS=1``): the fits' small matrices only lose to BLAS
threads, and on a busy machine badly; ``--blas-sample`` zones are identified once more with
BLAS's default threads to show it. Targets: ≤ 1 s per zone-month, ≤ 5 min for 200 buildings
on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
os.environ.update(SINGLE_THREAD)  # before numpy, here and in the spawned workers

import numpy as np  # noqa: E402

# the zones' histories are stepped as the identification tests step them
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from optimizer.zone_physics import START, building_span, step_zone  # noqa: E402

from polis.optimizer.identify import CopLine, ZoneSeries, fit_1r1c, identify_zone  # noqa: E402
from polis.optimizer.identify.cop import choose_cop  # noqa: E402
from polis.simulator.config import Building, MunicipalityConfig, load_config  # noqa: E402

HOLDOUT_DAYS = 3
SCALE = (0.8, 1.25)  # of a copy's UA and thermal mass


@dataclass(frozen=True)
class Zone:
    building: str
    zone: str
    series: ZoneSeries
    tau_h: float  # the simulator's truth, to judge the result
    cop: CopLine  # the data sheet's line (the catalogue's)


@dataclass(frozen=True)
class Timed:
    building: str
    zone: str
    wall_s: float
    cpu_s: float
    accepted: bool
    tau_h: float  # NaN without a model
    tau_true_h: float
    pid: int
    maxrss_kib: int


def municipality(buildings: int) -> MunicipalityConfig:
    """The default municipality copied to ``buildings`` buildings, copies varied."""
    base = load_config()
    copies = math.ceil(buildings / len(base.buildings))
    config = base.with_copies(copies)
    varied = [_vary(b) if "-c" in b.id else b for b in config.buildings[:buildings]]
    return config.model_copy(update={"buildings": varied})


def _vary(building: Building) -> Building:
    rng = np.random.default_rng(zlib.crc32(building.id.encode()))
    zones = []
    for zone in building.zones:
        ua, mass = rng.uniform(*SCALE, size=2)
        pump = zone.heat_pump.model_copy(
            update={
                "heating_capacity_kw": zone.heat_pump.heating_capacity_kw * ua,
                "cooling_capacity_kw": zone.heat_pump.cooling_capacity_kw * ua,
            }
        )
        zones.append(
            zone.model_copy(
                update={
                    "ua_w_per_k": zone.ua_w_per_k * ua,
                    "thermal_mass_kwh_per_k": zone.thermal_mass_kwh_per_k * mass,
                    "heat_pump": pump,
                }
            )
        )
    return building.model_copy(update={"zones": zones})


def simulate_building(config: MunicipalityConfig, index: int, days: int) -> list[Zone]:
    """Each zone of building ``index`` stepped alone with its own gains and heat pump, as
    its own sub-meter would see it (the simulator meters a building's heat pumps together)."""
    building = config.buildings[index]
    span = building_span(config, building, days, START)
    out: list[Zone] = []
    for zone in building.zones:
        z = step_zone(span, zone.id)
        out.append(Zone(building.id, zone.id, z.series, z.tau_h, z.datasheet_cop))
    return out


def identify(zone: Zone, full: bool) -> Timed:
    wall, cpu = time.perf_counter(), time.process_time()
    if full:
        result = identify_zone(zone.series, holdout_days=HOLDOUT_DAYS, cop_prior=zone.cop)
        accepted = result.accepted
        tau = result.model.tau_h if result.model is not None else float("nan")
    else:
        train = zone.series.days_slice(0, zone.series.days - HOLDOUT_DAYS)
        fit = fit_1r1c(train, choose_cop(train, zone.cop))
        accepted = fit is not None
        tau = fit.model.tau_h if fit is not None else float("nan")
    return Timed(
        zone.building,
        zone.zone,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        accepted,
        tau,
        zone.tau_h,
        os.getpid(),
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


def warm(_: int) -> int:
    """A task that keeps a worker busy long enough for the pool to start every worker."""
    time.sleep(0.5)
    return os.getpid()


def started_pool(workers: int) -> ProcessPoolExecutor:
    """A pool whose workers have started and imported everything (not timed)."""
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    list(pool.map(warm, range(workers)))
    return pool


def run_pass(
    pool: ProcessPoolExecutor, zones: list[Zone], full: bool, label: str
) -> tuple[float, list[Timed]]:
    """Every zone through the pool, progress on stdout; the pass's wall time and results."""
    started = time.perf_counter()
    done: list[Timed] = []
    step = max(1, len(zones) // 10)
    futures = [pool.submit(identify, zone, full) for zone in zones]
    for future in futures:
        done.append(future.result())
        if len(done) % step == 0 or len(done) == len(zones):
            elapsed = time.perf_counter() - started
            print(f"  {label}: {len(done)}/{len(zones)} zones, {elapsed:.1f} s", flush=True)
    return time.perf_counter() - started, done


def summarise(label: str, wall_s: float, results: list[Timed], months: float) -> float:
    cpu = np.array([r.cpu_s for r in results])
    accepted = sum(r.accepted for r in results)
    errors = np.array([abs(r.tau_h / r.tau_true_h - 1.0) for r in results if np.isfinite(r.tau_h)])
    per_zone_month = float(cpu.mean() / months)
    print(f"{label}")
    print(f"  wall, all zones       {wall_s:.1f} s")
    print(
        f"  CPU per zone-month    mean {per_zone_month:.3f} s, p95 "
        f"{np.percentile(cpu, 95) / months:.3f} s, max {cpu.max() / months:.3f} s"
    )
    print(f"  accepted / fitted     {accepted}/{len(results)}")
    if errors.size:
        print(
            f"  |τ error| vs truth    median {100 * np.median(errors):.1f} %, "
            f"max {100 * errors.max():.1f} %"
        )
    return per_zone_month


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buildings", type=int, default=200)
    parser.add_argument("--days", type=int, default=30, help="history per zone, days")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blas-sample", type=int, default=18, help="0: skip")
    args = parser.parse_args()
    if args.days <= HOLDOUT_DAYS + 7:
        sys.exit(f"--days must exceed {HOLDOUT_DAYS + 7} (a week of training and the hold-out)")
    config = municipality(args.buildings)
    months = args.days / 30.0
    context = get_context("spawn")
    print(
        f"cores: {os.cpu_count()}, workers: {args.workers}, buildings: {args.buildings}, "
        f"{args.days} days per zone ({months:g} zone-months), BLAS threads per worker: 1, "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    started = time.perf_counter()
    zones: list[Zone] = []
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = [
            pool.submit(simulate_building, config, i, args.days)
            for i in range(len(config.buildings))
        ]
        for k, future in enumerate(futures, 1):
            zones.extend(future.result())
            if k % max(1, len(futures) // 5) == 0 or k == len(futures):
                print(f"  simulated {k}/{len(futures)} buildings, {len(zones)} zones", flush=True)
    print(f"simulated history: {len(zones)} zones in {time.perf_counter() - started:.1f} s\n")

    with started_pool(args.workers) as pool:
        base_wall, base = run_pass(pool, zones, full=False, label="1R1C fit")
        full_wall, full = run_pass(pool, zones, full=True, label="identify_zone")
    print()
    report(base_wall, base, full_wall, full, args.buildings, args.workers, months)
    if args.blas_sample:
        blas(zones[: args.blas_sample], args.workers, months)


def report(
    base_wall: float,
    base: list[Timed],
    full_wall: float,
    full: list[Timed],
    buildings: int,
    workers: int,
    months: float,
) -> None:
    base_cpu = summarise("baseline: 1R1C fit alone", base_wall, base, months)
    label = "full: identify_zone (clean, 1R1C, 2R2C, validation)"
    full_cpu = summarise(label, full_wall, full, months)
    worker_rss = max(r.maxrss_kib for r in full + base) / 1024.0
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        f"\nratio full / baseline   CPU {full_cpu / base_cpu:.2f}x, wall "
        f"{full_wall / base_wall:.2f}x"
    )
    print(f"peak memory             worker {worker_rss:.0f} MiB, main process {own_rss:.0f} MiB")
    target = "met" if full_cpu <= 1.0 and full_wall <= 300.0 else "MISSED"
    print(
        f"targets                 {full_cpu:.3f} s per zone-month (≤ 1 s), "
        f"{full_wall:.0f} s for {buildings} buildings (≤ 300 s): {target}"
    )
    idle = sum(r.cpu_s for r in full) / workers
    print(
        f"                        {idle:.1f} s of the full pass's CPU per worker (its wall on "
        f"{workers} idle cores); load average now {os.getloadavg()[0]:.1f}"
    )


def blas(zones: list[Zone], workers: int, months: float) -> None:
    """The same zones identified with one BLAS thread per worker, then with BLAS's default
    threads, back to back (the machine's load alike)."""
    figures = []
    for label in ("one BLAS thread", "default BLAS threads"):
        if label.startswith("default"):
            for name in SINGLE_THREAD:
                os.environ.pop(name)
        try:
            with started_pool(workers) as pool:
                wall, results = run_pass(pool, zones, full=True, label=label)
        finally:
            os.environ.update(SINGLE_THREAD)
        cpu = float(np.mean([r.cpu_s for r in results])) / months
        figures.append((label, wall, cpu))
    print(f"BLAS threads            the first {len(zones)} zones, identify_zone:")
    for label, wall, cpu in figures:
        print(f"  {label:22s}wall {wall:.1f} s, CPU per zone-month {cpu:.3f} s")
    print(f"  default / one thread  wall {figures[1][1] / figures[0][1]:.2f}x")


if __name__ == "__main__":
    main()
