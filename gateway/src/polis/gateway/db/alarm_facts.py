"""The SQL behind the facts the alarm rules are handed: overrides in force (the overrides the
gateway wrote), commands refused (their audit entries), and the runs of fallback plans per
building.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from polis.alarms.facts import FallbackPlan, OverrideInForce, RefusedCommand
from polis.gateway.db.alarm_models import FallbackRun
from polis.gateway.db.models import AuditEntry, Override
from polis.gateway.db.sql import insert_for
from polis.gateway.domain.control import REFUSED_BY_DEVICE, WriteStatus

# written but not in force (overridden, not read back), or refused by the device outright
REFUSED = (*(s.value for s in WriteStatus if s.is_alarm), REFUSED_BY_DEVICE)
# The audit entry of every command the gateway sends (polis.gateway.application.overrides).
COMMAND_ACTION = "override.create"


def overrides_in_force(session: Session, now: datetime) -> tuple[OverrideInForce, ...]:
    """Overrides neither cancelled nor expired at ``now``."""
    rows = session.scalars(
        select(Override).where(
            Override.cancelled_at.is_(None),
            or_(Override.expires_at.is_(None), Override.expires_at > now),
            Override.created_at <= now,
        )
    )
    return tuple(
        OverrideInForce(
            building=r.building,
            point_id=r.point_id,
            since=r.created_at,
            by=r.requested_by,
            value=r.value,
            until=r.expires_at,
        )
        for r in rows
    )


def refused_commands(session: Session, since: datetime) -> tuple[RefusedCommand, ...]:
    """Commands the device did not take (refused outright, overridden by an operator, or not
    read back), from the audit log: an override cancelled since keeps its refusal there."""
    rows = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == COMMAND_ACTION,
            AuditEntry.outcome.in_(REFUSED),
            AuditEntry.at >= since,
            AuditEntry.building.is_not(None),
        )
    )
    return tuple(
        RefusedCommand(
            building=r.building or "",
            point_id=str(r.detail.get("point_id", "")),
            at=r.at,
            reason=str(r.detail.get("error") or r.outcome),
        )
        for r in rows
        if r.detail.get("point_id")
    )


def fallback_runs(
    session: Session, current: Mapping[str, tuple[bool, datetime, str]]
) -> tuple[FallbackPlan, ...]:
    """Remember when each building's run of fallback plans began, from its current plan
    (building → (is a fallback, created at, reason)); buildings absent from ``current`` (the
    optimizer did not answer for them) keep what is stored. Idempotent, so a repeated or
    concurrent round changes nothing."""
    dialect = session.get_bind().dialect
    ended = [b for b, (fallback, _, _) in current.items() if not fallback]
    if ended:
        session.execute(delete(FallbackRun).where(FallbackRun.building.in_(ended)))
    for building, (fallback, created_at, reason) in current.items():
        if fallback:
            session.execute(
                insert_for(dialect, FallbackRun)
                .values(building=building, since=created_at, reason=reason)
                .on_conflict_do_nothing(index_elements=["building"])
            )
    runs = session.scalars(select(FallbackRun).order_by(FallbackRun.building))
    return tuple(FallbackPlan(r.building, r.since, r.reason) for r in runs)
