"""Alarms: listed and read per the caller's buildings, acknowledged with a comment, and each
round of the engine's transitions applied with its webhooks and e-mails.

Alarms are per building: a facility manager sees his buildings' alarms, the energy department
and admins every building's, a neighbourhood scheme none (403). An alarm of a building the
caller may not read answers 404, like an id that does not exist. Acknowledging is an
operator's action: the facility manager of the building, or an admin; it is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from polis.alarms.model import Severity, Transition
from polis.gateway.application import audit
from polis.gateway.application.alarm_mail import queue_mails
from polis.gateway.application.context import Services
from polis.gateway.application.errors import Conflict, InvalidInput, NotFound
from polis.gateway.db import alarms as store
from polis.gateway.db.alarm_models import Alarm, AlarmEvent
from polis.gateway.domain.alarms import (
    WEBHOOK_EVENTS,
    AlarmChange,
    AlarmFilter,
    AlarmState,
    AlarmView,
    webhook_data,
)
from polis.gateway.security.roles import (
    Principal,
    Role,
    can_control_building,
    can_read_building,
    can_report_all,
    require,
)

MAX_COMMENT = 2000


def readable_buildings(principal: Principal) -> frozenset[str] | None:
    """The buildings whose alarms the caller may see; None: every building."""
    require(principal.role is not Role.NEIGHBOURHOOD_SCHEME, "alarms are per building")
    return None if can_report_all(principal) else principal.buildings


def scoped(principal: Principal, f: AlarmFilter, building: str | None) -> AlarmFilter:
    """``f`` narrowed to what the caller may read (and to ``building`` when asked)."""
    mine = readable_buildings(principal)
    if building is not None:
        require(can_read_building(principal, building), f"no access to building {building}")
        return replace(f, buildings=frozenset({building}))
    return replace(f, buildings=mine)


def list_alarms(
    session: Session, principal: Principal, f: AlarmFilter, building: str | None
) -> list[Alarm]:
    return store.query(session, scoped(principal, f, building))


def _readable(session: Session, principal: Principal, alarm_id: int, *, lock: bool) -> Alarm:
    mine = readable_buildings(principal)
    row = store.get(session, alarm_id, lock=lock)
    if row is None or (mine is not None and row.building not in mine):
        raise NotFound(f"no alarm {alarm_id}", "alarm_id")
    return row


@dataclass(frozen=True, slots=True)
class AlarmDetail:
    alarm: Alarm
    events: list[AlarmEvent]


def alarm_detail(session: Session, principal: Principal, alarm_id: int) -> AlarmDetail:
    row = _readable(session, principal, alarm_id, lock=False)
    return AlarmDetail(row, store.events(session, alarm_id))


def open_counts(session: Session, principal: Principal) -> dict[str, dict[Severity, int]]:
    """Open alarms per building and severity, over the caller's buildings."""
    return store.open_counts(session, readable_buildings(principal))


async def acknowledge(
    services: Services, principal: Principal, alarm_id: int, comment: str
) -> Alarm:
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment: at most {MAX_COMMENT} characters", "comment")
    at = services.clock.now()

    def save(session: Session) -> Alarm:
        row = _readable(session, principal, alarm_id, lock=True)
        require(
            can_control_building(principal, row.building),
            f"acknowledging needs control of building {row.building}",
        )
        if row.state != AlarmState.ACTIVE.value:
            raise Conflict(f"alarm {alarm_id} is {row.state}, not active")
        store.acknowledge(session, row, principal.subject, at, comment)
        audit.record(
            session,
            principal,
            "alarm.acknowledge",
            "ok",
            at=at,
            building=row.building,
            detail={"alarm": row.id, "rule": row.rule, "subject": row.subject, "comment": comment},
        )
        return row

    return await services.db.run(save)


def announce(
    session: Session, services: Services, changes: list[AlarmChange], public_url: str | None
) -> None:
    """Queue each raise and clear as a webhook event and as e-mail, in the caller's unit of
    work (so they commit, or roll back, with the alarms themselves)."""
    now = services.clock.now()
    for change in changes:
        event = WEBHOOK_EVENTS.get(change.kind)
        if event is None:
            continue
        alarm = change.alarm
        services.events.queue(session, event, webhook_data(alarm), building=alarm.building)
        queue_mails(session, change, now, public_url)


def apply_round(
    session: Session,
    services: Services,
    transitions: list[Transition],
    public_url: str | None = None,
) -> list[AlarmChange]:
    """One round of the engine's transitions, stored and announced in one unit of work."""
    changes = store.apply_transitions(session, transitions)
    announce(session, services, changes, public_url)
    return changes


def views(rows: list[Alarm]) -> list[AlarmView]:
    return [store.view(r) for r in rows]
