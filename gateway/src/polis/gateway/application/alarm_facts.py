"""What the alarm rules are handed besides readings, gathered by the leader each round.

- Control facts: overrides in force and commands refused, from the overrides the gateway
  wrote; buildings on the optimizer's fallback plan, from each building's current plan (asked
  concurrently, within one timeout, and no more once the optimizer is found unavailable), with
  the start of their run of fallback plans remembered in the database (so a new leader knows
  it too).
- Baseline expectations: what each building's accepted baseline model (the savings service)
  expects over its last complete local day, fetched once per day and building, and over the
  unoccupied hours ``energy.after_hours`` judges (its span, asked once per span: at most once
  an hour per building, and only while the building is unoccupied); kept in the leader's
  memory; a new leader fetches them again (until then the energy rules hold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy.orm import Session

from polis.alarms.facts import (
    REFUSALS_LOOKBACK,
    BaselineExpectation,
    ControlFacts,
    ExpectationKind,
)
from polis.common.logging import get_logger
from polis.gateway.application.alarm_ports import ExpectationQuery, Expectations
from polis.gateway.application.context import Services
from polis.gateway.application.ports import PeerError, PeerUnavailable, Planning
from polis.gateway.db import alarm_facts
from polis.gateway.domain.plans import Plan

log = get_logger(__name__)
# building → the unoccupied hours energy.after_hours judges at a time (polis.alarms' spans)
Spans = Callable[[datetime], Mapping[str, tuple[datetime, datetime]]]
# Plan statuses whose schedule is the optimizer's rule-based fallback, not an optimized one.
FALLBACK_STATUSES = frozenset({"fallback", "infeasible"})
# Plan requests in flight at once, and the time a round gives them altogether (the alarm job
# passes twice the gRPC deadline): a round over 200 buildings asks in a few batches.
PLAN_REQUESTS = 16
PLANS_TIMEOUT_S = 10.0
# After-hours expectations asked of the savings service at once (each a baseline fit).
SPAN_REQUESTS = 4


def _control(
    session: Session, now: datetime, plans: dict[str, tuple[bool, datetime, str]]
) -> ControlFacts:
    return ControlFacts(
        overrides=alarm_facts.overrides_in_force(session, now),
        fallback_plans=alarm_facts.fallback_runs(session, plans),
        refused_commands=alarm_facts.refused_commands(session, now - REFUSALS_LOOKBACK),
    )


async def current_plans(
    planning: Planning, buildings: Sequence[str], timeout_s: float
) -> dict[str, Plan]:
    """Each building's current plan, asked of the optimizer at most ``PLAN_REQUESTS`` at a
    time and within ``timeout_s`` altogether. The first answer that the optimizer is
    unavailable (down, or past its deadline) ends the asking: one hanging optimizer must not
    hold a round for a deadline per building. Buildings left unanswered are logged."""
    plans: dict[str, Plan] = {}
    answered: set[str] = set()
    unavailable: list[str] = []
    limiter = anyio.CapacityLimiter(PLAN_REQUESTS)

    async def ask(building: str, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                plans[building] = await planning.current_plan(building)
            except PeerUnavailable as error:
                unavailable.append(error.message)
                scope.cancel()
                return
            except PeerError:
                pass  # an answer, without a plan (e.g. none made yet for the building)
            answered.add(building)

    with anyio.move_on_after(timeout_s) as overall:
        async with anyio.create_task_group() as group:
            for building in buildings:
                group.start_soon(ask, building, group.cancel_scope)
    skipped = [b for b in buildings if b not in answered]
    if skipped:
        log.warning(
            "current plans not checked this round; those buildings keep their stored fallback runs",
            reason=unavailable[0] if unavailable else f"no answer within {timeout_s:g} s",
            timed_out=overall.cancelled_caught,
            skipped=len(skipped),
            buildings=skipped[:10],
        )
    return plans


async def control_facts(
    services: Services, buildings: Sequence[str], plans_timeout_s: float = PLANS_TIMEOUT_S
) -> ControlFacts:
    """The control state now; a building whose plan the optimizer cannot give keeps its
    stored fallback run (if any) rather than being judged on nothing."""
    now = services.clock.now()
    found: dict[str, tuple[bool, datetime, str]] = {}
    for building, plan in (
        await current_plans(services.planning, buildings, plans_timeout_s)
    ).items():
        reason = "; ".join(plan.conflicts) or plan.status
        found[building] = (plan.status in FALLBACK_STATUSES, plan.created_at or now, reason)
    return await services.db.run(partial(_control, now=now, plans=found))


def last_local_day(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last complete local calendar day before ``now``, as UTC-aware bounds."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    # Aware arithmetic in a ZoneInfo zone is wall-clock: a DST day is 23 or 25 hours long.
    return today - timedelta(days=1), today


def _no_spans(now: datetime) -> Mapping[str, tuple[datetime, datetime]]:
    return {}


class Baselines:
    """The latest expectations per building: of the last local day (fetched once per day) and
    of the last unoccupied hours judged (fetched once per span)."""

    def __init__(
        self,
        savings: Expectations,
        buildings: Sequence[str],
        baseline: tuple[datetime, datetime] | None,
        timezone: str,
        spans: Spans = _no_spans,
    ) -> None:
        self._savings = savings
        self._buildings = list(buildings)
        self._baseline = baseline
        self._timezone = timezone
        self._spans = spans
        self._current: dict[str, BaselineExpectation] = {}
        self._nights: dict[str, BaselineExpectation] = {}
        self._asked: dict[str, datetime] = {}  # building → the period start last asked for
        self._asked_span: dict[str, datetime] = {}  # building → the span start last asked for

    def current(self) -> tuple[BaselineExpectation, ...]:
        days = [self._current[b] for b in sorted(self._current)]
        return (*days, *(self._nights[b] for b in sorted(self._nights)))

    async def _ask(
        self, building: str, start: datetime, end: datetime
    ) -> BaselineExpectation | None:
        """The expectation, or None (logged) when the savings service has none or failed;
        raises nothing."""
        assert self._baseline is not None
        query = ExpectationQuery(building, *self._baseline, start, end)
        try:
            answer = await self._savings.expectation(query)
        except PeerError as error:
            log.warning("baseline expectation unavailable", building=building, error=str(error))
            raise
        if answer.expectation is None:
            log.info("no baseline expectation", building=building, reason=answer.reason)
        return answer.expectation

    async def refresh(self, now: datetime) -> int:
        """Fetch what is not fetched yet: the current after-hours spans first (they are judged
        within the hour), then the last local day's expectations; returns how many were
        fetched. A building whose baseline is not accepted is asked again next day (next
        span); one the savings service failed for, next round."""
        if self._baseline is None:
            return 0
        due = [
            (building, start, end)
            for building, (start, end) in sorted(self._spans(now).items())
            if self._asked_span.get(building) != start
        ]
        fetched = 0
        # the spans asked concurrently, a few at a time: each is a baseline fit of its own,
        # and a building last in line would otherwise wait for every fit before its own
        limiter = anyio.CapacityLimiter(SPAN_REQUESTS)

        async def night(building: str, start: datetime, end: datetime) -> None:
            nonlocal fetched
            async with limiter:
                try:
                    found = await self._ask(building, start, end)
                except PeerError:
                    return
            self._asked_span[building] = start
            if found is not None:
                self._nights[building] = replace(found, kind=ExpectationKind.AFTER_HOURS)
                fetched += 1
                hours = (end - start) / timedelta(hours=1)
                log.info(
                    "after-hours expectation",
                    building=building,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    expected_kw=round(found.expected_kwh / hours, 2),
                )

        async with anyio.create_task_group() as group:
            for building, start, end in due:
                group.start_soon(night, building, start, end)
        start, end = last_local_day(now, self._timezone)
        for building in self._buildings:
            if self._asked.get(building) == start:
                continue
            try:
                day = await self._ask(building, start, end)
            except PeerError:
                continue
            self._asked[building] = start
            if day is not None:
                self._current[building] = day
                fetched += 1
        return fetched
