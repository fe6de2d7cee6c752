"""The SQL of alarms: the engine's transitions applied idempotently, queries, acknowledgement.

Applying a round of transitions locks the open alarms (``FOR UPDATE`` on PostgreSQL; SQLite
has one writer at a time), then:

- a raise inserts unless the key is already open (the partial unique index
  ``ux_alarms_open_key`` makes a concurrent second insert do nothing), or an alarm of the key
  was cleared at or after the raise's time (a round judged before that clear, applied late);
- a sighting moves ``last_seen`` on, and severity, message and evidence when the rule raised
  or measured something (a hold with no evidence keeps what raised the alarm);
- a clear closes the open alarm.

Each step is judged against what is stored, and a step older than the alarm's ``last_seen`` is
ignored, so a round applied twice, or late after a newer one, changes nothing. Whether a
round may be written at all (the leader lease) is the caller's check, in the same transaction
(``polis.gateway.application.alarm_job.fence``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from polis.alarms.model import (
    AlarmKey,
    Assessment,
    Severity,
    Status,
    Transition,
    TransitionKind,
)
from polis.gateway.db.alarm_models import OPEN_PREDICATE, Alarm, AlarmEvent
from polis.gateway.db.sql import insert_for
from polis.gateway.domain.alarms import (
    RULES_ACTOR,
    AlarmChange,
    AlarmFilter,
    AlarmState,
    AlarmView,
    ChangeKind,
    evidence_json,
)

OPEN = (AlarmState.ACTIVE.value, AlarmState.ACKNOWLEDGED.value)


def view(row: Alarm) -> AlarmView:
    return AlarmView(
        id=row.id,
        rule=row.rule,
        building=row.building,
        subject=row.subject,
        points=tuple(row.points),
        severity=Severity(row.severity),
        message=row.message,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        state=AlarmState(row.state),
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        acknowledged_comment=row.acknowledged_comment,
        cleared_at=row.cleared_at,
    )


def key_of(row: Alarm) -> AlarmKey:
    return AlarmKey(row.rule, row.building, row.subject)


def open_keys(session: Session) -> set[AlarmKey]:
    """The keys of every open alarm: what the engine is handed as ``active``."""
    rows = session.execute(
        select(Alarm.rule, Alarm.building, Alarm.subject).where(Alarm.state.in_(OPEN))
    )
    return {AlarmKey(rule, building, subject) for rule, building, subject in rows}


def _open_rows(session: Session) -> dict[AlarmKey, Alarm]:
    rows = session.scalars(select(Alarm).where(Alarm.state.in_(OPEN)).with_for_update())
    return {key_of(row): row for row in rows}


def _event(
    session: Session, row: Alarm, kind: ChangeKind, at: datetime, actor: str, **detail: Any
) -> None:
    session.add(
        AlarmEvent(
            alarm_id=row.id,
            at=at,
            kind=kind.value,
            actor=actor,
            severity=row.severity,
            detail=detail,
        )
    )


def _insert(session: Session, a: Assessment) -> Alarm | None:
    """The new open alarm of ``a``'s key, or None when another writer opened it first."""
    values = {
        "rule": a.key.rule,
        "building": a.key.building,
        "subject": a.key.subject,
        "points": list(a.points),
        "severity": a.severity.value,
        "severity_rank": a.severity.rank,
        "message": a.message,
        "first_seen": a.at,
        "last_seen": a.at,
        "state": AlarmState.ACTIVE.value,
        "evidence": evidence_json(a.evidence),
    }
    statement = (
        insert_for(session.get_bind().dialect, Alarm)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["rule", "building", "subject"], index_where=text(OPEN_PREDICATE)
        )
        .returning(Alarm.id)
    )
    new_id = session.execute(statement).scalar()
    return None if new_id is None else session.get(Alarm, new_id)


def _closed_since(session: Session, key: AlarmKey, at: datetime) -> bool:
    """Whether an alarm of ``key`` was last seen (cleared) at or after ``at``: a raise judged
    before that must not open the key again."""
    last = session.scalar(
        select(Alarm.last_seen)
        .where(
            Alarm.rule == key.rule,
            Alarm.building == key.building,
            Alarm.subject == key.subject,
            Alarm.state == AlarmState.CLEARED.value,
        )
        .order_by(Alarm.last_seen.desc())
        .limit(1)
    )
    return last is not None and last >= at


def _refresh(session: Session, row: Alarm, a: Assessment) -> AlarmChange | None:
    """A sighting of an open alarm; a change of severity is recorded and announced.

    Severity, message, points and evidence move on when the rule still raises, or holds on
    what it measured; a hold that measured nothing (no readings, no expectation: empty
    evidence) only moves ``last_seen``, so the alarm keeps what raised it."""
    if a.at < row.last_seen:
        return None  # an older round than the one already applied
    row.last_seen = a.at
    if a.status is not Status.RAISE and a.evidence.empty:
        return None
    before = row.severity
    row.severity = a.severity.value
    row.severity_rank = a.severity.rank
    row.message = a.message
    row.points = list(a.points)
    row.evidence = evidence_json(a.evidence)
    if before == row.severity:
        return None
    _event(session, row, ChangeKind.SEVERITY, a.at, RULES_ACTOR, previous=before)
    return AlarmChange(ChangeKind.SEVERITY, view(row))


def _clear(session: Session, row: Alarm, a: Assessment) -> AlarmChange | None:
    if a.at < row.last_seen:
        return None
    row.state = AlarmState.CLEARED.value
    row.cleared_at = a.at
    row.last_seen = a.at
    row.evidence = evidence_json(a.evidence) if a.evidence.series else row.evidence
    _event(session, row, ChangeKind.CLEARED, a.at, RULES_ACTOR, message=a.message)
    return AlarmChange(ChangeKind.CLEARED, view(row))


def apply_transitions(session: Session, transitions: Iterable[Transition]) -> list[AlarmChange]:
    """Apply one round of the engine's transitions in the caller's unit of work; returns the
    changes to announce (raises, clears, severity changes), none for a repeated round."""
    open_rows = _open_rows(session)
    changes: list[AlarmChange] = []
    for transition in transitions:
        a = transition.assessment
        row = open_rows.get(a.key)
        change: AlarmChange | None = None
        if transition.kind is TransitionKind.RAISED and row is None:
            if _closed_since(session, a.key, a.at):
                continue  # judged before the key's last clear: a late round
            new = _insert(session, a)
            if new is not None:
                open_rows[a.key] = new
                _event(session, new, ChangeKind.RAISED, a.at, RULES_ACTOR, message=a.message)
                change = AlarmChange(ChangeKind.RAISED, view(new))
        elif transition.kind is TransitionKind.CLEARED and row is not None:
            change = _clear(session, row, a)
            if change is not None:
                del open_rows[a.key]
        elif row is not None:  # seen, or raised again while open (a repeated round)
            change = _refresh(session, row, a)
        if change is not None:
            changes.append(change)
    session.flush()
    return changes


# queries -------------------------------------------------------------------------------------
def query(session: Session, f: AlarmFilter) -> list[Alarm]:
    """Newest first (by id), at most ``f.limit``, older than ``f.before_id`` when given."""
    q = select(Alarm)
    if f.buildings is not None:
        q = q.where(Alarm.building.in_(sorted(f.buildings)))
    if f.min_severity is not None:
        q = q.where(Alarm.severity_rank >= f.min_severity.rank)
    q = q.where(Alarm.state.in_([s.value for s in f.state.states()]))
    if f.rule is not None:
        q = q.where(Alarm.rule == f.rule)
    if f.since is not None:
        q = q.where(Alarm.last_seen >= f.since)
    if f.before_id is not None:
        q = q.where(Alarm.id < f.before_id)
    return list(session.scalars(q.order_by(Alarm.id.desc()).limit(f.limit)))


def get(session: Session, alarm_id: int, *, lock: bool = False) -> Alarm | None:
    q = select(Alarm).where(Alarm.id == alarm_id)
    return session.scalars(q.with_for_update() if lock else q).first()


def events(session: Session, alarm_id: int) -> list[AlarmEvent]:
    q = select(AlarmEvent).where(AlarmEvent.alarm_id == alarm_id).order_by(AlarmEvent.id)
    return list(session.scalars(q))


def open_counts(
    session: Session, buildings: frozenset[str] | None
) -> dict[str, dict[Severity, int]]:
    """Open alarms per building and severity (``buildings`` None: every building)."""
    q = select(Alarm.building, Alarm.severity, func.count()).where(Alarm.state.in_(OPEN))
    if buildings is not None:
        q = q.where(Alarm.building.in_(sorted(buildings)))
    counts: dict[str, dict[Severity, int]] = {}
    for building, severity, n in session.execute(q.group_by(Alarm.building, Alarm.severity)):
        counts.setdefault(building, {})[Severity(severity)] = int(n)
    return counts


def acknowledge(session: Session, row: Alarm, by: str, at: datetime, comment: str) -> AlarmChange:
    """Mark an active alarm acknowledged (the caller checked that it is active)."""
    row.state = AlarmState.ACKNOWLEDGED.value
    row.acknowledged_by = by
    row.acknowledged_at = at
    row.acknowledged_comment = comment
    _event(session, row, ChangeKind.ACKNOWLEDGED, at, by, comment=comment)
    session.flush()
    return AlarmChange(ChangeKind.ACKNOWLEDGED, view(row))
