"""Gateway throughput and latency under concurrent load, and a year of readings, on loopback.

    uv run python bench/gateway_load.py [--concurrency 16] [--requests 4000] [--seconds 20]
                                        [--client auto|hey|httpx] [--skip-load] [--skip-year]

Load: starts the real gateway (uvicorn, SQLite state) in its own process against canned gRPC
peers and an in-memory readings store (the fixtures of tests/gateway), then sends a bounded
number of requests (and at most ``--seconds`` per endpoint) to

- /healthz, unauthenticated: the baseline measured in the same run (uvicorn and routing only),
- readings query (one day of 5-minute power, 1-hour window means, JSON),
- last values of a building,
- savings report (served by the savings peer over gRPC, then from the gateway's cache),

and prints requests/s, p50 and p99 per endpoint and each one's throughput as a fraction of the
baseline. The load client is `hey` (a compiled HTTP load generator: ``GOBIN=~/.cache/polis/
go-tools go install github.com/rakyll/hey@v0.1.5``), so the client does not eat the CPU the
gateway needs; without it (``--client auto``) the bench falls back to httpx and says so, since
the Python client then limits the figures. ``--client hey`` fails when hey is missing.

Year: starts a real InfluxDB (the project's influxd build), writes one year of 15-minute values
(35,040 points) for one meter, starts the gateway on it and times the readings endpoint
returning all of them: one JSON page, JSON pages of 10,000 rows following the cursor, and CSV.
The baseline is the same Flux query sent straight to InfluxDB. Skipped (with a message) when
influxd is not built.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from polis.common.influx import InfluxStore, Sample, bind, to_ns
from polis.common.influxd import InfluxServer, find_binary
from polis.gateway.influx_readings import InfluxReadings, raw_flux, raw_params
from polis.gateway.readings import ReadingsStore
from tests.gateway.conftest import T0, create_keys
from tests.gateway.fakes import MemoryStore, PeerServers, catalogue_points
from tests.gateway.server import gateway_settings, run_gateway

STEP = timedelta(minutes=5)
DAY = 288
TARGET_RPS = 1000.0
TARGET_P99_MS = 50.0
TARGET_YEAR_MS = 300.0
YEAR_POINT = "town-hall/main-meter/power"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_ROWS = 35_040  # 365 days of 15-minute values
HEY_HOME = Path(os.environ.get("POLIS_CACHE", Path.home() / ".cache" / "polis")) / "go-tools"


def rows() -> list[tuple[str, datetime, float]]:
    out: list[tuple[str, datetime, float]] = []
    for building in ("town-hall", "school-1", "pool"):
        for i in range(DAY):
            out.append((f"{building}/main-meter/power", T0 + i * STEP, 20.0 + (i % 12)))
            out.append((f"{building}/main-meter/energy", T0 + i * STEP, 1000.0 + i))
    return out


@dataclass
class Result:
    count: int
    elapsed_s: float
    latencies_s: list[float]
    failures: int

    @property
    def rps(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s > 0 else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- load clients ------------------------------------------------------------------------------


def find_hey() -> str | None:
    candidate = HEY_HOME / "hey"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("hey")


def run_hey(
    hey: str, url: str, headers: dict[str, str], concurrency: int, requests: int, seconds: float
) -> Result:
    """hey with a fixed request count, killed if it runs past ``seconds`` (then it fails)."""
    command = [hey, "-n", str(requests), "-c", str(concurrency), "-t", "30", "-o", "csv"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    try:
        done = subprocess.run(
            [*command, url], capture_output=True, text=True, timeout=seconds, check=False
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"hey did not finish {requests} requests within {seconds:.0f} s; "
            "lower --requests or raise --seconds"
        ) from None
    if done.returncode != 0:
        raise SystemExit(f"hey failed ({done.returncode}): {done.stderr.strip()[:300]}")
    latencies: list[float] = []
    failures = 0
    first, last = float("inf"), 0.0
    for record in csv.DictReader(io.StringIO(done.stdout)):
        latency, offset = float(record["response-time"]), float(record["offset"])
        latencies.append(latency)
        first, last = min(first, offset), max(last, offset + latency)
        if record["status-code"] != "200":
            failures += 1
    if not latencies:
        raise SystemExit(f"hey reported no requests: {done.stderr.strip()[:300]}")
    # hey sends requests // concurrency per worker; any it has no row for failed outright.
    failures += max(0, (requests // concurrency) * concurrency - len(latencies))
    return Result(len(latencies), last - first, latencies, failures)


async def run_httpx(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    concurrency: int,
    requests: int,
    seconds: float,
) -> Result:
    latencies: list[float] = []
    failures = 0
    remaining = requests
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            t = time.perf_counter()
            response = await client.get(path, params=params)
            latencies.append(time.perf_counter() - t)
            if response.status_code != 200:
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(len(latencies), time.perf_counter() - start, latencies, failures)


# -- the load run ------------------------------------------------------------------------------


def cases() -> list[tuple[str, str, dict[str, str], bool]]:
    """(name, path, params, held to the throughput target)"""
    day = {"start": T0.isoformat(), "end": (T0 + DAY * STEP).isoformat()}
    report = {
        "scope": "building",
        "id": "town-hall",
        "baseline_start": "2025-01-01T00:00:00Z",
        "baseline_end": "2026-01-01T00:00:00Z",
        "reporting_start": "2026-01-01T00:00:00Z",
        "reporting_end": "2026-04-01T00:00:00Z",
    }
    return [
        ("baseline /healthz", "/healthz", {}, False),
        (
            "readings 1h window",
            "/api/v1/readings",
            {**day, "point": "town-hall/main-meter/power", "window": "1h"},
            False,
        ),
        ("last values", "/api/v1/readings/last", {"building": "town-hall"}, True),
        ("savings report", "/api/v1/savings/report", report, True),
    ]


def print_row(name: str, result: Result, baseline: float, held: bool) -> bool:
    p50 = 1000 * statistics.median(result.latencies_s)
    p99 = 1000 * percentile(result.latencies_s, 0.99)
    met = result.rps >= TARGET_RPS and p99 <= TARGET_P99_MS and result.failures == 0
    verdict = ("met" if met else "NOT MET") if held else ""
    print(
        f"{name:<22}{result.rps:>9.0f}{p50:>9.1f}{p99:>9.1f}{result.rps / baseline:>9.2f}"
        f"{result.failures:>6}  {verdict}"
    )
    return met or not held


def load(args: argparse.Namespace) -> bool:
    hey = find_hey() if args.client in ("auto", "hey") else None
    if args.client == "hey" and hey is None:
        raise SystemExit(
            f"hey not found in {HEY_HOME} or on PATH; install it with "
            f"`GOBIN={HEY_HOME} go install github.com/rakyll/hey@v0.1.5`"
        )
    if hey is None:
        why = "as asked" if args.client == "httpx" else "hey not found"
        print(
            f"load client: httpx ({why}: the Python client shares the CPU with the gateway and "
            f"limits the figures; `GOBIN={HEY_HOME} go install github.com/rakyll/hey@v0.1.5`)"
        )
    else:
        print(f"load client: {hey}")
    with gateway_process(serve_memory, ()) as (base_url, key):
        if hey is not None:
            return asyncio.run(load_with_hey(hey, base_url, key, args))
        return asyncio.run(load_with_httpx(base_url, key, args))


async def load_with_hey(hey: str, base_url: str, key: str, args: argparse.Namespace) -> bool:
    print_header(args)
    ok, baseline = True, 0.0
    async with httpx.AsyncClient(base_url=base_url, headers={"X-API-Key": key}) as client:
        for _, path, params, _ in cases():  # warm up caches and connections
            (await client.get(path, params=params)).raise_for_status()
    for name, path, params, held in cases():
        url = str(httpx.URL(base_url + path, params=params))
        headers = {} if path == "/healthz" else {"X-API-Key": key}
        result = await asyncio.to_thread(
            run_hey, hey, url, headers, args.concurrency, args.requests, args.seconds
        )
        baseline = baseline or result.rps
        ok = print_row(name, result, baseline, held) and ok
    return ok


async def load_with_httpx(base_url: str, key: str, args: argparse.Namespace) -> bool:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    ok, baseline = True, 0.0
    async with httpx.AsyncClient(
        base_url=base_url, headers={"X-API-Key": key}, limits=limits, timeout=30
    ) as client:
        for _, path, params, _ in cases():
            (await client.get(path, params=params)).raise_for_status()
        print_header(args)
        for name, path, params, held in cases():
            result = await run_httpx(
                client, path, params, args.concurrency, args.requests, args.seconds
            )
            baseline = baseline or result.rps
            ok = print_row(name, result, baseline, held) and ok
    return ok


def print_header(args: argparse.Namespace) -> None:
    print(
        f"concurrency {args.concurrency}, {args.requests} requests (at most "
        f"{args.seconds:.0f} s) per endpoint; target ≥ {TARGET_RPS:.0f} req/s with p99 ≤ "
        f"{TARGET_P99_MS:.0f} ms on last values and savings report"
    )
    print(f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs base':>9}{'fail':>6}")


# -- the gateway in its own process -------------------------------------------------------------


def serve_memory() -> ReadingsStore:
    return MemoryStore(rows())


def serve_influx(url: str, token: str, org: str) -> ReadingsStore:
    return InfluxReadings(InfluxStore(url, token, org, "raw"), token)


def serve(
    ready: Queue,  # type: ignore[type-arg]
    stop: Event,
    make_store: Callable[..., ReadingsStore],
    store_args: tuple[Any, ...],
) -> None:
    """The gateway and its peers in their own process, so the client has its own GIL."""
    peers = PeerServers()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = gateway_settings(
                Path(tmp) / "gw.db",
                peers.addresses,
                rate_limit_per_s=1e6,
                rate_limit_burst=10**6,
                log_level="WARNING",
            )
            with run_gateway(settings, make_store(*store_args)) as gw:
                ready.put((gw.base_url, create_keys(gw)["energy_department"]))
                stop.wait(900)
    finally:
        peers.stop()


class gateway_process:
    def __init__(self, make_store: Callable[..., ReadingsStore], args: tuple[Any, ...]) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready: Queue = context.Queue()  # type: ignore[type-arg]
        self._stop = context.Event()
        self._process = context.Process(
            target=serve, args=(self._ready, self._stop, make_store, args), daemon=True
        )

    def __enter__(self) -> tuple[str, str]:
        self._process.start()
        base_url, key = self._ready.get(timeout=120)
        return str(base_url), str(key)

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._process.join(timeout=30)


# -- a year of one meter from InfluxDB ---------------------------------------------------------


def write_year(store: InfluxStore) -> None:
    info = next(p for p in catalogue_points() if p.id == YEAR_POINT)
    tags = {
        "municipality": info.municipality,
        "neighbourhood": info.neighbourhood,
        "building": info.building,
        "device": info.device,
        "point": info.id,
        "quantity": "active_power",
        "unit": info.unit,
        "quality": "good",
    }
    store.write(
        Sample(
            "reading",
            tags,
            {"value": 20.0 + (i % 96) * 0.25 + (i // 96) * 0.01},
            to_ns(YEAR_START + i * timedelta(minutes=15)),
        )
        for i in range(YEAR_ROWS)
    )


def rows_in(bodies: list[bytes]) -> int:
    """Rows in the answers of one fetch: InfluxDB CSV, JSON pages or the API's CSV."""
    if bodies[0].startswith(b",result,"):
        return sum(body.count(b",_result,") for body in bodies)
    if bodies[0].startswith(b"point,time,value"):
        return sum(body.count(b"\n") - 1 for body in bodies)
    return sum(len(json.loads(body)["items"]) for body in bodies)


def timed(repeats: int, fetch: Callable[[], list[bytes]]) -> tuple[list[float], list[bytes]]:
    times: list[float] = []
    bodies: list[bytes] = []
    for _ in range(repeats):
        t = time.perf_counter()
        bodies = fetch()
        times.append(time.perf_counter() - t)
    return times, bodies


def year(args: argparse.Namespace) -> bool:
    binary = find_binary()
    if binary is None:
        print("year of readings: skipped, influxd is not built (make influxd)")
        return True
    end = YEAR_START + timedelta(days=365)
    span = {"start": YEAR_START.isoformat(), "end": end.isoformat(), "point": YEAR_POINT}
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(binary, Path(tmp)) as server:
        with InfluxStore(server.url, server.token, server.org, "raw") as store:
            t = time.perf_counter()
            write_year(store)
            print(f"year of readings: wrote {YEAR_ROWS} points in {time.perf_counter() - t:.1f} s")
        store_args = (server.url, server.token, server.org)
        with (
            gateway_process(serve_influx, store_args) as (base_url, key),
            httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60) as c,
        ):
            direct_query = bind(
                raw_flux(1),
                raw_params("raw", YEAR_START, end, [YEAR_POINT], YEAR_ROWS + 1, None),
            )

            # Each fetch returns the raw answers, timed up to their last byte; rows are counted
            # afterwards, so the client's own JSON decoding is not taken for the gateway's time.
            def direct() -> list[bytes]:
                response = c.post(
                    f"{server.url}/api/v2/query",
                    params={"org": server.org},
                    headers={
                        "Authorization": f"Token {server.token}",
                        "Accept-Encoding": "identity",
                    },
                    json={"query": direct_query, "dialect": {"header": True, "annotations": []}},
                )
                response.raise_for_status()
                return [response.content]

            def get(params: dict[str, str]) -> bytes:
                response = c.get("/api/v1/readings", params=params)
                response.raise_for_status()
                return response.content

            def one_page() -> list[bytes]:
                return [get({**span, "limit": "50000"})]

            def paged() -> list[bytes]:
                bodies, cursor = [], None
                while True:
                    params = {**span, "limit": "10000", **({"cursor": cursor} if cursor else {})}
                    bodies.append(get(params))
                    cursor = json.loads(bodies[-1])["next_cursor"]
                    if cursor is None:
                        return bodies

            def as_csv() -> list[bytes]:
                return [get({**span, "format": "csv"})]

            one_page()  # warm up: catalogue, key and connections
            runs: list[tuple[str, Callable[[], list[bytes]], bool]] = [
                ("InfluxDB query alone", direct, False),
                ("JSON, one page", one_page, True),
                ("JSON, pages of 10,000", paged, True),
                ("CSV", as_csv, True),
            ]
            print(
                f"year of readings: {YEAR_ROWS} rows of one meter, best and median of "
                f"{args.repeats}; target ≤ {TARGET_YEAR_MS:.0f} ms"
            )
            print(f"{'request':<24}{'rows':>8}{'best ms':>9}{'median ms':>11}{'vs base':>9}")
            ok, baseline = True, 0.0
            for name, fetch, held in runs:
                times, bodies = timed(args.repeats, fetch)
                count = rows_in(bodies)
                best, median = 1000 * min(times), 1000 * statistics.median(times)
                baseline = baseline or median
                met = count == YEAR_ROWS and median <= TARGET_YEAR_MS
                verdict = ("met" if met else "NOT MET") if held else ""
                print(
                    f"{name:<24}{count:>8}{best:>9.0f}{median:>11.0f}{median / baseline:>9.2f}"
                    f"  {verdict}"
                )
                ok = ok and (met or not held)
            return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000, help="per endpoint")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most, per endpoint")
    parser.add_argument("--client", choices=["auto", "hey", "httpx"], default="auto")
    parser.add_argument("--repeats", type=int, default=5, help="year requests, each kind")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    ok = True
    if not args.skip_load:
        ok = load(args) and ok
    if not args.skip_year:
        ok = year(args) and ok
    print("all targets met" if ok else "some targets NOT MET")


if __name__ == "__main__":
    main()
