"""Claims on a job table (webhook deliveries, alarm mails): each job is worked by one worker
at a time, and a worker that dies leaves a claim that expires.

A worker claims due jobs in one statement: it stamps them with a fresh claim token and a claim
expiry, and counts the attempt (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
claimers pass over each other's rows; SQLite runs one writer at a time). It records each
job's outcome only while its claim stands (the token still on the row), which also releases
the claim.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, or_, select, update

from polis.gateway.db.alarm_models import AlarmMail
from polis.gateway.db.models import WebhookDelivery
from polis.gateway.db.sql import db_now_s

UNFINISHED = ("pending", "retrying")
# the job tables: id, status, attempts, created_at, due_s, claim_token, claimed_until_s
JobTable = type[WebhookDelivery] | type[AlarmMail]


def claim(table: JobTable, token: str, limit: int, hold_s: float) -> Update:
    """Stamp up to ``limit`` due, unclaimed jobs with ``token`` until ``hold_s`` from now (the
    database's clock), soonest due first; add ``.returning(...)`` for what to work on."""
    now = db_now_s()
    claimable = (
        table.status.in_(UNFINISHED),
        table.due_s <= now,
        or_(table.claimed_until_s.is_(None), table.claimed_until_s < now),
    )
    due = (
        select(table.id)
        .where(*claimable)
        .order_by(table.due_s, table.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # The outer conditions repeat the inner ones: a row is claimed only if it is still
    # claimable when this statement writes it.
    return (
        update(table)
        .where(table.id.in_(due.scalar_subquery()), *claimable)
        .values(claim_token=token, claimed_until_s=now + hold_s, attempts=table.attempts + 1)
    )


def finish(table: JobTable, job_id: str, token: str, **values: Any) -> Update:
    """Write a job's outcome and release its claim, if the claim ``token`` still stands
    (one row updated: it did; none: the claim expired and another worker has the job)."""
    return (
        update(table)
        .where(table.id == job_id, table.claim_token == token)
        .values(claim_token=None, claimed_until_s=None, **values)
    )
