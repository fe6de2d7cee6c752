"""Alarms: list and filter, one alarm with its evidence and history, acknowledge; open counts
per building; the caller's alarm e-mail settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from polis.alarms.model import Severity
from polis.gateway.api.alarm_schemas import (
    AcknowledgeIn,
    AlarmCountsOut,
    AlarmDetailOut,
    AlarmEventOut,
    AlarmMailIn,
    AlarmMailOut,
    AlarmOut,
    EvidenceOut,
)
from polis.gateway.api.deps import MAX_ID, PrincipalDep, RowId, ServicesDep, SessionDep, StateDep
from polis.gateway.api.problems import MEDIA_TYPE, Problem
from polis.gateway.application import alarm_mail, alarms
from polis.gateway.db import alarms as store
from polis.gateway.db.alarm_models import Alarm, AlarmMailRecipient
from polis.gateway.domain.alarm_mail import MailMode
from polis.gateway.domain.alarms import AlarmFilter, StateFilter

router = APIRouter(prefix="/alarms", tags=["alarms"])
EMPTY_EVIDENCE: dict[str, object] = {"series": [], "figures": {}}
CONFLICT: dict[int | str, dict[str, object]] = {
    409: {
        "description": "Not in this state",
        "content": {MEDIA_TYPE: {"schema": {"type": "object"}}},
    }
}


def alarm_out(row: Alarm) -> AlarmOut:
    return AlarmOut.model_validate(store.view(row), from_attributes=True)


@router.get(
    "",
    response_model=list[AlarmOut],
    summary="Alarms of the caller's buildings, newest first",
    description=(
        "Open alarms by default; `state=cleared` is the history of closed ones, `state=any` "
        "everything. Page with `before_id` (the last id of the previous page)."
    ),
)
def list_alarms(
    principal: PrincipalDep,
    session: SessionDep,
    building: str | None = None,
    severity: Annotated[Severity | None, Query(description="At least this severity")] = None,
    state: StateFilter = StateFilter.OPEN,
    rule: Annotated[str | None, Query(max_length=120, examples=["comfort.too_cold"])] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Last seen at or after this instant (ISO 8601 with offset)"),
    ] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Page: alarms older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlarmOut]:
    f = AlarmFilter(
        min_severity=severity,
        state=state,
        rule=rule,
        since=since,
        before_id=before_id,
        limit=limit,
    )
    return [alarm_out(r) for r in alarms.list_alarms(session, principal, f, building)]


@router.get("/summary", response_model=list[AlarmCountsOut], summary="Open alarms per building")
def summary(principal: PrincipalDep, session: SessionDep) -> list[AlarmCountsOut]:
    counts = alarms.open_counts(session, principal)
    return [
        AlarmCountsOut(
            building=building,
            open=sum(by_severity.values()),
            counts={s: by_severity.get(s, 0) for s in Severity},
        )
        for building, by_severity in sorted(counts.items())
    ]


def _mail_out(row: AlarmMailRecipient) -> AlarmMailOut:
    return AlarmMailOut(
        address=row.address,
        mode=MailMode(row.mode),
        digest_hours=row.digest_hours,
        min_severity=next(s for s in Severity if s.rank == row.min_severity_rank),
        last_digest_at=row.last_digest_at,
    )


@router.get("/email", response_model=AlarmMailOut, summary="The caller's alarm e-mail")
def get_email(principal: PrincipalDep, session: SessionDep) -> AlarmMailOut:
    return _mail_out(alarm_mail.get_recipient(session, principal))


@router.put(
    "/email",
    response_model=AlarmMailOut,
    responses=CONFLICT,
    summary="Receive alarms by e-mail, each at once or in a digest",
    description=(
        "Alarms of the buildings the caller may read, at or above `min_severity`, raised or "
        "cleared. `digest` mode sends one mail every `digest_hours` of the Polis clock listing "
        "them, none when nothing happened. 409 when the gateway has no SMTP server configured."
    ),
)
def set_email(
    body: AlarmMailIn, principal: PrincipalDep, services: ServicesDep, state: StateDep
) -> AlarmMailOut:
    alarms.readable_buildings(principal)  # 403 for roles that see no building's alarms
    if state.settings.gateway_smtp_host is None:
        raise Problem(409, "Conflict", "alarm e-mail is off: no POLIS_GATEWAY_SMTP_HOST set")
    order = alarm_mail.MailOrder(body.address, body.mode, body.digest_hours, body.min_severity)
    now = services.clock.now()
    row = services.db.run_sync(
        lambda session: alarm_mail.set_recipient(session, principal, order, now)
    )
    return _mail_out(row)


@router.delete("/email", status_code=204, summary="Stop alarm e-mail")
def delete_email(principal: PrincipalDep, services: ServicesDep) -> None:
    now = services.clock.now()
    services.db.run_sync(lambda session: alarm_mail.remove_recipient(session, principal, now))


@router.get("/{alarm_id}", response_model=AlarmDetailOut, summary="One alarm, with its evidence")
def get_alarm(alarm_id: RowId, principal: PrincipalDep, session: SessionDep) -> AlarmDetailOut:
    detail = alarms.alarm_detail(session, principal, alarm_id)
    base = alarm_out(detail.alarm).model_dump()
    return AlarmDetailOut(
        **base,
        evidence=EvidenceOut.model_validate(detail.alarm.evidence or EMPTY_EVIDENCE),
        events=[AlarmEventOut.model_validate(e, from_attributes=True) for e in detail.events],
    )


@router.post(
    "/{alarm_id}/acknowledge",
    response_model=AlarmOut,
    responses=CONFLICT,
    summary="Acknowledge an active alarm, with a comment",
    description="The building's facility manager or an admin; 409 unless the alarm is active.",
)
async def acknowledge(
    alarm_id: RowId,
    principal: PrincipalDep,
    services: ServicesDep,
    body: AcknowledgeIn | None = None,
) -> AlarmOut:
    comment = (body or AcknowledgeIn()).comment
    row = await alarms.acknowledge(services, principal, alarm_id, comment)
    return alarm_out(row)
