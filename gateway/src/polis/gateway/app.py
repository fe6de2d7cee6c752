"""The FastAPI application: wiring of settings, state, peers, routes and the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from polis.common.catalogue import load_catalogue
from polis.common.logging import get_logger
from polis.gateway.alarm_wiring import alarm_jobs
from polis.gateway.api import problems
from polis.gateway.api.routes import (
    alarms,
    audit_log,
    catalogue,
    clock,
    commissioning,
    imports,
    keys,
    me,
    neighbourhoods,
    plans,
    readings,
    savings,
    webhooks,
)
from polis.gateway.application import keys as key_cases
from polis.gateway.application.alarm_job import Leader
from polis.gateway.application.alarm_ports import Expectations
from polis.gateway.application.context import Services
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.application.keys import KEYS_EPOCH
from polis.gateway.application.plan_watch import PlanWatcher
from polis.gateway.application.savings import REPORTS_EPOCH, SavingsReports
from polis.gateway.caching import AsyncTtlCache
from polis.gateway.coordination.deliveries import DeliveryStore, DeliveryWorker
from polis.gateway.coordination.epochs import EpochWatcher
from polis.gateway.coordination.leader import Job, Leadership
from polis.gateway.coordination.lease import Lease, replica_id
from polis.gateway.dashboard import routes as dashboard
from polis.gateway.db.engine import make_engine, migrate, session_factory
from polis.gateway.domain.catalogue import DisplayMetadata, metadata_view
from polis.gateway.peers.catalogue_cache import CatalogueCache
from polis.gateway.peers.clients import Peers
from polis.gateway.readings import ReadingsStore
from polis.gateway.security.key_cache import KeyCache
from polis.gateway.security.ratelimit import SharedTokenBuckets
from polis.gateway.settings import GatewaySettings
from polis.gateway.state import GatewayState

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


# The once-per-deployment jobs run under this lease (see polis.gateway.coordination.leader).
LEADER_LEASE = "gateway"
HOUSEKEEPING_S = 60.0


def background(
    settings: GatewaySettings,
    state: GatewayState,
    worker: DeliveryWorker,
    savings: Expectations,
) -> list[Coroutine[Any, Any, None]]:
    """What each replica runs beside the API: its delivery worker and cache-epoch watcher on
    every replica, and the leader's jobs on whichever replica holds the lease."""
    watcher = PlanWatcher(state.services, state.catalogue.get)

    async def housekeeping() -> None:
        await anyio.to_thread.run_sync(state.limits.prune)

    holder = replica_id()
    jobs = [
        Job("plan-watch", settings.plan_poll_s, watcher.poll_once),
        Job("housekeeping", HOUSEKEEPING_S, housekeeping),
        # Alarm evaluation, its baselines and its e-mail (docs/alarms.md).
        *alarm_jobs(settings, state, savings, Leader(LEADER_LEASE, holder)),
    ]
    lease = Lease(state.engine, LEADER_LEASE, holder, settings.leader_lease_s)
    epochs = EpochWatcher(
        state.services.db,
        {KEYS_EPOCH: state.keys.clear, REPORTS_EPOCH: state.reports.forget},
        settings.cache_sync_s,
    )
    return [worker.run(), epochs.run(), Leadership(lease, jobs).run()]


def create_app(
    settings: GatewaySettings,
    readings_store: ReadingsStore | None = None,
) -> FastAPI:
    """Build the app; ``readings_store`` defaults to InfluxDB from the settings."""
    metadata = load_metadata(settings)
    engine = make_engine(settings.gateway_database_url)
    migrate(engine)
    sessions = session_factory(engine)
    shared_clock = settings.clock()
    database = Database(sessions)
    if settings.bootstrap_admin_key is not None:
        bootstrap = settings.bootstrap_admin_key.get_secret_value()
        database.run_sync(
            lambda session: key_cases.ensure_bootstrap_key(session, bootstrap, shared_clock.now())
        )

    if readings_store is None:
        from polis.gateway.influx_readings import InfluxReadings

        readings_store = InfluxReadings.from_settings(settings)
    store: ReadingsStore = readings_store

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
        worker = DeliveryWorker(
            DeliveryStore(engine, shared_clock.now),
            client,
            max_attempts=settings.webhook_max_attempts,
            backoff_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
            poll_s=settings.webhook_poll_s,
            concurrency=settings.webhook_concurrency,
        )
        services = Services(
            db=database,
            clock=shared_clock,
            events=Events(shared_clock, worker.wake),
            control=peers,
            planning=peers,
            savings=peers,
            commissioning=peers,
        )
        state = GatewayState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            services=services,
            catalogue=CatalogueCache(peers.list_points, settings.catalogue_ttl_s, metadata),
            readings=store,
            limits=SharedTokenBuckets(engine, settings.rate_limit_per_s, settings.rate_limit_burst),
            clock=shared_clock,
            keys=KeyCache(settings.key_cache_ttl_s),
            last_values=AsyncTtlCache(settings.last_values_cache_ttl_s),
            reports=SavingsReports(
                services,
                AsyncTtlCache(settings.savings_cache_ttl_s, max_entries=1_000),
                savings.render_report,
            ),
        )
        app.state.gateway = state
        work_items = background(settings, state, worker, peers)
        tasks = [asyncio.create_task(work) for work in work_items]
        log.info("gateway ready", database=engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            await worker.drain(settings.webhook_timeout_s)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await client.aclose()
            await peers.close()
            close_store = getattr(store, "aclose", None)
            if close_store is not None:
                await close_store()
            state.limits.close()
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
        commissioning,
        neighbourhoods,
        webhooks,
        imports,
        audit_log,
        alarms,
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
