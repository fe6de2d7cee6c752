"""Gateway throughput and latency under concurrent load on loopback.

    uv run python bench/gateway_load.py [--concurrency 16] [--requests 400] [--seconds 15]

Starts the real gateway (uvicorn, SQLite state) against canned gRPC peers and an in-memory
readings store (the fixtures of tests/gateway), then drives, with httpx async clients and a
bounded number of requests and seconds per endpoint:

- readings query (one day of 5-minute power, 1-hour window means, JSON),
- last values of a building,
- savings report (a gRPC round trip to the savings peer),

and, as the baseline measured in the same run, the unauthenticated /healthz endpoint, which
exercises only uvicorn and FastAPI routing. The gateway runs in its own process.
Prints requests/s, p50 and p99 per endpoint and
each endpoint's throughput as a fraction of the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gateway.conftest import T0, create_keys
from tests.gateway.fakes import MemoryStore, PeerServers
from tests.gateway.server import gateway_settings, run_gateway

STEP = timedelta(minutes=5)
DAY = 288


def rows() -> list[tuple[str, datetime, float]]:
    out: list[tuple[str, datetime, float]] = []
    for building in ("town-hall", "school-1", "pool"):
        for i in range(DAY):
            out.append((f"{building}/main-meter/power", T0 + i * STEP, 20.0 + (i % 12)))
            out.append((f"{building}/main-meter/energy", T0 + i * STEP, 1000.0 + i))
    return out


async def drive(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    concurrency: int,
    requests: int,
    seconds: float,
) -> tuple[int, float, list[float], int]:
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
    return len(latencies), time.perf_counter() - start, latencies, failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(base_url: str, key: str, args: argparse.Namespace) -> None:
    day = {"start": T0.isoformat(), "end": (T0 + DAY * STEP).isoformat()}
    cases = [
        ("baseline /healthz", "/healthz", {}),
        (
            "readings 1h window",
            "/api/v1/readings",
            {**day, "point": "town-hall/main-meter/power", "window": "1h"},
        ),
        ("last values", "/api/v1/readings/last", {"building": "town-hall"}),
        (
            "savings report",
            "/api/v1/savings/report",
            {
                "scope": "building",
                "id": "town-hall",
                "baseline_start": "2025-01-01T00:00:00Z",
                "baseline_end": "2026-01-01T00:00:00Z",
                "reporting_start": "2026-01-01T00:00:00Z",
                "reporting_end": "2026-04-01T00:00:00Z",
            },
        ),
    ]
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(
        base_url=base_url, headers={"X-API-Key": key}, limits=limits, timeout=30
    ) as client:
        for _, path, params in cases:  # warm up caches and connections
            await client.get(path, params=params)
        print(
            f"concurrency {args.concurrency}, up to {args.requests} requests or "
            f"{args.seconds:.0f} s per endpoint"
        )
        print(f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs base':>9}{'fail':>6}")
        baseline_rps = None
        for name, path, params in cases:
            count, elapsed, latencies, failures = await drive(
                client, path, params, args.concurrency, args.requests, args.seconds
            )
            rps = count / elapsed
            baseline_rps = baseline_rps or rps
            print(
                f"{name:<22}{rps:>9.0f}{1000 * statistics.median(latencies):>9.1f}"
                f"{1000 * percentile(latencies, 0.99):>9.1f}{rps / baseline_rps:>9.2f}{failures:>6}"
            )


def serve(ready: Queue, stop: Event) -> None:  # type: ignore[type-arg]
    """The gateway and its peers in their own process, so the load client has its own GIL."""
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
            with run_gateway(settings, MemoryStore(rows())) as gw:
                ready.put((gw.base_url, create_keys(gw)["energy_department"]))
                stop.wait(600)
    finally:
        peers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    ready: Queue = context.Queue()  # type: ignore[type-arg]
    stop = context.Event()
    server = context.Process(target=serve, args=(ready, stop), daemon=True)
    server.start()
    try:
        base_url, key = ready.get(timeout=120)
        asyncio.run(run(base_url, key, args))
    finally:
        stop.set()
        server.join(timeout=30)


if __name__ == "__main__":
    main()
