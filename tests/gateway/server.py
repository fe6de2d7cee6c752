"""Run the real gateway app under uvicorn on 127.0.0.1 (port chosen by the OS) in a thread, and
real gRPC servicers in front of it, each on an event loop of its own in a thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn

from polis.common.grpc_server import start_grpc_server
from polis.gateway.app import create_app
from polis.gateway.readings import ReadingsStore
from polis.gateway.security import keys
from polis.gateway.settings import GatewaySettings

JWT_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def gateway_settings(
    db: Path | str, addresses: dict[str, str], **overrides: object
) -> GatewaySettings:
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    values: dict[str, object] = {
        "gateway_database_url": url,
        "jwt_secret": JWT_SECRET,
        "adapter_address": addresses["adapter"],
        "optimizer_address": addresses["optimizer"],
        "savings_address": addresses["savings"],
        "grpc_deadline_s": 2.0,
        "rate_limit_per_s": 1000.0,
        "rate_limit_burst": 1000,
        "webhook_backoff_s": 0.05,
        "webhook_max_attempts": 3,
        "live_interval_s": 0.2,
        "catalogue_ttl_s": 30.0,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


class Running:
    def __init__(self, base_url: str, admin_key: str, server: uvicorn.Server) -> None:
        self.base_url = base_url
        self.admin_key = admin_key
        self.server = server

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        """An HTTP client of this gateway, sending ``key`` as its API key."""
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, **kw)


@contextmanager
def run_gateway(settings: GatewaySettings, store: ReadingsStore) -> Iterator[Running]:
    admin = keys.generate_key().plaintext
    settings = settings.model_copy(update={"bootstrap_admin_key": _secret(admin)})
    app = create_app(settings, readings_store=store)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("gateway did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(f"http://127.0.0.1:{port}", admin, server)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def own_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    addresses: dict[str, str],
    store: ReadingsStore,
    **overrides: object,
) -> Iterator[Running]:
    """A gateway for one test or module alone, on a new SQLite file, with its own settings."""
    settings = gateway_settings(tmp_path_factory.mktemp(name) / "gw.db", addresses, **overrides)
    with run_gateway(settings, store) as gw:
        yield gw


@contextmanager
def grpc_in_thread(
    register: Callable[[grpc.aio.Server], None], services: Sequence[str]
) -> Iterator[str]:
    """A grpc.aio server as the services start theirs, on 127.0.0.1; yields its address.

    ``register`` runs on the server's own event loop, so servicers made there belong to it.
    """
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    holder: dict[str, int] = {}

    async def serve() -> None:
        server = await start_grpc_server(register, services)
        holder["port"] = server.port
        ready.set()
        await stop.wait()
        await server.stop(0)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield f"127.0.0.1:{holder['port']}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


def _secret(value: str):  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    return SecretStr(value)
