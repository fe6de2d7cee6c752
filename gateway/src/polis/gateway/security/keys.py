"""API keys: random, shown once, stored as SHA-256 of the secret part, compared in constant time.

A key reads ``pk_<key id>_<secret>``: the id finds the row, the secret (256 bits from the
operating system's CSPRNG) is verified against its stored hash. A fast hash suffices because
the secret has full entropy; there is nothing to brute-force from a dictionary.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "pk"


@dataclass(frozen=True, slots=True)
class NewKey:
    key_id: str
    secret_hash: str
    plaintext: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id, hash_secret(secret), f"{PREFIX}_{key_id}_{secret}")


def split_key(plaintext: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX + "_")


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def key_from_bootstrap(plaintext: str) -> tuple[str, str]:
    """(key id, hash) for a configured bootstrap key, which must be a well-formed key."""
    parts = split_key(plaintext)
    if parts is None or not 6 <= len(parts[0]) <= 32 or len(parts[1]) < 32:
        raise ValueError(
            "POLIS_BOOTSTRAP_ADMIN_KEY must look like pk_<id>_<secret of 32+ characters>; "
            "generate one with `python -m polis.gateway create-key --print-only`"
        )
    return parts[0], hash_secret(parts[1])
