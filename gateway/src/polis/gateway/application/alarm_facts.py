"""What the alarm rules are handed besides readings, gathered by the leader each round.

- Control facts: overrides in force and commands refused, from the overrides the gateway
  wrote; buildings on the optimizer's fallback plan, from each building's current plan, with
  the start of their run of fallback plans remembered in the database (so a new leader knows
  it too).
- Baseline expectations: what each building's accepted baseline model (the savings service)
  expects over its last complete local day, fetched once per day and building and kept in the
  leader's memory; a new leader fetches them again (until then the energy rules hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from polis.alarms.facts import REFUSALS_LOOKBACK, BaselineExpectation, ControlFacts
from polis.common.logging import get_logger
from polis.gateway.application.alarm_ports import ExpectationQuery, Expectations
from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError
from polis.gateway.db import alarm_facts

log = get_logger(__name__)
# Plan statuses whose schedule is the optimizer's rule-based fallback, not an optimized one.
FALLBACK_STATUSES = frozenset({"fallback", "infeasible"})


def _control(
    session: Session, now: datetime, plans: dict[str, tuple[bool, datetime, str]]
) -> ControlFacts:
    return ControlFacts(
        overrides=alarm_facts.overrides_in_force(session, now),
        fallback_plans=alarm_facts.fallback_runs(session, plans),
        refused_commands=alarm_facts.refused_commands(session, now - REFUSALS_LOOKBACK),
    )


async def control_facts(services: Services, buildings: Sequence[str]) -> ControlFacts:
    """The control state now; a building whose plan the optimizer cannot give keeps its
    stored fallback run (if any) rather than being judged on nothing."""
    now = services.clock.now()
    plans: dict[str, tuple[bool, datetime, str]] = {}
    for building in buildings:
        try:
            plan = await services.planning.current_plan(building)
        except PeerError:
            continue
        reason = "; ".join(plan.conflicts) or plan.status
        plans[building] = (plan.status in FALLBACK_STATUSES, plan.created_at or now, reason)
    return await services.db.run(partial(_control, now=now, plans=plans))


def last_local_day(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last complete local calendar day before ``now``, as UTC-aware bounds."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    # Aware arithmetic in a ZoneInfo zone is wall-clock: a DST day is 23 or 25 hours long.
    return today - timedelta(days=1), today


class Baselines:
    """The latest expectation per building, fetched once per local day."""

    def __init__(
        self,
        savings: Expectations,
        buildings: Sequence[str],
        baseline: tuple[datetime, datetime] | None,
        timezone: str,
    ) -> None:
        self._savings = savings
        self._buildings = list(buildings)
        self._baseline = baseline
        self._timezone = timezone
        self._current: dict[str, BaselineExpectation] = {}
        self._asked: dict[str, datetime] = {}  # building → the period start last asked for

    def current(self) -> tuple[BaselineExpectation, ...]:
        return tuple(self._current[b] for b in sorted(self._current))

    async def refresh(self, now: datetime) -> int:
        """Fetch the expectations of the last local day not fetched yet; returns how many
        were fetched. A building whose baseline is not accepted is asked again next day; one
        the savings service failed for, next round."""
        if self._baseline is None:
            return 0
        start, end = last_local_day(now, self._timezone)
        fetched = 0
        for building in self._buildings:
            if self._asked.get(building) == start:
                continue
            query = ExpectationQuery(building, *self._baseline, start, end)
            try:
                answer = await self._savings.expectation(query)
            except PeerError as error:
                log.warning("baseline expectation unavailable", building=building, error=str(error))
                continue
            self._asked[building] = start
            if answer.expectation is None:
                log.info("no baseline expectation", building=building, reason=answer.reason)
                continue
            self._current[building] = answer.expectation
            fetched += 1
        return fetched
