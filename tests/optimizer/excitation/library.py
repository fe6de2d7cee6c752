"""The simulated library's controller over BACnet/IP and the real adapter polling it, on one
accelerated clock: the building an excitation writes to in the excitation tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapter.fake_bacnet import free_udp_port

from polis.adapter.config import SiteConfig
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue import Catalogue
from polis.common.clock import Clock
from polis.common.influx import InfluxStore
from polis.simulator.config import load_config
from polis.simulator.site import Site

from .simulated_catalogue import simulated_catalogue

START = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)  # Wednesday 14 January, local midnight
POINT = "larissa/library/library-bms/zone-reading-room-heating-setpoint"
WAIT_S = 60.0


@dataclass
class Library:
    site: Site
    adapter: Adapter
    clock: Clock
    catalogue: Catalogue
    state: Path  # the adapter's state directory

    @property
    def adapter_port(self) -> int:
        port = self.adapter.grpc_port
        assert port is not None, "the adapter has started"
        return port

    def audit(self) -> list[dict[str, Any]]:
        """The adapter's audit log of the reading room's setpoint."""
        path = self.state / "audit.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [e for e in map(json.loads, lines) if e.get("point_id") == POINT]

    def commanded(self) -> float | None:
        """What the controller's priority array commands now (None: its own schedule)."""
        return self.site.controllers["library"].commands().heating_setpoints_c["reading-room"]


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(int(WAIT_S / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {WAIT_S:.0f} s: {what}")


@asynccontextmanager
async def simulated_library(
    influx_store: InfluxStore, state: Path, speed: float, excitation: dict[str, Any]
) -> AsyncIterator[Library]:
    """The library with ``excitation`` on its reading room; the adapter polls only it."""
    config = load_config()
    clock = Clock(datetime.now(UTC), START, speed)
    site = Site(config, clock)
    await site.start()
    site_task = asyncio.create_task(site.run())
    catalogue = simulated_catalogue(
        config, site.served(), excitation, buildings=("library",), poll_s=0.2
    )
    settings = AdapterSettings(
        grpc_port=0,
        metrics_port=0,
        bacnet_address=f"127.0.0.1:{free_udp_port()}",
        state_dir=state,
        flush_interval_s=0.5,
    )
    adapter = Adapter(site=SiteConfig(catalogue, settings), writer=influx_store, clock=clock)
    try:
        await adapter.start()
        try:
            await until(lambda: adapter.latest.get(POINT) is not None, "the setpoint is read")
            yield Library(site, adapter, clock, catalogue, state)
        finally:
            await adapter.stop()
    finally:
        site.stop()
        await site_task
        await site.close()
