"""Dependencies injected into routes with ``Annotated[..., Depends(...)]``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from polis.gateway.api.problems import Problem
from polis.gateway.application.context import Services
from polis.gateway.db.models import ApiKey
from polis.gateway.domain.catalogue import Catalogue
from polis.gateway.security import keys
from polis.gateway.security.key_cache import KeyRecord, verify
from polis.gateway.security.ratelimit import retry_after_header
from polis.gateway.security.roles import Principal, Role
from polis.gateway.security.tokens import InvalidToken, decode_token
from polis.gateway.state import GatewayState

# Row ids as they appear in paths: positive and within a 32-bit INTEGER on every backend.
MAX_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Polis API key")
bearer = HTTPBearer(
    auto_error=False, description="OAuth2 bearer JWT (HS256), or an API key as bearer token"
)


async def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(get_state)]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.gateway.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _unauthorised(detail: str) -> Problem:
    return Problem(401, "Not authenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def _load_key(sessions: sessionmaker[Session], key_id: str) -> KeyRecord | None:
    with sessions() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            return None
        return KeyRecord(
            secret_hash=row.secret_hash,
            principal=Principal(
                subject=f"key:{row.id}",
                role=Role(row.role),
                buildings=frozenset(row.buildings),
                neighbourhood=row.neighbourhood,
                rate_per_s=row.rate_per_s,
            ),
            revoked=row.revoked_at is not None,
        )


async def _principal_from_key(state: GatewayState, plaintext: str) -> Principal:
    parts = keys.split_key(plaintext)
    if parts is None:
        raise _unauthorised("malformed API key")
    key_id, secret = parts
    record = state.keys.get(key_id)
    if record is None:
        generation = state.keys.generation
        record = await run_in_threadpool(_load_key, state.sessions, key_id)
        if record is not None:
            state.keys.put(key_id, record, generation)
    principal = verify(record, secret)
    if principal is None:
        raise _unauthorised("invalid or revoked API key")
    return principal


async def authenticate(
    state: StateDep,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    token = api_key or (credentials.credentials if credentials else None)
    if not token:
        raise _unauthorised("send an API key in X-API-Key or a bearer token")
    if keys.looks_like_key(token):
        principal = await _principal_from_key(state, token)
    else:
        settings = state.settings
        try:
            principal = decode_token(
                token,
                settings.jwt_secret.get_secret_value(),
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                leeway_s=settings.jwt_leeway_s,
            )
        except InvalidToken as error:
            raise _unauthorised(str(error)) from None
    # Shared with every replica: the bucket is a database row.
    wait = await run_in_threadpool(state.limits.take, principal.rate_key, principal.rate_per_s)
    if wait > 0:
        raise Problem(
            429,
            "Too many requests",
            "rate limit exceeded for this key",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def get_catalogue(state: StateDep) -> Catalogue:
    return await state.catalogue.get()


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


def parse_time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            422, "Invalid request", f"{field}: not an ISO 8601 timestamp", field=field
        ) from None
    if parsed.tzinfo is None:
        raise Problem(422, "Invalid request", f"{field}: needs a UTC offset, e.g. Z", field=field)
    return parsed.astimezone(UTC)
