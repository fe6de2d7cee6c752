"""Typed ORM models of the gateway's own state. Measurements never live here (InfluxDB does).

Two kinds of time live here. Domain timestamps (``*_at``: when a key was created, an override
expires, an event happened) are instants on the Polis clock and are always passed in by the
code that writes the row, never defaulted. Coordination times between replicas (``*_s``: lease
expiry, delivery due times, rate-limit buckets) are epoch seconds of the database server's
clock (``polis.gateway.db.sql.db_now_s``), the one clock every replica shares.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    neighbourhood: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rate_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    owner_role: Mapped[str] = mapped_column(String(32))
    owner_buildings: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_neighbourhood: Mapped[str | None] = mapped_column(String(200), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    # Needed in clear to sign deliveries; returned once at creation, never again.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Claimable once the database clock passes due_s (0: at once); a worker that claims it
    # holds it until claimed_until_s, so a replica that dies mid-attempt only delays it.
    due_s: Mapped[float] = mapped_column(Float, default=0.0)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    claimed_until_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_webhook_deliveries_status_due", "status", "due_s"),)


class BuildingMode(Base):
    __tablename__ = "building_modes"

    building: Mapped[str] = mapped_column(String(200), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Override(Base):
    __tablename__ = "overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    building: Mapped[str] = mapped_column(String(200), index=True)
    point_id: Mapped[str] = mapped_column(String(400))
    value: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    present_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    building: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    neighbourhood: Mapped[str | None] = mapped_column(String(200), nullable=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(32))


class LeaderLease(Base):
    """Who runs the once-per-deployment work (plan watching, housekeeping) until expires_s."""

    __tablename__ = "leader_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_s: Mapped[float] = mapped_column(Float)
    # Grows by one each time the lease changes hands: tells leaderships apart in the logs.
    term: Mapped[int] = mapped_column(BigInteger)


class RateBucket(Base):
    """A token bucket shared by every replica; taken from with one atomic upsert."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_s: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float)
    burst: Mapped[float] = mapped_column(Float)
    granted: Mapped[bool] = mapped_column()


class PlanVersion(Base):
    """The newest plan the gateway has announced per building, so ``plan.updated`` goes out
    once per plan whichever replica (or "plan now" request) sees it first."""

    __tablename__ = "plan_versions"

    building: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CacheEpoch(Base):
    """A counter per replica-local cache; bumping it makes every replica drop that cache."""

    __tablename__ = "cache_epochs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
