"""The simulated depot's OCPP chargers and the adapter's central system, on loopback."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from polis.adapter.config import SiteConfig
from polis.adapter.service import Adapter
from polis.adapter.settings import AdapterSettings
from polis.common.catalogue import Catalogue, parse_catalogue
from polis.common.clock import Clock
from polis.simulator.catalogue import catalogue
from polis.simulator.config import MunicipalityConfig, load_config
from polis.simulator.ocpp_chargers import OcppLink
from polis.simulator.site import Site


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def depot_only() -> MunicipalityConfig:
    """The simulated municipality cut down to the depot and its chargers."""
    config = load_config()
    depot = next(b for b in config.buildings if b.id == "depot")
    return config.model_copy(update={"buildings": [depot]})


def chargers_catalogue(site: Site, poll_s: float) -> Catalogue:
    """What the simulator emits, with the OCPP chargers as the only devices."""
    document = catalogue(site.config, site.served(), modbus_poll_s=poll_s, bacnet_poll_s=poll_s)
    for building in document["buildings"]:
        building["devices"] = [d for d in building["devices"] if d["protocol"] == "ocpp"]
        building.pop("meters")
        building["loads"] = []
    return parse_catalogue(document, "chargers.yaml")


async def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Depot:
    site: Site
    adapter: Adapter
    clock: Clock


@asynccontextmanager
async def running_depot(
    start: datetime,
    speed: float,
    writer: object,
    state_dir: Path,
    link: Callable[[int], OcppLink],
    **settings: object,
) -> AsyncIterator[Depot]:
    """The depot's simulator with its charge points pointed at ``link(port)`` and an
    adapter reading only the chargers, its central system on ``port``."""
    port = free_tcp_port()
    clock = Clock(origin=datetime.now().astimezone(), start=start, speed=speed)
    site = Site(depot_only(), clock, ocpp=link(port))
    await site.start()
    ticking = asyncio.create_task(site.run())
    adapter_settings = AdapterSettings(
        grpc_port=0,
        metrics_port=0,
        state_dir=state_dir,
        flush_interval_s=0.2,
        ocpp_port=port,
        **settings,  # type: ignore[arg-type]
    )
    adapter = Adapter(
        site=SiteConfig(chargers_catalogue(site, 0.2), adapter_settings),
        writer=writer,  # type: ignore[arg-type]
        clock=clock,
    )
    try:
        await adapter.start(serve=False)
        yield Depot(site, adapter, clock)
    finally:
        await adapter.stop()
        site.stop()
        await ticking
        await site.close()
