"""Simulator at scale: CPU used by N copies of the municipality over a minute of wall time.

    uv run python bench/simulator_scale.py [--copies 14] [--seconds 60] [--speed 60]

Runs the baseline (one copy) and the scaled site in the same process, one after the other,
and prints endpoints, points, CPU seconds per wall second and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import time
from datetime import UTC, datetime

from polis.common.clock import Clock
from polis.simulator.config import load_config
from polis.simulator.site import Site


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(copies: int, seconds: float, speed: float) -> dict[str, float]:
    config = load_config().with_copies(copies)
    now = datetime.now(UTC)
    site = Site(config, Clock(origin=now, start=now, speed=speed))
    started = time.perf_counter()
    await site.start()
    startup = time.perf_counter() - started
    runner = asyncio.create_task(site.run())
    cpu0, wall0 = _cpu(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = _cpu() - cpu0, time.perf_counter() - wall0
    site.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    modbus_points, bacnet_points = site.point_counts()
    result = {
        "copies": copies,
        "modbus_devices": len(site.meters),
        "modbus_ports": len(site.endpoints),
        "bacnet_devices": len(site.controllers),
        "points": modbus_points + bacnet_points,
        "startup_s": startup,
        "cpu_per_wall_s": cpu / wall,
        "virtual_minutes": (site.simulation.time - now).total_seconds() / 60,
    }
    await site.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=14)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--speed", type=float, default=60.0)
    args = parser.parse_args()
    logging.getLogger("pymodbus").setLevel(logging.WARNING)
    base = await measure(1, args.seconds, args.speed)
    scaled = await measure(args.copies, args.seconds, args.speed)
    for row in (base, scaled):
        print(
            f"copies={row['copies']:.0f} modbus={row['modbus_devices']:.0f} devices on "
            f"{row['modbus_ports']:.0f} ports, bacnet={row['bacnet_devices']:.0f} devices, "
            f"points={row['points']:.0f}, startup={row['startup_s']:.2f}s, "
            f"cpu={100 * row['cpu_per_wall_s']:.1f}% of one core, "
            f"simulated {row['virtual_minutes']:.0f} virtual min"
        )
    ratio = scaled["cpu_per_wall_s"] / max(base["cpu_per_wall_s"], 1e-9)
    points = scaled["points"] / base["points"]
    print(f"cpu ratio scaled/baseline = {ratio:.1f} for {points:.1f}x points")


if __name__ == "__main__":
    asyncio.run(main())
