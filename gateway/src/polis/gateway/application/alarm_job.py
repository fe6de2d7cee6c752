"""Alarm evaluation, the leader's job: one round every ``POLIS_GATEWAY_ALARM_INTERVAL_S`` of
the Polis clock.

A round gathers the facts, reads the keys of the open alarms stored in the database (never
memory: a new leader starts from what its predecessor stored), has the engine
(``polis.alarms.evaluator``) fetch the readings from InfluxDB, judge every subject and reconcile
the verdicts with those keys, and applies the transitions, their webhooks and their e-mails in
one transaction. An open alarm no rule judged any more (its subject left the catalogue, its
rule was switched off) is cleared.

A round is written only if this replica still holds the leader lease when it commits its
transaction; a round that overlaps a handover, or is applied twice, changes nothing twice
(see ``polis.gateway.db.alarms``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from polis.gateway.application.alarm_facts import Baselines, control_facts
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
    """Which lease a round must still hold when it writes (None: write unconditionally)."""

    lease: str
    holder: str


def holds(session: Session, leader: Leader | None) -> bool:
    if leader is None:
        return True
    holder = session.scalar(
        select(LeaderLease.holder).where(
            LeaderLease.name == leader.lease, LeaderLease.expires_s >= db_now_s()
        )
    )
    return holder == leader.holder


def orphans(
    active: set[AlarmKey], transitions: list[Transition], now: datetime
) -> list[Transition]:
    """Clears for the open alarms no rule judged this round (every rule judges every subject
    it covers, so an open key without a transition has no rule or no subject any more)."""
    judged = {t.assessment.key for t in transitions}
    return [
        Transition(
            TransitionKind.CLEARED,
            Assessment(key, Status.CLEAR, now, Severity.INFO, NOT_JUDGED),
        )
        for key in sorted(active - judged)
    ]


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
    ) -> None:
        self._services = services
        self._evaluator = evaluator
        self._baselines = baselines
        self._leader = leader
        self._public_url = public_url
        self._buildings = buildings

    async def refresh_baselines(self) -> int:
        return await self._baselines.refresh(self._services.clock.now())

    def _apply(
        self, session: Session, transitions: list[Transition]
    ) -> tuple[bool, list[AlarmChange]]:
        if not holds(session, self._leader):
            return False, []
        return True, apply_round(session, self._services, transitions, self._public_url)

    async def run_once(self) -> RoundReport:
        started = time.monotonic()
        services = self._services
        now = services.clock.now()
        facts = await control_facts(services, self._buildings)
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
        transitions = judged + orphans(active, judged, now)
        written, changes = await services.db.run(lambda s: self._apply(s, transitions))
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
