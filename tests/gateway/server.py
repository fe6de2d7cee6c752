"""Run the real gateway app under uvicorn on 127.0.0.1 (port chosen by the OS) in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

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


def _secret(value: str):  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    return SecretStr(value)
