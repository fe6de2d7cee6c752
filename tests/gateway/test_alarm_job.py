"""The leader's alarm job in the real gateway: the engine judging the facts the gateway holds
(overrides, refused commands) over a real InfluxDB, alarms raised and cleared once each,
announced by signed webhooks; baselines fetched from the real savings service."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from structlog.typing import EventDict

from polis.common.clock import Clock
from polis.common.influx import InfluxStore, Sample, to_ns
from polis.common.influxd import InfluxServer, free_port
from polis.gateway.domain.webhooks import verify

from .conftest import create_keys
from .fakes import OPERATOR_HOLDS, MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway
from .test_webhooks_and_limits import Receiver

API = "/api/v1"
# Ten Polis minutes per wall second: an override is "long" after 10 Polis minutes (1 s), a
# refusal ages out of its 30-minute window in 3 s, a point polled every wall second is stale
# after 50 Polis minutes without a reading (5 s), and a round runs every 0.2 s.
SPEED = 600.0
SETPOINT = "larissa/town-hall/ahu-1/setpoint"
CATALOGUE = """\
municipality: larissa
name: Larissa
timezone: Europe/Athens
neighbourhoods: [{id: centre}, {id: north}]
buildings:
  - id: town-hall
    neighbourhood: centre
    devices:
      - protocol: bacnet
        id: ahu-1
        device_instance: 1001
        address: 127.0.0.1:47808
        poll_interval_s: 1
        points:
          - id: setpoint
            object: analog-value,1
            quantity: setpoint
            unit: degC
            kind: command
            write: {min: 16, max: 26}
alarms:
  rules:
    control.override_long: {raise_after_min: 10}
    control.command_refused: {window_min: 30, clear_after_min: 30, severity: major}
"""
REFUSED = ("control.command_refused", "town-hall/ahu-1/setpoint")
LONG = ("control.override_long", "town-hall/ahu-1/setpoint")


def reading(at: datetime, value: float) -> Sample:
    tags = {
        "municipality": "larissa",
        "neighbourhood": "centre",
        "building": "town-hall",
        "device": "ahu-1",
        "point": SETPOINT,
        "quantity": "setpoint",
        "unit": "degC",
        "quality": "good",
    }
    return Sample("reading", tags, {"value": value}, to_ns(at))


def wait_until(what: str, check: Callable[[], Any], timeout: float = 40.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


Logs = list[EventDict]


@pytest.fixture
def logs() -> Iterator[Logs]:
    """The structured log events of this process while the test runs, the gateway's
    included (it runs in a thread here): wherever logs are rendered, they are captured."""
    with structlog.testing.capture_logs() as captured:
        yield captured


def events(logs: Logs, event: str) -> list[EventDict]:
    return [e for e in list(logs) if e.get("event") == event]


def rounds(logs: Logs) -> int:
    """How many rounds the engine has evaluated (its "alarms evaluated" log line each)."""
    return len(events(logs, "alarms evaluated"))


def wait_rounds(logs: Logs, more: int) -> None:
    """Wait until the engine has evaluated ``more`` rounds beyond those logged so far."""
    target = rounds(logs) + more
    wait_until(f"{more} more rounds", lambda: rounds(logs) >= target)


def deliveries(db: Path) -> list[tuple[str, str]]:
    """(event, status) of every webhook delivery in the gateway's database."""
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("select event, status from webhook_deliveries"))
            return [(str(event), str(status)) for event, status in rows]
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """The gateway's Polis clock, as the test computes it too."""
    now = datetime.now(UTC)
    return Clock(origin=now, start=now, speed=SPEED)


@pytest.fixture
def alarm_gateway(
    influx_server: InfluxServer,
    influx_store: InfluxStore,
    peers: PeerServers,
    clock: Clock,
    tmp_path: Path,
) -> Iterator[tuple[Running, dict[str, str]]]:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(CATALOGUE)
    settings = gateway_settings(
        tmp_path / "gw.db",
        peers.addresses,
        catalogue=catalogue,
        clock_origin=clock.origin,
        clock_start=clock.start,
        clock_speed=SPEED,
        gateway_alarm_interval_s=120.0,
        influx_url=influx_server.url,
        influx_token=influx_server.token,
        influx_org=influx_server.org,
        influx_bucket=influx_store.bucket,
    )
    with run_gateway(settings, MemoryStore([])) as gw:
        yield gw, create_keys(gw)


def keyed(alarms: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(a["rule"], a["subject"]): a for a in alarms}


@pytest.mark.integration
@pytest.mark.influx
@pytest.mark.slow
def test_control_facts_raise_and_clear_alarms_once_each(
    alarm_gateway: tuple[Running, dict[str, str]], logs: Logs, tmp_path: Path
) -> None:
    gw, keys = alarm_gateway
    receiver = Receiver([])
    try:
        with gw.client(keys["facility_manager"], timeout=20) as fm:
            hook = fm.post(
                f"{API}/webhooks",
                json={"url": receiver.url, "events": ["alarm.raised", "alarm.cleared"]},
            ).json()

            def open_alarms() -> dict[tuple[str, str], dict[str, Any]]:
                return keyed(fm.get(f"{API}/alarms").json())

            assert open_alarms() == {}
            override = fm.post(
                f"{API}/buildings/town-hall/overrides",
                json={"point_id": "town-hall/ahu-1/setpoint", "value": OPERATOR_HOLDS},
            ).json()
            assert override["status"] == "overridden"  # the device did not take it

            def both_open() -> dict[tuple[str, str], dict[str, Any]] | None:
                found = open_alarms()
                return found if {REFUSED, LONG} <= found.keys() else None

            raised = wait_until("both alarms", both_open)
            wait_rounds(logs, 5)  # five more rounds: still one alarm per key
            assert open_alarms().keys() == {REFUSED, LONG}
            assert {k: a["id"] for k, a in open_alarms().items()} == {
                k: a["id"] for k, a in raised.items()
            }
            assert (
                fm.delete(f"{API}/buildings/town-hall/overrides/{override['id']}").status_code
                == 200
            )
            wait_until("both cleared", lambda: not ({REFUSED, LONG} & open_alarms().keys()))
            history = keyed(fm.get(f"{API}/alarms", params={"state": "cleared"}).json())
            details = {
                k: fm.get(f"{API}/alarms/{history[k]['id']}").json() for k in (REFUSED, LONG)
            }
            receiver.wait_for(4)
            # five more rounds (any duplicate would be queued in one), then every delivery done
            wait_rounds(logs, 5)
            wait_until(
                "every delivery done",
                lambda: all(s == "delivered" for _, s in deliveries(tmp_path / "gw.db")),
            )
            queued = sorted(deliveries(tmp_path / "gw.db"))
            fm.delete(f"{API}/webhooks/{hook['id']}")
    finally:
        receiver.close()
    refused, long_held = raised[REFUSED], raised[LONG]
    assert (refused["severity"], long_held["severity"]) == ("major", "warning")
    assert "1 command(s) refused" in refused["message"]
    assert f"overridden at {OPERATOR_HOLDS:g}" in long_held["message"]
    # one alarm per key over the whole episode, raised once and cleared once
    assert {k: history[k]["id"] for k in (REFUSED, LONG)} == {
        REFUSED: refused["id"],
        LONG: long_held["id"],
    }
    for detail in details.values():
        assert [e["kind"] for e in detail["events"]] == ["raised", "cleared"]
        assert detail["cleared_at"] is not None
    # the overridden point's refusal ages out after its window; cancelling ends the override
    refused_clear = datetime.fromisoformat(details[REFUSED]["cleared_at"])
    assert refused_clear - datetime.fromisoformat(override["created_at"]) >= timedelta(minutes=30)
    assert queued == [
        ("alarm.cleared", "delivered"),
        ("alarm.cleared", "delivered"),
        ("alarm.raised", "delivered"),
        ("alarm.raised", "delivered"),
    ]
    received = []
    for headers, body in receiver.received:
        ts = int(headers["X-Polis-Timestamp"])
        assert verify(hook["secret"], ts, body, headers["X-Polis-Signature"], now=time.time())
        received.append(json.loads(body))
    announced = sorted((e["event"], e["data"]["rule"]) for e in received)
    assert announced == [
        ("alarm.cleared", "control.command_refused"),
        ("alarm.cleared", "control.override_long"),
        ("alarm.raised", "control.command_refused"),
        ("alarm.raised", "control.override_long"),
    ]


STALE_DEVICE = ("communication.stale", "ahu-1")


@pytest.mark.integration
@pytest.mark.influx
@pytest.mark.slow
def test_a_device_that_stops_reporting_raises_stale_and_clears_when_it_reports(
    alarm_gateway: tuple[Running, dict[str, str]],
    influx_store: InfluxStore,
    clock: Clock,
    logs: Logs,
) -> None:
    gw, keys = alarm_gateway
    fresh = clock.now()
    influx_store.write([reading(fresh - timedelta(minutes=m), 21.0) for m in (30, 20, 10, 0)])
    # five polls of 1 s at 600 times the wall clock: stale 50 Polis minutes after the last
    fresh_until = fresh + timedelta(minutes=50)
    with gw.client(keys["energy_department"], timeout=20) as c:

        def stale() -> dict[str, Any] | None:
            return keyed(c.get(f"{API}/alarms", params={"state": "any"}).json()).get(STALE_DEVICE)

        raised = wait_until("the device goes stale", stale)
        last_reading = clock.now()
        influx_store.write([reading(last_reading, 21.5)])

        def cleared() -> dict[str, Any] | None:
            found = stale()
            return found if found is not None and found["state"] == "cleared" else None

        done = wait_until("the reading clears it", cleared)
        detail = c.get(f"{API}/alarms/{done['id']}").json()
    # rounds ran while the reading was fresh, and none raised it: not before its limit
    judged_fresh = [
        e
        for e in events(logs, "alarms evaluated")
        if fresh <= datetime.fromisoformat(e["at"]) < fresh_until
    ]
    assert judged_fresh
    assert all(e["raised"] == 0 for e in judged_fresh)
    assert datetime.fromisoformat(raised["first_seen"]) >= fresh_until
    assert raised["state"] == "active"
    assert raised["severity"] == "major"  # the whole device, its only point silent
    assert "no measured reading for" in raised["message"]
    assert done["id"] == raised["id"]
    assert datetime.fromisoformat(done["cleared_at"]) >= last_reading
    assert [e["kind"] for e in detail["events"]] == ["raised", "cleared"]


@pytest.mark.integration
def test_without_influxdb_rounds_change_nothing(
    peers: PeerServers, clock: Clock, tmp_path: Path, logs: Logs
) -> None:
    """The facts say "refused", but the readings store is down: nothing is judged, nothing
    raised, the API keeps answering; the rounds go on (and are logged as skipped)."""
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(CATALOGUE)
    settings = gateway_settings(
        tmp_path / "gw.db",
        peers.addresses,
        catalogue=catalogue,
        clock_origin=clock.origin,
        clock_start=clock.start,
        clock_speed=SPEED,
        gateway_alarm_interval_s=120.0,
        influx_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        influx_timeout_ms=500,
    )
    with run_gateway(settings, MemoryStore([])) as gw, gw.client(gw.admin_key) as c:
        created = c.post(
            f"{API}/buildings/town-hall/overrides",
            json={"point_id": "town-hall/ahu-1/setpoint", "value": OPERATOR_HOLDS},
        )
        assert created.json()["status"] == "overridden"

        def skipped() -> int:
            return len(events(logs, "alarm round skipped: InfluxDB unavailable"))

        after_override = skipped()
        wait_until("three rounds skipped", lambda: skipped() >= after_override + 3)
        listed = c.get(f"{API}/alarms", params={"state": "any"})
    assert listed.status_code == 200
    assert listed.json() == []
    assert rounds(logs) == 0  # nothing was evaluated
