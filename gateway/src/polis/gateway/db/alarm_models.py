"""Alarms in the gateway's database: their lifecycle, their history, their e-mail outbox, and
the one fact the rules need remembered between evaluations (when fallback plans began).

An alarm is open (``active`` or ``acknowledged``) until its rule clears it (``cleared``); at
most one alarm per key (rule, building, subject) is open, enforced by a partial unique index,
so a transition applied twice, or by two replicas, cannot open a second one. Domain times
(``*_at``, ``first_seen``, ``last_seen``) are on the Polis clock; the outbox's coordination
times (``*_s``) on the database's clock, as everywhere in ``polis.gateway.db.models``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from polis.gateway.db.models import Base, UtcDateTime

OPEN_STATES = ("active", "acknowledged")
# The partial index's predicate, the same text on SQLite and PostgreSQL.
OPEN_PREDICATE = "state <> 'cleared'"


class Alarm(Base):
    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(120))
    building: Mapped[str] = mapped_column(String(200), index=True)
    subject: Mapped[str] = mapped_column(String(400))
    points: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16))
    # 0 info … 3 critical: "severity at least" is one comparison.
    severity_rank: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16))
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index(
            "ux_alarms_open_key",
            "rule",
            "building",
            "subject",
            unique=True,
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        Index("ix_alarms_state_severity", "state", "severity_rank"),
    )


class AlarmEvent(Base):
    """One step of an alarm's history: raised, severity changed, acknowledged, cleared."""

    __tablename__ = "alarm_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))  # "rules" or the acknowledging caller
    severity: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class AlarmMailRecipient(Base):
    """A caller's alarm e-mail: where, how (each alarm at once, or a digest every so many
    hours), from which severity; the scope is the caller's when they subscribed."""

    __tablename__ = "alarm_mail_recipients"

    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    neighbourhood: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str] = mapped_column(String(320))
    mode: Mapped[str] = mapped_column(String(16))  # immediate | digest
    digest_hours: Mapped[int] = mapped_column(Integer)
    min_severity_rank: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the last digest was composed (Polis clock); the next is due digest_hours later.
    last_digest_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AlarmMailItem(Base):
    """A raise or clear waiting for a recipient's next digest (``mail_id`` set once in one)."""

    __tablename__ = "alarm_mail_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(
        ForeignKey("alarm_mail_recipients.subject", ondelete="CASCADE"), index=True
    )
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # raised | cleared
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    mail_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class AlarmMail(Base):
    """The outbox: one composed message, sent by whichever leader claims it."""

    __tablename__ = "alarm_mails"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))  # immediate | digest
    subject_line: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    due_s: Mapped[float] = mapped_column(Float, default=0.0)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    claimed_until_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_alarm_mails_status_due", "status", "due_s"),)


class FallbackRun(Base):
    """A building whose current plan is the optimizer's fallback, since when (Polis clock):
    kept while successive plans stay fallbacks, dropped at the first optimized one."""

    __tablename__ = "alarm_fallback_runs"

    building: Mapped[str] = mapped_column(String(200), primary_key=True)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
