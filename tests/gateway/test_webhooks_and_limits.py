"""Signed webhook deliveries checked by a real local receiver; per-key rate limits (429)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from email.message import Message

import pytest

from polis.gateway.domain.webhooks import verify

from .conftest import Env, create_keys
from .fakes import HookReceiver, MemoryStore, PeerServers
from .server import Running, own_gateway

pytestmark = pytest.mark.integration

API = "/api/v1"


class Receiver(HookReceiver):
    """Answers with scripted status codes, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        super().__init__()
        self.url = f"{self.base}/hook"

    def answer(self, path: str, headers: Message, body: bytes) -> int:
        with self.arrived:
            self.received.append((dict(headers), body))
            status = self.statuses.pop(0) if self.statuses else 200
            self.arrived.notify_all()
        return status

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver([503, 200])  # the first attempt fails: the dispatcher must retry
    yield r
    r.close()


def test_signed_delivery_is_verified_and_retried(env: Env, receiver: Receiver) -> None:
    with env.client("facility_manager") as c:
        created = c.post(
            f"{API}/webhooks", json={"url": receiver.url, "events": ["plan.mode_changed"]}
        )
        assert created.status_code == 201, created.text
        secret, hook_id = created.json()["secret"], created.json()["id"]
        assert "secret" not in c.get(f"{API}/webhooks").json()[0]
        assert c.put(f"{API}/buildings/town-hall/mode", json={"mode": "apply"}).status_code == 200
        receiver.wait_for(2)
        deadline = time.monotonic() + 20
        while True:
            log = c.get(f"{API}/webhooks/{hook_id}/deliveries").json()
            if (log and log[0]["status"] == "delivered") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        c.delete(f"{API}/webhooks/{hook_id}")
    first, second = receiver.received[0], receiver.received[1]
    assert first[1] == second[1]  # the same payload, re-signed per attempt
    for headers, body in receiver.received[:2]:
        ts = int(headers["X-Polis-Timestamp"])
        assert verify(secret, ts, body, headers["X-Polis-Signature"], now=time.time())
        assert not verify("wrong-secret", ts, body, headers["X-Polis-Signature"], now=time.time())
    payload = json.loads(second[1])
    assert payload["event"] == "plan.mode_changed"
    assert payload["data"]["building"] == "town-hall"
    assert payload["data"]["mode"] == "apply"
    assert log[0]["status"] == "delivered"
    assert log[0]["attempts"] == 2


def test_webhooks_only_carry_events_the_owner_may_see(env: Env, receiver: Receiver) -> None:
    with env.client("facility_manager") as fm, env.client("admin") as admin:
        hook = fm.post(
            f"{API}/webhooks", json={"url": receiver.url, "events": ["override.created"]}
        )
        hook_id = hook.json()["id"]
        # An override on a building the facility manager does not own: no delivery for them.
        admin.post(
            f"{API}/buildings/pool/overrides", json={"point_id": "pool/ahu-1/setpoint", "value": 20}
        )
        assert fm.get(f"{API}/webhooks/{hook_id}/deliveries").json() == []
        fm.delete(f"{API}/webhooks/{hook_id}")


def test_unknown_event_names_the_events_field(env: Env) -> None:
    with env.client("admin") as c:
        response = c.post(
            f"{API}/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["plan.exploded"]}
        )
    assert response.status_code == 422
    assert response.json()["field"] == "events"


def limited_gateway(
    tmp_path_factory: pytest.TempPathFactory, name: str, peers: PeerServers, burst: int
) -> AbstractContextManager[Running]:
    """A gateway whose keys get ``burst`` tokens, refilled one per 100 s: none within a test."""
    return own_gateway(
        tmp_path_factory,
        name,
        peers.addresses,
        MemoryStore([]),
        rate_limit_per_s=0.01,
        rate_limit_burst=burst,
    )


def test_rate_limit_answers_429_with_retry_after(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with limited_gateway(tmp_path_factory, "limits", peers, burst=3) as gw:
        with gw.client(gw.admin_key) as c:
            codes = [c.get(f"{API}/keys").status_code for _ in range(4)]
            limited = c.get(f"{API}/keys")
        assert codes == [200, 200, 200, 429]
        assert limited.headers["content-type"] == "application/problem+json"
        # 1 token at 0.01/s: about 100 s to wait.
        assert 90 <= int(limited.headers["retry-after"]) <= 101


def test_each_key_has_its_own_bucket(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with limited_gateway(tmp_path_factory, "limits2", peers, burst=8) as gw:
        keys = create_keys(gw)  # uses three of the admin key's eight tokens
        with gw.client(keys["energy_department"]) as c:
            codes = [c.get(f"{API}/keys").status_code for _ in range(9)]
    # energy_department may not list keys (403), but each call still spends a token first.
    assert codes == [403] * 8 + [429]
