"""The gateway's state on PostgreSQL: migrations, keys, overrides, webhooks and audit.

In CI (CI=true) a missing PostgreSQL fails the suite; on a developer machine it skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from polis.gateway.db.engine import make_engine, migrate

from .conftest import create_keys, make_rows
from .fakes import MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway

pytestmark = pytest.mark.integration

API = "/api/v1"


@pytest.fixture(scope="module")
def pg_gateway(postgres_url: str, peers: PeerServers) -> Iterator[tuple[Running, dict[str, str]]]:
    settings = gateway_settings(postgres_url, peers.addresses)
    with run_gateway(settings, MemoryStore(make_rows())) as gw:
        yield gw, create_keys(gw)


def test_migrations_are_idempotent_and_complete(postgres_url: str, pg_gateway: object) -> None:
    engine = make_engine(postgres_url)
    try:
        migrate(engine)  # already at head: a no-op
        tables = set(sa.inspect(engine).get_table_names())
        with engine.connect() as connection:
            version = connection.execute(
                sa.text("select version_num from alembic_version")
            ).scalar()
    finally:
        engine.dispose()
    assert {"api_keys", "audit_log", "overrides", "webhook_subscriptions"} <= tables
    assert {"leader_leases", "rate_buckets", "plan_versions", "cache_epochs"} <= tables
    assert {"alarms", "alarm_events", "alarm_mail_recipients", "alarm_mails"} <= tables
    assert version == "0003"


def test_control_flow_is_stored_and_audited(pg_gateway: tuple[Running, dict[str, str]]) -> None:
    gw, keys = pg_gateway
    before = datetime.now(UTC)
    with gw.client(keys["facility_manager"]) as c:
        created = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={"point_id": "town-hall/ahu-1/setpoint", "value": 23.0, "duration_minutes": 15},
        )
        assert created.status_code == 201, created.text
        listed = c.get(f"{API}/buildings/town-hall/overrides").json()
        audit = c.get(f"{API}/audit").json()
    assert listed[0]["id"] == created.json()["id"]
    assert listed[0]["value"] == 23.0
    created_at = datetime.fromisoformat(listed[0]["created_at"])
    expires_at = datetime.fromisoformat(listed[0]["expires_at"])
    assert created_at.tzinfo is not None
    assert created_at >= before.replace(microsecond=0)
    assert (expires_at - created_at).total_seconds() == 15 * 60
    assert audit[0]["action"] == "override.create"
    assert audit[0]["detail"]["point_id"] == "town-hall/ahu-1/setpoint"


def test_keys_and_webhooks_on_postgres(pg_gateway: tuple[Running, dict[str, str]]) -> None:
    gw, keys = pg_gateway
    with gw.client(keys["admin"]) as c:
        listed = c.get(f"{API}/keys").json()
        hook = c.post(f"{API}/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["alarm"]})
        hooks = c.get(f"{API}/webhooks").json()
    roles = sorted(k["role"] for k in listed)
    assert roles == ["admin", "energy_department", "facility_manager", "neighbourhood_scheme"]
    assert hook.status_code == 201
    assert [h["events"] for h in hooks] == [["alarm"]]
