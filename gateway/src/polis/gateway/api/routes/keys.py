"""API keys (admin only): create (shown once), list, revoke."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy import select

from polis.gateway import audit
from polis.gateway.api.deps import PrincipalDep, SessionDep, StateDep
from polis.gateway.api.problems import Problem
from polis.gateway.api.schemas import KeyCreate, KeyCreated, KeyOut
from polis.gateway.db.models import ApiKey
from polis.gateway.security import keys
from polis.gateway.security.roles import is_admin, require

router = APIRouter(prefix="/keys", tags=["keys"])


def _out(row: ApiKey) -> dict[str, object]:
    return {
        "id": row.id,
        "name": row.name,
        "role": row.role,
        "buildings": row.buildings,
        "neighbourhood": row.neighbourhood,
        "rate_per_s": row.rate_per_s,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.post("", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, principal: PrincipalDep, session: SessionDep) -> dict[str, object]:
    require(is_admin(principal), "only admins manage keys")
    new = keys.generate_key()
    row = ApiKey(
        id=new.key_id,
        name=body.name,
        secret_hash=new.secret_hash,
        role=body.role.value,
        buildings=sorted(set(body.buildings)),
        neighbourhood=body.neighbourhood,
        rate_per_s=body.rate_per_s,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.commit()
    audit.record(session, principal, "key.create", "ok", detail={"key_id": row.id})
    return {**_out(row), "key": new.plaintext}


@router.get("", response_model=list[KeyOut])
def list_keys(principal: PrincipalDep, session: SessionDep) -> list[dict[str, object]]:
    require(is_admin(principal), "only admins manage keys")
    return [_out(row) for row in session.scalars(select(ApiKey).order_by(ApiKey.created_at))]


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: str, principal: PrincipalDep, session: SessionDep, state: StateDep) -> None:
    require(is_admin(principal), "only admins manage keys")
    row = session.get(ApiKey, key_id)
    if row is None:
        raise Problem(404, "Not found", f"no key {key_id}", field="key_id")
    row.revoked_at = datetime.now(UTC)
    session.commit()
    state.keys.invalidate(key_id)
    audit.record(session, principal, "key.revoke", "ok", detail={"key_id": key_id})
