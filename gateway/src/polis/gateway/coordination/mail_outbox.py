"""The alarm e-mail outbox, worked by the leader: digests composed when due, then due mails
claimed and sent, each by one sender at a time.

A round claims due mails a few at a time (``polis.gateway.coordination.claims``: a claim token
and a claim expiry, as webhook deliveries are claimed), sends each through SMTP and records the
outcome only while its claim stands: sent, failed (a permanent refusal, or the attempts spent),
or due again after an exponential back-off. A claim stands as long as its mails can take,
sent one after another at the SMTP timeout of every exchange (:func:`claim_hold_s`), so a live
sender's claim never lapses under it. A leader that dies mid-send leaves a claim that expires;
its successor sends that mail again, with the same Message-ID (``<outbox id@domain>``), the
only case where a mail goes out twice. Nothing committed to the outbox is lost across a
restart.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import Engine

from polis.common.logging import get_logger
from polis.gateway.application.alarm_mail import compose_digests
from polis.gateway.application.database import Database
from polis.gateway.coordination import claims
from polis.gateway.db.alarm_models import AlarmMail
from polis.gateway.db.sql import db_now_s
from polis.gateway.domain.webhooks import backoff_s
from polis.gateway.smtp_mail import MailError, Outgoing, SmtpSender

log = get_logger(__name__)
# Mails claimed at once: few, so a sender that dies holds back few mails, for at most one
# claim's time.
BATCH = 5
# What one mail may wait on, each up to the SMTP timeout: connect, greeting, EHLO, STARTTLS
# and its handshake, EHLO again, AUTH (up to three replies), MAIL, RCPT, DATA, the message
# and its reply, QUIT.
SMTP_EXCHANGES = 15
# Beyond the mails themselves: the outcomes' writes and the round's own scheduling.
CLAIM_MARGIN_S = 30.0


def claim_hold_s(batch: int, timeout_s: float) -> float:
    """How long a claim of ``batch`` mails must stand: each sent in turn, every SMTP exchange
    of each taking up to ``timeout_s``."""
    return batch * SMTP_EXCHANGES * timeout_s + CLAIM_MARGIN_S


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
        statement = claims.claim(m, token, limit, hold_s).returning(
            m.id, m.attempts, m.address, m.subject_line, m.body
        )
        with self._engine.begin() as connection:
            rows = connection.execute(statement).all()
        return [
            ClaimedMail(
                token, row.attempts, Outgoing(row.id, row.address, row.subject_line, row.body)
            )
            for row in rows
        ]

    def record(self, job: ClaimedMail, outcome: MailOutcome) -> bool:
        """Write the outcome if ``job``'s claim still stands; returns whether it did."""
        values: dict[str, object] = {"status": outcome.status, "last_error": outcome.error}
        if outcome.status == "sent":
            values["sent_at"] = self._now()
        if outcome.status == "retrying":
            values["due_s"] = db_now_s() + outcome.retry_in_s
        with self._engine.begin() as connection:
            result = connection.execute(claims.finish(AlarmMail, job.mail.id, job.token, **values))
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
        self.hold_s = claim_hold_s(BATCH, sender.timeout_s)

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
            claimed = await anyio.to_thread.run_sync(self._store.claim, BATCH, self.hold_s)
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
