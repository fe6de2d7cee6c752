"""The FastAPI application: wiring of settings, state, peers, routes and the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from polis.common.catalogue import load_catalogue
from polis.common.logging import get_logger
from polis.gateway.api import problems
from polis.gateway.api.routes import (
    audit_log,
    catalogue,
    clock,
    imports,
    keys,
    me,
    neighbourhoods,
    plans,
    readings,
    savings,
    webhooks,
)
from polis.gateway.caching import AsyncTtlCache
from polis.gateway.dashboard import routes as dashboard
from polis.gateway.db.engine import make_engine, migrate, session_factory
from polis.gateway.db.models import ApiKey
from polis.gateway.domain.catalogue import DisplayMetadata, metadata_view
from polis.gateway.peers.catalogue_cache import CatalogueCache
from polis.gateway.peers.clients import Peers
from polis.gateway.plan_watch import PlanWatcher
from polis.gateway.readings import ReadingsStore
from polis.gateway.security.key_cache import KeyCache
from polis.gateway.security.keys import key_from_bootstrap
from polis.gateway.security.ratelimit import TokenBuckets
from polis.gateway.security.roles import Role
from polis.gateway.settings import GatewaySettings
from polis.gateway.state import GatewayState
from polis.gateway.webhook_dispatch import WebhookDispatcher

log = get_logger(__name__)

DESCRIPTION = """\
Polis energy management: catalogue, readings, plans, savings, neighbourhood flexibility.

Authenticate with an API key (`X-API-Key: pk_…`) or an OAuth2 bearer JWT (HS256). Errors are
RFC 9457 problem details (`application/problem+json`); `field` names the offending field.
"""


def load_metadata(settings: GatewaySettings) -> DisplayMetadata:
    """The gateway's view of the municipality catalogue (POLIS_CATALOGUE): display names.

    Points come live from the adapter, which reads the same catalogue."""
    if settings.catalogue is None:
        return DisplayMetadata()
    return metadata_view(load_catalogue(settings.catalogue))


def ensure_bootstrap_key(session: Session, settings: GatewaySettings) -> None:
    if settings.bootstrap_admin_key is None:
        return
    key_id, secret_hash = key_from_bootstrap(settings.bootstrap_admin_key.get_secret_value())
    row = session.get(ApiKey, key_id)
    if row is None:
        session.add(
            ApiKey(
                id=key_id,
                name="bootstrap admin",
                secret_hash=secret_hash,
                role=Role.ADMIN.value,
                buildings=[],
                created_at=datetime.now(UTC),
            )
        )
    elif row.revoked_at is None:
        row.secret_hash = secret_hash
        row.role = Role.ADMIN.value
    session.commit()


def create_app(
    settings: GatewaySettings,
    readings_store: ReadingsStore | None = None,
) -> FastAPI:
    """Build the app; ``readings_store`` defaults to InfluxDB from the settings."""
    metadata = load_metadata(settings)
    engine = make_engine(settings.gateway_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        ensure_bootstrap_key(session, settings)

    if readings_store is None:
        from polis.gateway.influx_readings import InfluxReadings

        readings_store = InfluxReadings.from_settings(settings)
    store: ReadingsStore = readings_store
    shared_clock = settings.clock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        peers = Peers(
            settings.adapter_address,
            settings.optimizer_address,
            settings.savings_address,
            settings.grpc_deadline_s,
            settings.report_deadline_s,
        )
        client = httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False)
        dispatcher = WebhookDispatcher(
            sessions,
            client,
            max_attempts=settings.webhook_max_attempts,
            backoff_s=settings.webhook_backoff_s,
        )
        cache = CatalogueCache(peers.list_points, settings.catalogue_ttl_s, metadata)
        app.state.gateway = GatewayState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            peers=peers,
            catalogue=cache,
            readings=store,
            buckets=TokenBuckets(settings.rate_limit_per_s, settings.rate_limit_burst),
            webhooks=dispatcher,
            clock=shared_clock,
            keys=KeyCache(settings.key_cache_ttl_s),
            last_values=AsyncTtlCache(settings.last_values_cache_ttl_s),
            reports=AsyncTtlCache(settings.savings_cache_ttl_s, max_entries=1_000),
        )
        resumed = await dispatcher.resume()
        watcher = PlanWatcher(cache.get, peers.current_plan, dispatcher, settings.plan_poll_s)
        watch = asyncio.create_task(watcher.run())
        log.info(
            "gateway ready",
            database=engine.url.render_as_string(hide_password=True),
            resumed_deliveries=resumed,
        )
        try:
            yield
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            await dispatcher.close()
            await client.aclose()
            await peers.close()
            close_store = getattr(store, "aclose", None)
            if close_store is not None:
                await close_store()
            engine.dispose()

    app = FastAPI(
        title="Polis gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=problems.PROBLEM_RESPONSES,
        # The interactive docs pages load scripts from a CDN: serve the spec only.
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app, settings.peer_retry_after_s)

    api = APIRouter(prefix="/api/v1")
    # Routes are tried in order: the busiest read paths first.
    for module in (
        readings,
        savings,
        me,
        clock,
        keys,
        catalogue,
        plans,
        neighbourhoods,
        webhooks,
        imports,
        audit_log,
    ):
        api.include_router(module.router)
    app.include_router(api)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    def readyz() -> JSONResponse:
        """Ready when the gateway's own database answers; peers may come and go."""
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    dashboard.mount(app)
    return app
