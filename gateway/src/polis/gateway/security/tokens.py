"""OAuth2 bearer JWTs: HS256 with a configured secret; issuer, audience and expiry checked.

Claims: ``sub``, ``role``, ``buildings`` (list, facility managers), ``neighbourhood``
(neighbourhood schemes), ``iss``, ``aud``, ``exp``, ``iat``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from polis.gateway.security.roles import Principal, Role, scope_error

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is malformed, expired, or not for this gateway; the message is safe to show."""


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    issuer: str,
    audience: str,
    lifetime: timedelta = timedelta(hours=1),
    buildings: frozenset[str] = frozenset(),
    neighbourhood: str | None = None,
    now: datetime | None = None,
) -> str:
    # Wall-clock time, not the Polis clock: every verifier checks iat and exp against its own
    # wall clock, whatever speed a simulation runs at.
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": issuer,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
    }
    if buildings:
        claims["buildings"] = sorted(buildings)
    if neighbourhood:
        claims["neighbourhood"] = neighbourhood
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(
    token: str, secret: str, *, issuer: str, audience: str, leeway_s: float = 0.0
) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            audience=audience,
            leeway=leeway_s,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("token audience is not this gateway") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("token issuer is not trusted") from None
    except jwt.PyJWTError:
        raise InvalidToken("token is invalid") from None
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise InvalidToken("token role is unknown") from None
    raw_buildings = claims.get("buildings", [])
    if not isinstance(raw_buildings, list) or not all(isinstance(b, str) for b in raw_buildings):
        raise InvalidToken("token buildings claim must be a list of strings")
    buildings = frozenset(raw_buildings)
    neighbourhood = claims.get("neighbourhood")
    if neighbourhood is not None and not isinstance(neighbourhood, str):
        raise InvalidToken("token neighbourhood claim must be a string")
    problem = scope_error(role, buildings, neighbourhood)
    if problem:
        raise InvalidToken(f"token scope invalid: {problem}")
    return Principal(
        subject=f"jwt:{claims['sub']}", role=role, buildings=buildings, neighbourhood=neighbourhood
    )
