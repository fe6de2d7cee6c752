"""The alarms API on the real gateway over HTTP: listing and filters per role, one alarm with
its evidence and history, acknowledgement (audited), counts, the alarm webhooks, a restart."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from polis.alarms.model import AlarmKey, Severity, Transition, TransitionKind
from polis.gateway.domain.webhooks import verify

from .alarm_helpers import AlarmDb, assessment
from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway
from .test_webhooks_and_limits import Receiver

pytestmark = pytest.mark.integration

API = "/api/v1"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
COLD = AlarmKey("comfort.too_cold", "town-hall", "zone-1")
STALE = AlarmKey("communication.stale", "pool", "main-meter")
SCHOOL = AlarmKey("hvac.simultaneous_heating_cooling", "school-1", "zone-2")


@dataclass
class AlarmGateway:
    gw: Running
    keys: dict[str, str]
    db: AlarmDb

    def client(self, role: str) -> httpx.Client:
        return self.gw.client(self.keys[role], timeout=20)


@pytest.fixture(scope="module")
def ag(peers: PeerServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlarmGateway]:
    """A gateway of its own (the rules off: these alarms are put in as the leader would)."""
    path = tmp_path_factory.mktemp("alarms-api") / "gw.db"
    settings = gateway_settings(path, peers.addresses, gateway_alarm_evaluation=False)
    with run_gateway(settings, MemoryStore([])) as gw:
        db = AlarmDb(path)
        try:
            yield AlarmGateway(gw, create_keys(gw), db)
        finally:
            db.close()


@pytest.fixture(scope="module")
def ids(ag: AlarmGateway) -> dict[str, int]:
    out = {
        "cold": ag.db.raise_(COLD, T0),
        "stale": ag.db.raise_(STALE, T0 + timedelta(minutes=1), severity=Severity.WARNING),
        "school": ag.db.raise_(SCHOOL, T0 + timedelta(minutes=2), severity=Severity.CRITICAL),
    }
    ag.db.clear(STALE, T0 + timedelta(minutes=30))
    return out


def listed(c: httpx.Client, **params: Any) -> list[int]:
    response = c.get(f"{API}/alarms", params=params)
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()]


def test_each_role_lists_the_alarms_of_its_buildings(ag: AlarmGateway, ids: dict[str, int]) -> None:
    with ag.client("facility_manager") as fm, ag.client("energy_department") as dept:
        assert listed(fm) == [ids["cold"]]  # open ones of town-hall only
        assert listed(fm, state="any") == [ids["cold"]]
        assert listed(dept) == [ids["school"], ids["cold"]]
        assert listed(dept, state="cleared") == [ids["stale"]]  # the history
        assert listed(dept, state="any") == [ids["school"], ids["stale"], ids["cold"]]
        assert listed(dept, severity="critical") == [ids["school"]]
        assert listed(dept, severity="major") == [ids["school"], ids["cold"]]
        assert listed(dept, state="any", building="pool") == [ids["stale"]]
        assert listed(dept, rule="comfort.too_cold") == [ids["cold"]]
        since = (T0 + timedelta(minutes=2)).isoformat()
        assert listed(dept, state="any", since=since) == [ids["school"], ids["stale"]]
        assert listed(dept, limit=1) == [ids["school"]]
        assert listed(dept, before_id=ids["school"]) == [ids["cold"]]
        forbidden = fm.get(f"{API}/alarms", params={"building": "pool"})
    assert forbidden.status_code == 403
    with ag.client("neighbourhood_scheme") as scheme:
        assert scheme.get(f"{API}/alarms").status_code == 403
        assert scheme.get(f"{API}/alarms/{ids['cold']}").status_code == 403
        assert scheme.get(f"{API}/alarms/summary").status_code == 403


def test_bad_filters_name_their_field(ag: AlarmGateway) -> None:
    with ag.client("admin") as c:
        for params, field in (
            ({"severity": "dire"}, "severity"),
            ({"state": "asleep"}, "state"),
            ({"since": "yesterday"}, "since"),
            ({"since": "2026-03-01T00:00:00"}, "since"),  # no offset
            ({"limit": 0}, "limit"),
        ):
            response = c.get(f"{API}/alarms", params=params)
            assert response.status_code == 422, params
            assert response.json()["field"] == field


def test_an_alarm_with_its_evidence_and_history(ag: AlarmGateway, ids: dict[str, int]) -> None:
    with ag.client("facility_manager") as fm:
        alarm = fm.get(f"{API}/alarms/{ids['cold']}").json()
        other = fm.get(f"{API}/alarms/{ids['school']}")
        missing = fm.get(f"{API}/alarms/999999")
    assert (alarm["rule"], alarm["building"], alarm["subject"]) == (
        "comfort.too_cold",
        "town-hall",
        "zone-1",
    )
    assert (alarm["severity"], alarm["state"]) == ("major", "active")
    assert alarm["points"] == ["larissa/town-hall/zone-1/temperature"]
    assert datetime.fromisoformat(alarm["first_seen"]) == T0
    (series,) = alarm["evidence"]["series"]
    assert series["values"] == [19.5, 18.1, 17.2]
    assert [datetime.fromisoformat(t) for t in series["times"]] == [
        T0 - timedelta(minutes=30),
        T0 - timedelta(minutes=15),
        T0,
    ]
    assert alarm["evidence"]["figures"] == {"band_low_c": 20.0, "duration_min": 45.0}
    assert [(e["kind"], e["actor"]) for e in alarm["events"]] == [("raised", "rules")]
    # another building's alarm is as unknown to him as an id that does not exist
    assert other.status_code == missing.status_code == 404


def test_acknowledging_is_for_operators_of_the_building_and_is_audited(
    ag: AlarmGateway, peers: PeerServers
) -> None:
    key = AlarmKey("control.override_forgotten", "town-hall", "ahu-1")
    alarm_id = ag.db.raise_(key, T0)
    school_id = ag.db.raise_(AlarmKey("control.fallback_plan", "school-1", ""), T0)
    path = f"{API}/alarms/{alarm_id}/acknowledge"
    with ag.client("facility_manager") as fm, ag.client("energy_department") as dept:
        assert dept.post(path, json={"comment": "seen"}).status_code == 403
        too_long = fm.post(path, json={"comment": "x" * 2001})
        unknown = fm.post(path, json={"comment": "ok", "by": "someone else"})
        other = fm.post(f"{API}/alarms/{school_id}/acknowledge", json={})
        done = fm.post(path, json={"comment": "override kept for the concert tonight"})
        again = fm.post(path, json={"comment": "twice"})
        shown = fm.get(f"{API}/alarms/{alarm_id}").json()
        audit = fm.get(f"{API}/audit", params={"building": "town-hall"}).json()
    assert (too_long.status_code, too_long.json()["field"]) == (422, "comment")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "by")
    assert other.status_code == 404
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_by"].startswith("key:")
    assert body["acknowledged_comment"] == "override kept for the concert tonight"
    assert again.status_code == 409
    assert [e["kind"] for e in shown["events"]] == ["raised", "acknowledged"]
    entry = next(a for a in audit if a["action"] == "alarm.acknowledge")
    assert entry["detail"]["alarm"] == alarm_id
    assert entry["detail"]["comment"] == "override kept for the concert tonight"
    assert entry["actor"] == body["acknowledged_by"]
    # acknowledged, still open; its rule may clear it, and no one acknowledges a cleared one
    ag.db.clear(key, T0 + timedelta(minutes=5))
    with ag.client("admin") as admin:
        assert admin.post(path, json={}).status_code == 409
        assert admin.get(f"{API}/alarms/{alarm_id}").json()["state"] == "cleared"


def test_open_counts_per_building_and_severity(ag: AlarmGateway, ids: dict[str, int]) -> None:
    with ag.client("facility_manager") as fm, ag.client("admin") as admin:
        mine = fm.get(f"{API}/alarms/summary").json()
        everyone = admin.get(f"{API}/alarms/summary").json()
    cold = {"info": 0, "warning": 0, "major": 1, "critical": 0}
    assert mine == [{"building": "town-hall", "open": 1, "counts": cold}]
    school = next(c for c in everyone if c["building"] == "school-1")
    assert school["counts"]["critical"] == 1
    assert "pool" not in {c["building"] for c in everyone}  # its only alarm cleared


def wait_delivered(c: httpx.Client, hook_id: int, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        log: list[dict[str, Any]] = c.get(f"{API}/webhooks/{hook_id}/deliveries").json()
        done = [d for d in log if d["status"] == "delivered"]
        if len(done) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_raise_and_clear_are_signed_webhooks_for_those_who_may_read_them(
    ag: AlarmGateway,
) -> None:
    receiver = Receiver([])
    key = AlarmKey("energy.after_hours", "town-hall", "")
    try:
        with ag.client("facility_manager") as fm, ag.client("admin") as admin:
            created = fm.post(
                f"{API}/webhooks",
                json={"url": receiver.url, "events": ["alarm.raised", "alarm.cleared"]},
            ).json()
            ag.db.raise_(AlarmKey("energy.after_hours", "pool", ""), T0)  # not his building
            alarm_id = ag.db.raise_(key, T0)
            ag.db.clear(key, T0 + timedelta(hours=1))
            receiver.wait_for(2)
            log = wait_delivered(fm, created["id"], 2)
            assert admin.get(f"{API}/alarms/{alarm_id}").status_code == 200
            fm.delete(f"{API}/webhooks/{created['id']}")
    finally:
        receiver.close()
    assert len(receiver.received) == 2
    assert sorted(d["event"] for d in log) == ["alarm.cleared", "alarm.raised"]
    events = []
    for headers, body in receiver.received:
        ts = int(headers["X-Polis-Timestamp"])
        assert verify(created["secret"], ts, body, headers["X-Polis-Signature"], now=time.time())
        events.append(json.loads(body))
    raised, cleared = sorted(events, key=lambda e: e["event"] != "alarm.raised")
    assert (raised["event"], cleared["event"]) == ("alarm.raised", "alarm.cleared")
    assert raised["data"]["id"] == cleared["data"]["id"] == alarm_id
    assert raised["data"]["building"] == "town-hall"
    assert (raised["data"]["state"], cleared["data"]["state"]) == ("active", "cleared")
    assert cleared["data"]["cleared_at"] is not None
    assert raised["data"]["severity"] == "major"


def test_alarms_survive_a_restart_and_are_not_raised_twice(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("alarms-restart") / "gw.db"
    settings = gateway_settings(path, peers.addresses, gateway_alarm_evaluation=False)
    with run_gateway(settings, MemoryStore([])) as gw:
        db = AlarmDb(path)
        first = db.raise_(COLD, T0)
        with gw.client(gw.admin_key) as c:
            before = c.get(f"{API}/alarms/{first}").json()
    with run_gateway(settings, MemoryStore([])) as gw:
        # the same raise again after the restart (a leader re-deriving it) opens nothing new
        later = assessment(COLD, T0 + timedelta(minutes=1))
        again = db.apply(Transition(TransitionKind.RAISED, later))
        with gw.client(gw.admin_key) as c:
            after = c.get(f"{API}/alarms", params={"state": "any"}).json()
        db.close()
    assert again == []
    assert [a["id"] for a in after] == [first]
    assert after[0]["first_seen"] == before["first_seen"]
    assert datetime.fromisoformat(after[0]["last_seen"]) == T0 + timedelta(minutes=1)
