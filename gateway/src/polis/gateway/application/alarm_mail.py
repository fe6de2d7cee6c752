"""Alarm e-mail: each caller's recipient settings, and the outbox rows raises and clears make.

Mails are composed in the unit of work that stores the change (immediate mode) or that
gathers a recipient's pending items into a digest, and sent later from the outbox
(``polis.gateway.coordination.mail_outbox``): a change is mailed once it commits and is never
lost with a restart. A recipient keeps the scope its owner had when subscribing, like a
webhook subscription, and gets only alarms of buildings that scope may read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from polis.alarms.model import Severity
from polis.gateway.application import audit
from polis.gateway.application.errors import NotFound
from polis.gateway.db import alarms as alarm_store
from polis.gateway.db.alarm_models import Alarm, AlarmMail, AlarmMailItem, AlarmMailRecipient
from polis.gateway.domain import alarm_mail
from polis.gateway.domain.alarm_mail import DigestLine, MailMode
from polis.gateway.domain.alarms import AlarmChange, ChangeKind
from polis.gateway.security.roles import Principal, Role, can_read_building, require

MAILED = (ChangeKind.RAISED, ChangeKind.CLEARED)


@dataclass(frozen=True, slots=True)
class MailOrder:
    address: str
    mode: MailMode
    digest_hours: int
    min_severity: Severity


def _owner(r: AlarmMailRecipient) -> Principal:
    return Principal(
        subject=r.subject,
        role=Role(r.role),
        buildings=frozenset(r.buildings),
        neighbourhood=r.neighbourhood,
    )


def set_recipient(
    session: Session, principal: Principal, order: MailOrder, now: datetime
) -> AlarmMailRecipient:
    """Create or replace the caller's alarm e-mail settings (audited)."""
    require(principal.role is not Role.NEIGHBOURHOOD_SCHEME, "alarms are per building")
    row = session.get(AlarmMailRecipient, principal.subject)
    if row is None:
        # The first digest is due one period after subscribing.
        row = AlarmMailRecipient(subject=principal.subject, created_at=now, last_digest_at=now)
        session.add(row)
    row.role = principal.role.value
    row.buildings = sorted(principal.buildings)
    row.neighbourhood = principal.neighbourhood
    row.address = order.address
    row.mode = order.mode.value
    row.digest_hours = order.digest_hours
    row.min_severity_rank = order.min_severity.rank
    audit.record(
        session,
        principal,
        "alarm.mail",
        "ok",
        at=now,
        detail={"mode": order.mode.value, "min_severity": order.min_severity.value},
    )
    session.flush()
    return row


def get_recipient(session: Session, principal: Principal) -> AlarmMailRecipient:
    row = session.get(AlarmMailRecipient, principal.subject)
    if row is None:
        raise NotFound("no alarm e-mail for this caller", "email")
    return row


def remove_recipient(session: Session, principal: Principal, now: datetime) -> None:
    """Stop the caller's alarm e-mail; items waiting for a digest go with it."""
    row = get_recipient(session, principal)
    session.delete(row)
    audit.record(session, principal, "alarm.mail", "removed", at=now)


def queue_mails(
    session: Session, change: AlarmChange, now: datetime, public_url: str | None
) -> int:
    """An immediate mail, or a digest item, per recipient who wants ``change``."""
    if change.kind not in MAILED:
        return 0
    alarm = change.alarm
    wanted = [
        r
        for r in session.scalars(select(AlarmMailRecipient))
        if r.min_severity_rank <= alarm.severity.rank
        and can_read_building(_owner(r), alarm.building)
    ]
    for r in wanted:
        if r.mode == MailMode.IMMEDIATE.value:
            text = alarm_mail.immediate(change.kind, alarm, public_url)
            session.add(_mail(r, MailMode.IMMEDIATE, text, now))
        else:
            session.add(
                AlarmMailItem(
                    recipient=r.subject, alarm_id=alarm.id, kind=change.kind.value, at=now
                )
            )
    return len(wanted)


def _mail(
    r: AlarmMailRecipient, kind: MailMode, text: alarm_mail.Composed, now: datetime
) -> AlarmMail:
    return AlarmMail(
        id=str(uuid.uuid4()),
        recipient=r.subject,
        address=r.address,
        kind=kind.value,
        subject_line=text.subject,
        body=text.body,
        status="pending",
        attempts=0,
        created_at=now,
        due_s=0.0,
    )


def _take_due(session: Session, r: AlarmMailRecipient, now: datetime) -> datetime | None:
    """Move the recipient's digest on to ``now`` if its period has passed; returns the start
    of the period it closes, or None when not due (or another leader just took it).

    One conditional UPDATE: of two writers only one sees the period as still due."""
    due_before = now - timedelta(hours=r.digest_hours)
    since = r.last_digest_at
    taken = session.execute(
        update(AlarmMailRecipient)
        .where(
            AlarmMailRecipient.subject == r.subject,
            or_(
                AlarmMailRecipient.last_digest_at.is_(None),
                AlarmMailRecipient.last_digest_at <= due_before,
            ),
        )
        .values(last_digest_at=now)
        .returning(AlarmMailRecipient.subject)
    ).first()
    return (since or r.created_at) if taken is not None else None


def compose_digests(session: Session, now: datetime, public_url: str | None) -> int:
    """One digest mail per recipient whose period has passed and who has pending items;
    returns how many were composed."""
    composed = 0
    digest_rows = session.scalars(
        select(AlarmMailRecipient).where(AlarmMailRecipient.mode == MailMode.DIGEST.value)
    ).all()
    for r in digest_rows:
        last = r.last_digest_at
        if last is not None and last > now - timedelta(hours=r.digest_hours):
            continue
        since = _take_due(session, r, now)
        if since is None:
            continue
        mail_id = str(uuid.uuid4())
        # The items are claimed for this mail in one statement: none lands in two digests.
        item_ids = list(
            session.scalars(
                update(AlarmMailItem)
                .where(AlarmMailItem.recipient == r.subject, AlarmMailItem.mail_id.is_(None))
                .values(mail_id=mail_id)
                .returning(AlarmMailItem.id)
            )
        )
        if not item_ids:
            continue
        rows = session.execute(
            select(AlarmMailItem, Alarm)
            .join(Alarm, Alarm.id == AlarmMailItem.alarm_id)
            .where(AlarmMailItem.id.in_(item_ids))
        ).all()
        lines = [
            DigestLine(ChangeKind(item.kind), item.at, alarm_store.view(alarm))
            for item, alarm in rows
        ]
        text = alarm_mail.digest(lines, since, now, public_url)
        mail = _mail(r, MailMode.DIGEST, text, now)
        mail.id = mail_id
        session.add(mail)
        composed += 1
    return composed
