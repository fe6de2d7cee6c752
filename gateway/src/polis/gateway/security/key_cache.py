"""Resolved API keys held briefly in memory, so a request needs no database round trip.

An entry holds the key's stored hash, never its secret: every request still hashes the secret
it presents and compares in constant time. Revoking a key in this process drops its entry at
once, and every other replica within ``POLIS_CACHE_SYNC_S`` (through a cache epoch); the TTL
bounds how long a replica that cannot read the epochs could still accept it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from polis.gateway.caching import TtlMap
from polis.gateway.security import keys
from polis.gateway.security.roles import Principal


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the database says about one key id."""

    secret_hash: str
    principal: Principal
    revoked: bool


class KeyCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._records: TtlMap[str, KeyRecord] = TtlMap(ttl_s, max_entries=50_000, clock=clock)
        self._generation = 0

    @property
    def generation(self) -> int:
        """Changes on every invalidation; read it before loading a record from the database."""
        return self._generation

    def get(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def put(self, key_id: str, record: KeyRecord, generation: int) -> None:
        """Keep ``record`` unless a key was invalidated since ``generation`` was read (the
        record may then predate a revocation)."""
        if generation == self._generation:
            self._records.put(key_id, record)

    def invalidate(self, key_id: str) -> None:
        self._generation += 1
        self._records.invalidate(key_id)

    def clear(self) -> None:
        """Forget every record (a key was revoked through another replica)."""
        self._generation += 1
        self._records.clear()


# Compared against when the key id is unknown, so timing does not reveal which ids exist.
_NO_KEY_HASH = keys.hash_secret("")


def verify(record: KeyRecord | None, secret: str) -> Principal | None:
    """The key's principal when ``secret`` matches and the key is live, else None."""
    stored = record.secret_hash if record is not None else _NO_KEY_HASH
    matches = keys.secret_matches(secret, stored)
    if not matches or record is None or record.revoked:
        return None
    return record.principal
