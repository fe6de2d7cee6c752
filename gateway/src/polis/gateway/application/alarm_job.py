"""Alarm evaluation, the leader's job: one round every ``POLIS_GATEWAY_ALARM_INTERVAL_S`` of
the Polis clock.

A round gathers the facts, reads the keys of the open alarms stored in the database (never
memory: a new leader starts from what its predecessor stored), has the engine
(``polis.alarms.evaluator``) fetch the readings from InfluxDB, judge every subject and reconcile
the verdicts with those keys, and applies the transitions, their webhooks and their e-mails in
one transaction. An open alarm no rule judged any more (its subject left the catalogue, its
rule was switched off) is cleared.

Fencing: a round notes the lease's term when it starts, and its transaction first locks the
lease row on condition that this replica still holds it in that term (:func:`fence`); if not,
the round writes nothing. Holding the row lock, the round commits before any takeover can
complete, so an old leader that stalled mid-round never writes over its successor's work; and
a raise judged before the key's last clear is ignored (see ``polis.gateway.db.alarms``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from polis.alarms.evaluator import unassessed
from polis.alarms.model import (
    AlarmKey,
    Assessment,
    Severity,
    Status,
    Transition,
    TransitionKind,
)
from polis.common.influx import InfluxError
from polis.common.logging import get_logger
from polis.gateway.application.alarm_facts import PLANS_TIMEOUT_S, Baselines, control_facts
from polis.gateway.application.alarm_ports import Evaluator
from polis.gateway.application.alarms import apply_round
from polis.gateway.application.context import Services
from polis.gateway.db import alarms as store
from polis.gateway.db.models import LeaderLease
from polis.gateway.db.sql import db_now_s
from polis.gateway.domain.alarms import AlarmChange

log = get_logger(__name__)
NOT_JUDGED = "no longer judged: its subject left the catalogue or its rule was switched off"


@dataclass(frozen=True, slots=True)
class Leader:
    """Which lease a round must still hold, in the term it started in, when it writes (None:
    write unconditionally)."""

    lease: str
    holder: str


@dataclass(frozen=True, slots=True)
class Term:
    """The lease a round started under, and its term then."""

    leader: Leader
    term: int


def held_term(session: Session, leader: Leader) -> Term | None:
    """The lease's term if ``leader`` holds it now, else None."""
    lease = LeaderLease
    term = session.scalar(
        select(lease.term).where(
            lease.name == leader.lease,
            lease.holder == leader.holder,
            lease.expires_s >= db_now_s(),
        )
    )
    return None if term is None else Term(leader, term)


def fence(session: Session, held: Term) -> bool:
    """Whether the lease is still held as ``held`` says, locking the lease row until the
    caller's transaction ends, so that a takeover (the lease's upsert) waits for its commit.

    A conditional UPDATE that changes nothing, as the transaction's first statement: on
    PostgreSQL it locks the row as ``SELECT … FOR UPDATE`` would; on SQLite it takes the
    database's write lock at once (a SELECT would not: the driver begins the transaction at
    the first write). Holder and term are compared: a replica that lost the lease and took
    it back holds a later term, and its old round is not written either."""
    lease = LeaderLease
    locked = session.execute(
        update(lease)
        .where(
            lease.name == held.leader.lease,
            lease.holder == held.leader.holder,
            lease.term == held.term,
            lease.expires_s >= db_now_s(),
        )
        .values(term=lease.term)
        .returning(lease.term)
        .execution_options(synchronize_session=False)
    ).first()
    return locked is not None


def not_judged(keys: set[AlarmKey], now: datetime) -> list[Transition]:
    """Clears for open alarms no rule judged (``polis.alarms.evaluator.unassessed``)."""
    return [
        Transition(
            TransitionKind.CLEARED,
            Assessment(key, Status.CLEAR, now, Severity.INFO, NOT_JUDGED),
        )
        for key in sorted(keys)
    ]


def write_round(
    session: Session,
    services: Services,
    transitions: list[Transition],
    held: Term | None,
    public_url: str | None = None,
) -> tuple[bool, list[AlarmChange]]:
    """Apply a round in the caller's transaction if its leader still holds the lease in the
    term the round started in (``held`` None: unconditionally); returns whether it was
    written, and the changes."""
    if held is not None and not fence(session, held):
        return False, []
    return True, apply_round(session, services, transitions, public_url)


@dataclass(frozen=True, slots=True)
class RoundReport:
    at: datetime
    transitions: int
    changes: tuple[AlarmChange, ...]
    written: bool
    seconds: float


class AlarmJob:
    def __init__(
        self,
        services: Services,
        evaluator: Evaluator,
        buildings: list[str],
        baselines: Baselines,
        *,
        leader: Leader | None = None,
        public_url: str | None = None,
        plans_timeout_s: float = PLANS_TIMEOUT_S,
    ) -> None:
        self._services = services
        self._plans_timeout_s = plans_timeout_s
        self._evaluator = evaluator
        self._baselines = baselines
        self._leader = leader
        self._public_url = public_url
        self._buildings = buildings

    async def refresh_baselines(self) -> int:
        return await self._baselines.refresh(self._services.clock.now())

    async def _held(self) -> Term | None:
        leader = self._leader
        if leader is None:
            return None
        return await self._services.db.run(lambda s: held_term(s, leader))

    async def run_once(self) -> RoundReport:
        started = time.monotonic()
        services = self._services
        now = services.clock.now()
        held = await self._held()
        if self._leader is not None and held is None:
            log.info("alarm round skipped: not the leader", at=now.isoformat())
            return RoundReport(now, 0, (), False, time.monotonic() - started)
        facts = await control_facts(services, self._buildings, self._plans_timeout_s)
        baselines = self._baselines.current()
        active = await services.db.run(store.open_keys)
        # Fetching and judging block (InfluxDB's client, CPU): off the event loop.
        try:
            judged = await anyio.to_thread.run_sync(
                self._evaluator.evaluate, now, facts, baselines, active
            )
        except InfluxError as error:
            # Nothing judged, nothing changed: open alarms stay open until readings return.
            log.warning("alarm round skipped: InfluxDB unavailable", error=str(error))
            return RoundReport(now, 0, (), False, time.monotonic() - started)
        transitions = judged + not_judged(unassessed(active, judged), now)
        written, changes = await services.db.run(
            lambda s: write_round(s, services, transitions, held, self._public_url)
        )
        report = RoundReport(
            now, len(transitions), tuple(changes), written, time.monotonic() - started
        )
        if not written:
            log.warning("alarm round not written: the leader lease moved on", at=now.isoformat())
        elif changes:
            log.info(
                "alarms changed",
                raised=sum(c.kind == "raised" for c in changes),
                cleared=sum(c.kind == "cleared" for c in changes),
                seconds=round(report.seconds, 3),
            )
        return report
