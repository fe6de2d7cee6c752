"""The alarm mail outbox's claims (SQLite): a round claims a few mails at a time, for as long
as they can take sent one after another at the SMTP timeout of every exchange, so a live
sender's claim never lapses while another leader could send the same mails again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from polis.gateway.coordination.mail_outbox import (
    BATCH,
    SMTP_EXCHANGES,
    MailOutbox,
    MailOutcome,
    MailStore,
    claim_hold_s,
)
from polis.gateway.db.alarm_models import AlarmMail
from polis.gateway.db.sql import db_now_s
from polis.gateway.smtp_mail import SmtpSender

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def queue(engine: Engine, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    with Session(engine) as session:
        for i, mail_id in enumerate(ids):
            session.add(
                AlarmMail(
                    id=mail_id,
                    recipient="key:fm",
                    address="fm@larissa.example",
                    kind="immediate",
                    subject_line=f"mail {i}",
                    body="",
                    status="pending",
                    attempts=0,
                    created_at=NOW.replace(second=i),
                    due_s=0.0,
                )
            )
        session.commit()
    return ids


def test_a_claim_stands_while_its_mails_are_sent_at_the_worst_timing(engine: Engine) -> None:
    sender = SmtpSender("127.0.0.1", 25, "alarms@polis.example", timeout_s=10.0)
    outbox = MailOutbox(
        cast(Any, None),
        MailStore(engine, lambda: NOW),
        sender,
        lambda: NOW,
        max_attempts=8,
        backoff_s=30.0,
        public_url=None,
    )
    hold = outbox.hold_s
    # five mails, each waiting the whole 10 s on every one of its 15 exchanges: 750 s
    assert (BATCH, SMTP_EXCHANGES) == (5, 15)
    assert hold == claim_hold_s(BATCH, 10.0) == 780.0
    assert hold >= BATCH * SMTP_EXCHANGES * sender.timeout_s
    queue(engine, 12)
    store = MailStore(engine, lambda: NOW)
    with engine.connect() as connection:
        before = connection.scalar(select(db_now_s()))
    first = store.claim(BATCH, hold)
    assert [m.mail.subject for m in first] == [f"mail {i}" for i in range(5)]
    with Session(engine) as session:
        until = session.scalars(
            select(AlarmMail.claimed_until_s).where(AlarmMail.id.in_([m.mail.id for m in first]))
        ).all()
    assert before is not None
    assert all(u is not None and 780.0 <= u - before < 790.0 for u in until)


def test_claimed_mails_are_not_claimed_again_until_their_claim_lapses(engine: Engine) -> None:
    queue(engine, 7)
    one, two = MailStore(engine, lambda: NOW), MailStore(engine, lambda: NOW)
    first = one.claim(BATCH, 600.0)
    second = two.claim(BATCH, 600.0)
    assert [m.mail.subject for m in second] == ["mail 5", "mail 6"]  # the rest only
    assert two.claim(BATCH, 600.0) == []
    # the first claimer died: its claims lapse, and another sends those mails
    with engine.begin() as connection:
        connection.execute(
            update(AlarmMail)
            .where(AlarmMail.id.in_([m.mail.id for m in first]))
            .values(claimed_until_s=0.0)
        )
    again = two.claim(BATCH, 600.0)
    assert [m.mail.id for m in again] == [m.mail.id for m in first]
    assert {m.attempt for m in again} == {2}
    # only the standing claim records an outcome
    assert not one.record(first[0], MailOutcome("sent"))
    assert two.record(again[0], MailOutcome("sent"))
    with Session(engine) as session:
        row = session.get(AlarmMail, first[0].mail.id)
        assert row is not None
        assert (row.status, row.claim_token, row.sent_at) == ("sent", None, NOW)
