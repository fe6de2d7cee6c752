"""Helpers for simulator tests that run a live site on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from polis.common.clock import Clock
from polis.simulator.config import MunicipalityConfig
from polis.simulator.site import Site

WINTER_MORNING = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)  # Wednesday 10:00 local


@asynccontextmanager
async def running_site(config: MunicipalityConfig) -> AsyncIterator[Site]:
    """A site whose clock practically stands still: tests step the physics explicitly."""
    clock = Clock(origin=datetime.now(UTC), start=WINTER_MORNING, speed=1e-6)
    site = Site(config, clock)
    await site.start()
    try:
        yield site
    finally:
        site.stop()
        await site.close()
