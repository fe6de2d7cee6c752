"""API keys (admin only): create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from polis.gateway.api.deps import PrincipalDep, StateDep
from polis.gateway.api.schemas import KeyCreate, KeyCreated, KeyOut
from polis.gateway.application import keys
from polis.gateway.db.models import ApiKey

router = APIRouter(prefix="/keys", tags=["keys"])


def _out(row: ApiKey) -> KeyOut:
    return KeyOut.model_validate(row, from_attributes=True)


@router.post("", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, principal: PrincipalDep, state: StateDep) -> KeyCreated:
    order = keys.KeyOrder(
        name=body.name,
        role=body.role,
        buildings=frozenset(body.buildings),
        neighbourhood=body.neighbourhood,
        rate_per_s=body.rate_per_s,
    )
    now = state.clock.now()
    row, plaintext = state.services.db.run_sync(
        lambda session: keys.create_key(session, principal, order, now)
    )
    return KeyCreated(**dict(_out(row)), key=plaintext)


@router.get("", response_model=list[KeyOut])
def list_keys(principal: PrincipalDep, state: StateDep) -> list[KeyOut]:
    rows = state.services.db.run_sync(lambda session: keys.list_keys(session, principal))
    return [_out(row) for row in rows]


@router.delete("/{key_id}", status_code=204)
def revoke_key(key_id: str, principal: PrincipalDep, state: StateDep) -> None:
    now = state.clock.now()
    state.services.db.run_sync(lambda session: keys.revoke_key(session, principal, key_id, now))
    # This replica forgets the key at once; the others when they see the epoch move.
    state.keys.invalidate(key_id)
