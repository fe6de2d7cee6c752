"""A leader lease: one row per lease name, held by one replica until it expires.

The holder renews it well before it expires; another replica takes it only once it has
expired (or was released). Acquire-or-renew is one atomic upsert, so two replicas can never
both be told they hold it, and expiry is judged on the database's clock, never a replica's.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, case, or_, select, update

from polis.gateway.db.models import LeaderLease
from polis.gateway.db.sql import db_now_s, insert_for


def replica_id() -> str:
    """Unique per process, readable in the lease row: host, process id, a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class Held:
    term: int


class Lease:
    def __init__(self, engine: Engine, name: str, holder: str, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError("the lease needs a positive lifetime")
        self._engine = engine
        self.name = name
        self.holder = holder
        self.ttl_s = ttl_s

    def acquire(self) -> Held | None:
        """Take or renew the lease (blocking); None when another replica holds it."""
        now = db_now_s()
        lease = LeaderLease
        first = insert_for(self._engine.dialect, lease).values(
            name=self.name, holder=self.holder, expires_s=now + self.ttl_s, term=1
        )
        # Taken over only once expired; renewed by its holder; the term grows on a takeover.
        statement = first.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": self.holder,
                "expires_s": now + self.ttl_s,
                "term": case((lease.holder == self.holder, lease.term), else_=lease.term + 1),
            },
            where=or_(lease.holder == self.holder, lease.expires_s < now),
        ).returning(lease.term)
        with self._engine.begin() as connection:
            term = connection.execute(statement).scalar()
        return Held(term) if term is not None else None

    def release(self) -> None:
        """Let another replica take over at once (on shutdown), if this one still holds it."""
        with self._engine.begin() as connection:
            connection.execute(
                update(LeaderLease)
                .where(LeaderLease.name == self.name, LeaderLease.holder == self.holder)
                .values(expires_s=0.0)
            )

    def holder_now(self) -> str | None:
        """Who holds the lease, if anyone (for logs and tests)."""
        with self._engine.connect() as connection:
            holder = connection.execute(
                select(LeaderLease.holder).where(
                    LeaderLease.name == self.name, LeaderLease.expires_s >= db_now_s()
                )
            ).scalar()
        return holder
