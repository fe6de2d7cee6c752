"""API keys: created (the plaintext shown once), listed, revoked, and the bootstrap admin key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from polis.gateway.application import audit
from polis.gateway.application.errors import NotFound
from polis.gateway.coordination import epochs
from polis.gateway.db.models import ApiKey
from polis.gateway.db.sql import insert_for
from polis.gateway.security import keys
from polis.gateway.security.roles import Principal, Role, is_admin, require

# The cache epoch that makes every replica drop its resolved keys (after a revocation).
KEYS_EPOCH = "api_keys"


@dataclass(frozen=True, slots=True)
class KeyOrder:
    name: str
    role: Role
    buildings: frozenset[str] = frozenset()
    neighbourhood: str | None = None
    rate_per_s: float | None = None


def store_key(session: Session, order: KeyOrder, now: datetime) -> tuple[ApiKey, str]:
    """A new key row and the key's plaintext (stored nowhere)."""
    new = keys.generate_key()
    row = ApiKey(
        id=new.key_id,
        name=order.name,
        secret_hash=new.secret_hash,
        role=order.role.value,
        buildings=sorted(order.buildings),
        neighbourhood=order.neighbourhood,
        rate_per_s=order.rate_per_s,
        created_at=now,
    )
    session.add(row)
    return row, new.plaintext


def create_key(
    session: Session, principal: Principal, order: KeyOrder, now: datetime
) -> tuple[ApiKey, str]:
    require(is_admin(principal), "only admins manage keys")
    row, plaintext = store_key(session, order, now)
    audit.record(session, principal, "key.create", "ok", at=now, detail={"key_id": row.id})
    return row, plaintext


def list_keys(session: Session, principal: Principal) -> list[ApiKey]:
    require(is_admin(principal), "only admins manage keys")
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, principal: Principal, key_id: str, now: datetime) -> None:
    """Revoked in the database; the epoch bump makes every replica forget the key at once."""
    require(is_admin(principal), "only admins manage keys")
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no key {key_id}", "key_id")
    row.revoked_at = now
    epochs.bump(session, KEYS_EPOCH)
    audit.record(session, principal, "key.revoke", "ok", at=now, detail={"key_id": key_id})


def ensure_bootstrap_key(session: Session, plaintext: str, now: datetime) -> None:
    """Create the configured admin key, or re-hash it (unless it was revoked).

    Replicas starting together all do this: insert-if-absent, then update, so none fails on
    the key another has just inserted.
    """
    key_id, secret_hash = keys.key_from_bootstrap(plaintext)
    dialect = session.get_bind().dialect
    session.execute(
        insert_for(dialect, ApiKey)
        .values(
            id=key_id,
            name="bootstrap admin",
            secret_hash=secret_hash,
            role=Role.ADMIN.value,
            buildings=[],
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(secret_hash=secret_hash, role=Role.ADMIN.value)
    )
