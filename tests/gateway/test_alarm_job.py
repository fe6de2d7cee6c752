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
    alarm_gateway: tuple[Running, dict[str, str]],
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
            time.sleep(1.0)  # five more rounds: still one alarm per key
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
            time.sleep(0.5)
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
    events = []
    for headers, body in receiver.received:
        ts = int(headers["X-Polis-Timestamp"])
        assert verify(hook["secret"], ts, body, headers["X-Polis-Signature"], now=time.time())
        events.append(json.loads(body))
    announced = sorted((e["event"], e["data"]["rule"]) for e in events)
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
    alarm_gateway: tuple[Running, dict[str, str]], influx_store: InfluxStore, clock: Clock
) -> None:
    gw, keys = alarm_gateway
    influx_store.write([reading(clock.now() - timedelta(minutes=m), 21.0) for m in (30, 20, 10, 0)])
    with gw.client(keys["energy_department"], timeout=20) as c:

        def stale() -> dict[str, Any] | None:
            return keyed(c.get(f"{API}/alarms", params={"state": "any"}).json()).get(STALE_DEVICE)

        time.sleep(1.0)  # five rounds with a fresh reading: nothing is stale
        assert stale() is None
        raised = wait_until("the device goes stale", stale)
        last_reading = clock.now()
        influx_store.write([reading(last_reading, 21.5)])

        def cleared() -> dict[str, Any] | None:
            found = stale()
            return found if found is not None and found["state"] == "cleared" else None

        done = wait_until("the reading clears it", cleared)
        detail = c.get(f"{API}/alarms/{done['id']}").json()
    assert raised["state"] == "active"
    assert raised["severity"] == "major"  # the whole device, its only point silent
    assert "no measured reading for" in raised["message"]
    assert done["id"] == raised["id"]
    assert datetime.fromisoformat(done["cleared_at"]) >= last_reading
    assert [e["kind"] for e in detail["events"]] == ["raised", "cleared"]


@pytest.mark.integration
def test_without_influxdb_rounds_change_nothing(
    peers: PeerServers, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
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
        time.sleep(2.0)  # ten rounds' worth of Polis time (each fails fast)
        listed = c.get(f"{API}/alarms", params={"state": "any"})
    assert listed.status_code == 200
    assert listed.json() == []
    assert capsys.readouterr().out.count("alarm round skipped: InfluxDB unavailable") >= 3
