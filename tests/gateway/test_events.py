"""Alarms, plan updates, resumed deliveries, identity, and secrets kept out of logs."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import structlog
from sqlalchemy import select

from polis.common.clock import Clock
from polis.gateway.application.context import Services
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.application.plan_watch import PlanWatcher
from polis.gateway.db.engine import make_engine, migrate, session_factory
from polis.gateway.db.models import WebhookDelivery, WebhookSubscription
from polis.gateway.domain.catalogue import Catalogue, PointInfo
from polis.gateway.domain.plans import Figures, Plan

from .conftest import Env, create_keys
from .fakes import OPERATOR_HOLDS, MemoryStore, PeerServers
from .server import JWT_SECRET, gateway_settings, own_gateway, run_gateway
from .test_webhooks_and_limits import Receiver

pytestmark = pytest.mark.integration

API = "/api/v1"


def wait_for_status(c: httpx.Client, hook_id: int, status: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        log: list[dict[str, Any]] = c.get(f"{API}/webhooks/{hook_id}/deliveries").json()
        if (log and all(d["status"] == status for d in log)) or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_overridden_command_raises_an_alarm(env: Env) -> None:
    receiver = Receiver([])
    try:
        with env.client("facility_manager") as c:
            hook = c.post(f"{API}/webhooks", json={"url": receiver.url, "events": ["alarm"]})
            hook_id = hook.json()["id"]
            created = c.post(
                f"{API}/buildings/town-hall/overrides",
                json={"point_id": "town-hall/ahu-1/setpoint", "value": OPERATOR_HOLDS},
            ).json()
            receiver.wait_for(1)
            wait_for_status(c, hook_id, "delivered")
            c.delete(f"{API}/webhooks/{hook_id}")
        assert created["status"] == "overridden"
        assert created["present_value"] == 19.0
        alarm = json.loads(receiver.received[0][1])
        assert alarm["event"] == "alarm"
        assert alarm["data"]["kind"] == "command_overridden"
        assert alarm["data"]["requested_value"] == OPERATOR_HOLDS
    finally:
        receiver.close()


def test_me_describes_the_caller(env: Env) -> None:
    with env.client("facility_manager") as fm, env.client("neighbourhood_scheme") as scheme:
        me = fm.get(f"{API}/me").json()
        other = scheme.get(f"{API}/me").json()
    assert (me["role"], me["buildings"], me["can_control"]) == (
        "facility_manager",
        ["town-hall"],
        True,
    )
    assert (other["neighbourhood"], other["can_control"]) == ("centre", False)


class CannedPlans:
    """The optimizer's current plan of every building, created at ``created``."""

    def __init__(self, created: datetime) -> None:
        self.created = created

    async def current_plan(self, building: str) -> Plan:
        return Plan(
            building=building,
            created_at=self.created,
            planned=Figures(energy_kwh=90),
            baseline=Figures(energy_kwh=100),
        )


def subscription(url: str, events: list[str]) -> WebhookSubscription:
    return WebhookSubscription(
        owner="key:x",
        owner_role="admin",
        owner_buildings=[],
        url=url,
        events=events,
        secret="s" * 40,
        created_at=datetime.now(UTC),
        active=True,
    )


async def test_plan_watcher_announces_each_new_plan_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    migrate(engine)
    db = Database(session_factory(engine))
    clock = Clock.realtime()
    plans = CannedPlans(datetime(2026, 3, 1, 12, tzinfo=UTC))
    services = Services(
        db=db,
        clock=clock,
        events=Events(clock),
        control=cast(Any, None),
        planning=cast(Any, plans),  # only current_plan is asked for
        savings=cast(Any, None),
    )
    catalogue = Catalogue.build(
        [PointInfo("b1/m/p", "m", "n", "b1", "m", "active_power", "kW", "instantaneous")]
    )

    async def get_catalogue() -> Catalogue:
        return catalogue

    # Two watchers: a leader and the replica that takes over from it share the plan versions.
    watcher, successor = PlanWatcher(services, get_catalogue), PlanWatcher(services, get_catalogue)
    try:
        assert await watcher.poll_once() == []  # nobody listens: the optimizer is not asked
        db.run_sync(
            lambda session: session.add(subscription("http://127.0.0.1:9/", ["plan.updated"]))
        )
        assert await watcher.poll_once() == []  # first sight: nothing to compare with
        assert await watcher.poll_once() == []  # unchanged
        plans.created = datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
        assert await watcher.poll_once() == ["b1"]
        assert await successor.poll_once() == []  # announced already, by the other one
        payloads = db.run_sync(
            lambda session: list(session.scalars(select(WebhookDelivery.payload)))
        )
    finally:
        engine.dispose()
    assert len(payloads) == 1
    event = json.loads(payloads[0])
    assert event["event"] == "plan.updated"
    assert event["data"]["building"] == "b1"
    assert event["data"]["expected_savings"]["energy_kwh"] == 10
    assert event["data"]["created_at"] == "2026-03-01T12:15:00+00:00"


def test_unfinished_deliveries_resume_after_restart(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = tmp_path_factory.mktemp("resume") / "gw.db"
    receiver = Receiver([])
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        sub = subscription(receiver.url, ["alarm"])
        session.add(sub)
        session.flush()
        session.add(
            WebhookDelivery(
                id="left-over",
                subscription_id=sub.id,
                event="alarm",
                payload='{"x":1}',
                created_at=datetime.now(UTC),
            )
        )
        session.commit()
    try:
        with run_gateway(gateway_settings(db, peers.addresses), MemoryStore([])):
            receiver.wait_for(1)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with sessions() as session:
                    status = session.scalars(
                        select(WebhookDelivery.status).where(WebhookDelivery.id == "left-over")
                    ).one()
                if status == "delivered":
                    break
                time.sleep(0.05)
        assert status == "delivered"
        assert receiver.received[0][1] == b'{"x":1}'
        assert receiver.received[0][0]["X-Polis-Delivery"] == "left-over"
    finally:
        receiver.close()
        engine.dispose()


def test_no_secret_reaches_the_logs(
    peers: PeerServers,
    tmp_path_factory: pytest.TempPathFactory,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from polis.common.logging import configure_logging

    configure_logging("gateway", "DEBUG", "json")
    try:
        with own_gateway(
            tmp_path_factory, "logs", peers.addresses, MemoryStore([]), log_level="DEBUG"
        ) as gw:
            keys = create_keys(gw)
            for key in (*keys.values(), keys["admin"][:-3] + "abc"):
                with gw.client(key) as c:
                    c.get(f"{API}/keys")
                    c.get(f"{API}/buildings/town-hall/plan")
    finally:
        # configure_logging bound the captured stream: restore the defaults before it closes.
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    out, err = capfd.readouterr()
    logs = out + err
    assert "gateway ready" in logs  # the logs were captured at all
    for key in keys.values():
        assert key.split("_", 2)[2] not in logs
    assert JWT_SECRET not in logs
