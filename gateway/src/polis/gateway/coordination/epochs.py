"""Cache epochs: replica-local caches dropped on every replica when shared state changes.

A change that makes a cache wrong (a revoked key, imported history) bumps that cache's epoch
in its own transaction; each replica polls the epochs every ``POLIS_CACHE_SYNC_S`` and clears
the caches whose epoch moved. The replica that made the change clears its own at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from polis.common.logging import get_logger
from polis.gateway.application.database import Database
from polis.gateway.db.models import CacheEpoch
from polis.gateway.db.sql import insert_for

log = get_logger(__name__)


def bump(session: Session, name: str) -> None:
    """Move ``name``'s epoch on, in the caller's unit of work."""
    dialect = session.get_bind().dialect
    statement = insert_for(dialect, CacheEpoch).values(name=name, epoch=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"epoch": CacheEpoch.epoch + 1}
        )
    )


def read(session: Session) -> dict[str, int]:
    return {
        name: epoch for name, epoch in session.execute(select(CacheEpoch.name, CacheEpoch.epoch))
    }


class EpochWatcher:
    """Runs on every replica: calls a cache's ``clear`` when its epoch moves."""

    def __init__(
        self, db: Database, caches: Mapping[str, Callable[[], None]], interval_s: float
    ) -> None:
        self._db = db
        self._caches = caches
        self._interval_s = interval_s
        self._seen: dict[str, int] | None = None

    async def check(self) -> list[str]:
        """Clear the caches whose epoch moved since the last check; returns their names."""
        current = await self._db.run(read)
        seen, self._seen = self._seen, current
        if seen is None:
            return []  # this replica's caches start empty: nothing to drop yet
        moved = [name for name, epoch in current.items() if seen.get(name) != epoch]
        for name in moved:
            clear = self._caches.get(name)
            if clear is not None:
                clear()
        return moved

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except SQLAlchemyError:
                log.warning("cache epochs unreadable; caches expire by their TTL meanwhile")
            await asyncio.sleep(self._interval_s)
