"""Announce ``plan.updated`` when the optimizer's plan for a building changes.

Run by the leader replica only (``polis.gateway.coordination.leader``); the plan versions it
compares against live in the database, so a new leader carries on where the last one stopped
and a plan announced by "plan now" is not announced again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy.orm import Session

from polis.common.logging import get_logger
from polis.gateway.application.context import Services
from polis.gateway.application.events import Events
from polis.gateway.application.plans import announce_plan
from polis.gateway.application.ports import PeerError
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.domain.plans import Plan

log = get_logger(__name__)


class PlanWatcher:
    def __init__(self, services: Services, catalogue: Callable[[], Awaitable[Catalogue]]) -> None:
        self._services = services
        self._catalogue = catalogue

    async def poll_once(self) -> list[str]:
        """Check every building once; returns the buildings whose new plan was announced."""
        db = self._services.db
        if not await db.run(lambda session: Events.wanted(session, "plan.updated")):
            return []
        try:
            catalogue = await self._catalogue()
        except PeerError:
            return []
        announced = []
        for building in sorted(catalogue.buildings()):
            try:
                plan = await self._services.planning.current_plan(building)
            except PeerError:
                continue
            if await db.run(partial(self._announce, plan)):
                announced.append(building)
        if announced:
            log.info("plans updated", buildings=announced)
        return announced

    def _announce(self, plan: Plan, session: Session) -> bool:
        return announce_plan(session, self._services, plan, first=False)
