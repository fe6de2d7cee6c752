"""Publish ``plan.updated`` when the optimizer's plan for a building changes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from polis.common.logging import get_logger
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.plans import plan_summary
from polis.gateway.peers.errors import PeerError
from polis.planning.v1 import planning_pb2

log = get_logger(__name__)


class Publisher(Protocol):
    async def wants(self, event: str) -> bool: ...

    async def publish(
        self,
        event: str,
        data: dict[str, Any],
        *,
        building: str | None = None,
        neighbourhood: str | None = None,
    ) -> list[str]: ...


class PlanWatcher:
    """Polls plans while anyone subscribes to ``plan.updated``; remembers creation times."""

    def __init__(
        self,
        catalogue: Callable[[], Awaitable[Catalogue]],
        current_plan: Callable[[str], Awaitable[planning_pb2.Plan]],
        webhooks: Publisher,
        interval_s: float,
    ) -> None:
        self._catalogue = catalogue
        self._current_plan = current_plan
        self._webhooks = webhooks
        self._interval_s = interval_s
        self._seen: dict[str, datetime] = {}

    async def poll_once(self) -> list[str]:
        """Check every building once; returns the buildings whose plan changed."""
        if not await self._webhooks.wants("plan.updated"):
            return []
        try:
            catalogue = await self._catalogue()
        except PeerError:
            return []
        changed = []
        for building in sorted(catalogue.buildings()):
            try:
                plan = await self._current_plan(building)
            except PeerError:
                continue
            created = datetime.fromtimestamp(plan.created_at.ToSeconds(), UTC)
            previous = self._seen.get(building)
            self._seen[building] = created
            if previous is not None and created != previous:
                changed.append(building)
                await self._webhooks.publish("plan.updated", plan_summary(plan), building=building)
        return changed

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # keep watching; one bad round must not end the task
                log.exception("plan watch round failed")
            await asyncio.sleep(self._interval_s)
