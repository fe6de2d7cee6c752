"""Weeks of as-is history written by the real adapter, in minutes of wall time.

The simulator's ``Site`` serves its real BACnet/IP and Modbus TCP endpoints on loopback and
the real adapter polls them into the real InfluxDB, but the clock is stepped, not run: at
each sampling instant the physics is caught up to it, and the clock is held there until
every point has been polled twice (the second poll began after the physics moved, so the
last reading stored at that instant is the state at it). Weeks then take as long as the
polls do, not as the clock would, and the result does not depend on how busy the machine is.

The buildings run on their own schedules (no optimizer): the history a building has before
it is commissioned.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from closed_loop.scenario import adapter_settings
from polis.adapter.config import SiteConfig
from polis.adapter.model import Reading, ReadingBatch
from polis.adapter.service import Adapter
from polis.common.catalogue import parse_catalogue
from polis.common.catalogue.devices import BacnetDeviceConfig, profile_point_id
from polis.common.catalogue.modbus_profiles import load_profile
from polis.common.clock import Clock
from polis.common.influx import InfluxStore
from polis.simulator.catalogue import nameplate_catalogue
from polis.simulator.config import MunicipalityConfig
from polis.simulator.endpoints import endpoint_layout
from polis.simulator.site import Site

POLL_S = 0.02  # wall seconds between polls: the stepped clock waits for two
SETTLE_TIMEOUT_S = 30.0


class SteppedClock(Clock):
    """Virtual time that moves only when told to (``set``)."""

    _now: datetime

    def __init__(self, start: datetime) -> None:
        super().__init__(datetime.now(UTC), start, 1.0)
        object.__setattr__(self, "_now", start)

    def set(self, instant: datetime) -> None:
        object.__setattr__(self, "_now", instant)

    def now(self) -> datetime:
        return self._now


def _bindable(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(config: MunicipalityConfig) -> int:
    """A base port whose fixed layout is free for TCP and UDP alike, below the ephemeral
    range: the history's site and the closed loop's serve the same catalogue's endpoints."""
    layout = endpoint_layout(config)
    count = max(len(layout.modbus), len(layout.bacnet))
    for base in range(21_000, 32_000 - count, 97):
        ports = range(base, base + count)
        if all(_bindable(socket.SOCK_STREAM, p) and _bindable(socket.SOCK_DGRAM, p) for p in ports):
            return base
    raise RuntimeError("no free port range for the simulator")


def nameplate_document(
    config: MunicipalityConfig, base_port: int, modbus_poll_s: float, bacnet_poll_s: float
) -> dict[str, Any]:
    """What a facility manager has: the simulator's catalogue without its physics, its
    devices on the fixed layout."""
    layout = endpoint_layout(config, "127.0.0.1", base_port)
    return nameplate_catalogue(
        config, layout, modbus_poll_s=modbus_poll_s, bacnet_poll_s=bacnet_poll_s
    )


# The controller's points that commissioning reads or control writes; the rest of its
# monitoring objects (humidity, CO2, water temperatures, …) are left unpolled.
ZONE_POINTS = (
    "temperature",
    "heating-setpoint",
    "heat-pump-electric-power",
    "heat-pump-thermal-power",
    "occupancy-level",
    "heating-output",
    "cooling-output",
    "effective-setpoint",
    "cooling-setpoint",
)
BUILDING_POINTS = (
    "outdoor-air-temperature",
    "global-irradiance",
    "hvac-electric-power",
    "dhw-tank-temperature",
    "dhw-heater-power",
    "pool-pump-power",
    "ev-charging-power",
    "battery-power",
    "pv-power",
    "hvac-enable",
    "dhw-heater-enable",
    "pool-pump-enable",
    "ev-charging-enable",
)
# a meter's total power and energy counters, of every register of its profile
METER_REGISTERS = ("total_power", "import_energy", "export_energy")


def _polled(point_id: str) -> bool:
    if point_id in BUILDING_POINTS:
        return True
    return point_id.startswith("zone-") and point_id.endswith(ZONE_POINTS)


def _meter_points(profile: str) -> list[dict[str, Any]]:
    registers = {r.name: r for r in load_profile(profile).registers}
    return [
        {
            "id": profile_point_id(name),
            "register": name,
            "quantity": registers[name].quantity,
            "unit": registers[name].unit,
            "kind": registers[name].kind,
        }
        for name in METER_REGISTERS
        if name in registers
    ]


def history_catalogue(document: dict[str, Any]) -> dict[str, Any]:
    """The adapter's catalogue while the history is written: the same devices, polling only
    what commissioning reads and control writes (a full poll of every monitoring object and
    register takes ten times as long, which the stepped clock would wait for)."""
    out = copy.deepcopy(document)
    for building in out["buildings"]:
        for device in building["devices"]:
            device["poll_interval_s"] = POLL_S
            if device["protocol"] == "bacnet":
                device["points"] = [p for p in device["points"] if _polled(p["id"])]
            elif device["protocol"] == "modbus":
                device["points"] = _meter_points(device["profile"])
    return out


@dataclass(frozen=True)
class HistoryRun:
    start: datetime
    stop: datetime
    samples: int  # sampling instants
    wall_s: float
    points: int  # points polled at each


class PollCounter:
    """How often each point has been polled, counted from the adapter's ``on_readings``.

    (The adapter's latest readings cannot tell: it builds a new reading each time one is
    asked for, and under a held clock every poll carries the same time.)
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._changed = asyncio.Event()

    def __call__(self, readings: Sequence[Reading]) -> None:
        ids = readings.layout.point_ids if isinstance(readings, ReadingBatch) else None
        for point in ids if ids is not None else [r.point_id for r in readings]:
            self.counts[point] = self.counts.get(point, 0) + 1
        self._changed.set()

    async def settle(self, points: list[str], polls: int = 2) -> None:
        """Until every point has been polled ``polls`` more times than now (see the module
        docstring: the last of them began after the physics moved)."""
        target = {p: self.counts.get(p, 0) + polls for p in points}
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            behind = [p for p, n in target.items() if self.counts.get(p, 0) < n]
            if not behind:
                return
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"points not polled in {SETTLE_TIMEOUT_S} s: {behind[:5]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)


async def write_history(
    config: MunicipalityConfig,
    document: dict[str, Any],
    base_port: int,
    store: InfluxStore,
    state_dir: Path,
    start: datetime,
    stop: datetime,
    every: timedelta,
    progress: bool = True,
) -> HistoryRun:
    """The municipality on its own schedules over ``[start, stop)``, sampled ``every``, the
    adapter reading ``document``'s devices (:func:`history_catalogue`)."""
    clock = SteppedClock(start)
    site = Site(config, clock, base_port=base_port)
    await site.start()
    cat = parse_catalogue(history_catalogue(document), "history catalogue", complete=True)
    counter = PollCounter()
    adapter = Adapter(
        site=SiteConfig(cat, adapter_settings(state_dir)),
        writer=store,
        clock=clock,
        on_readings=counter,
    )
    await adapter.start(serve=False)
    # the controllers' points are read at each instant; the meters (slower on a shared
    # gateway) as often as they answer, their energy counters being exact whenever read
    bms = {d.id for b in cat.buildings for d in b.devices if isinstance(d, BacnetDeviceConfig)}
    points = [p.point_id for p in adapter.points if p.device in bms]
    samples = int((stop - start) / every)
    wall = time.monotonic()
    try:
        await counter.settle(points)  # the first instant
        for k in range(1, samples):
            clock.set(start + k * every)
            site.tick()
            await counter.settle(points)
            if progress and k % round(timedelta(days=1) / every) == 0:
                done = (k * every).total_seconds() / 86_400
                print(f"history: {done:.0f} days, wall {time.monotonic() - wall:.0f} s", flush=True)
    finally:
        await adapter.stop()
        site.stop()
        await site.close()
    return HistoryRun(start, stop, samples, time.monotonic() - wall, len(points))
