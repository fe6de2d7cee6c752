"""The alarm e-mail outbox, worked by the leader: digests composed when due, then due mails
claimed and sent, each by one sender at a time.

A round claims due mails in one statement (a claim token and a claim expiry, ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, as ``deliveries`` claims webhooks), sends each through SMTP and
records the outcome only while its claim stands: sent, failed (a permanent refusal, or the
attempts spent), or due again after an exponential back-off. A leader that dies mid-send
leaves a claim that expires; its successor sends that mail again, with the same Message-ID
(``<outbox id@domain>``), the only case where a mail goes out twice. Nothing committed to the
outbox is lost across a restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine, or_, select, update

from polis.common.logging import get_logger
from polis.gateway.application.alarm_mail import compose_digests
from polis.gateway.application.database import Database
from polis.gateway.db.alarm_models import AlarmMail
from polis.gateway.db.sql import db_now_s
from polis.gateway.domain.webhooks import backoff_s
from polis.gateway.smtp_mail import MailError, Outgoing, SmtpSender

log = get_logger(__name__)
UNFINISHED = ("pending", "retrying")
BATCH = 50


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    token: str
    attempt: int
    mail: Outgoing


@dataclass(frozen=True, slots=True)
class MailOutcome:
    status: str  # sent, failed or retrying
    error: str | None = None
    retry_in_s: float = 0.0


class MailStore:
    """The outbox's SQL (blocking; called from worker threads)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self._engine = engine
        self._now = now  # the Polis clock, for sent_at

    def claim(self, limit: int, hold_s: float) -> list[ClaimedMail]:
        token = str(uuid.uuid4())
        m = AlarmMail
        now = db_now_s()
        claimable = (
            m.status.in_(UNFINISHED),
            m.due_s <= now,
            or_(m.claimed_until_s.is_(None), m.claimed_until_s < now),
        )
        due = (
            select(m.id)
            .where(*claimable)
            .order_by(m.due_s, m.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(m)
            .where(m.id.in_(due.scalar_subquery()), *claimable)
            .values(claim_token=token, claimed_until_s=now + hold_s, attempts=m.attempts + 1)
            .returning(m.id, m.attempts, m.address, m.subject_line, m.body)
        )
        with self._engine.begin() as connection:
            rows = connection.execute(claim).all()
        return [
            ClaimedMail(
                token, row.attempts, Outgoing(row.id, row.address, row.subject_line, row.body)
            )
            for row in rows
        ]

    def record(self, job: ClaimedMail, outcome: MailOutcome) -> bool:
        """Write the outcome if ``job``'s claim still stands; returns whether it did."""
        m = AlarmMail
        values: dict[str, object] = {
            "status": outcome.status,
            "last_error": outcome.error,
            "claim_token": None,
            "claimed_until_s": None,
        }
        if outcome.status == "sent":
            values["sent_at"] = self._now()
        if outcome.status == "retrying":
            values["due_s"] = db_now_s() + outcome.retry_in_s
        with self._engine.begin() as connection:
            result = connection.execute(
                update(m).where(m.id == job.mail.id, m.claim_token == job.token).values(**values)
            )
        return result.rowcount == 1


class MailOutbox:
    """The leader's mail job: compose due digests, then send what is due."""

    def __init__(
        self,
        db: Database,
        store: MailStore,
        sender: SmtpSender,
        now: Callable[[], datetime],
        *,
        max_attempts: int,
        backoff_s: float,
        public_url: str | None,
    ) -> None:
        self._db = db
        self._store = store
        self._sender = sender
        self._now = now
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._public_url = public_url
        # A claim outlives one SMTP exchange (connect, STARTTLS, login, DATA) by a margin.
        self._hold_s = sender.timeout_s * 4 + 30.0

    async def run_once(self) -> int:
        """One round; returns how many mails were sent."""
        now = self._now()
        composed = await self._db.run(
            lambda session: compose_digests(session, now, self._public_url)
        )
        if composed:
            log.info("alarm digests composed", mails=composed)
        sent = 0
        while True:
            claimed = await anyio.to_thread.run_sync(self._store.claim, BATCH, self._hold_s)
            for job in claimed:
                outcome = await anyio.to_thread.run_sync(self._attempt, job)
                recorded = await anyio.to_thread.run_sync(self._store.record, job, outcome)
                if outcome.status == "sent" and recorded:
                    sent += 1
                log.info(
                    "alarm mail",
                    mail=job.mail.id,
                    attempt=job.attempt,
                    outcome=outcome.status,
                    error=outcome.error,
                    recorded=recorded,
                )
            if len(claimed) < BATCH:
                return sent

    def _attempt(self, job: ClaimedMail) -> MailOutcome:
        if job.attempt > self._max_attempts:
            return MailOutcome("failed", "attempts exhausted")
        try:
            self._sender.send(job.mail)
        except MailError as error:
            if error.permanent or job.attempt >= self._max_attempts:
                return MailOutcome("failed", str(error))
            return MailOutcome("retrying", str(error), backoff_s(job.attempt, self._backoff_s))
        return MailOutcome("sent")
