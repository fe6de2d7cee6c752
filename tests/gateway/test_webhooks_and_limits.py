"""Signed webhook deliveries checked by a real local receiver; per-key rate limits (429)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from polis.gateway.domain.webhooks import verify

from .conftest import Env, create_keys
from .fakes import MemoryStore, PeerServers
from .server import gateway_settings, run_gateway

pytestmark = pytest.mark.integration

API = "/api/v1"


class Receiver:
    """An HTTP receiver on loopback that answers with scripted status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.received.append((dict(self.headers), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def test_rate_limit_answers_429_with_retry_after(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = gateway_settings(
        tmp_path_factory.mktemp("limits") / "gw.db",
        peers.addresses,
        rate_limit_per_s=0.01,
        rate_limit_burst=3,
    )
    with run_gateway(settings, MemoryStore([])) as gw:
        with httpx.Client(base_url=gw.base_url, headers={"X-API-Key": gw.admin_key}) as c:
            codes = [c.get(f"{API}/keys").status_code for _ in range(4)]
            limited = c.get(f"{API}/keys")
        assert codes == [200, 200, 200, 429]
        assert limited.headers["content-type"] == "application/problem+json"
        # 1 token at 0.01/s: about 100 s to wait.
        assert 90 <= int(limited.headers["retry-after"]) <= 101


def test_each_key_has_its_own_bucket(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = gateway_settings(
        tmp_path_factory.mktemp("limits2") / "gw.db",
        peers.addresses,
        rate_limit_per_s=0.01,
        rate_limit_burst=8,
    )
    with run_gateway(settings, MemoryStore([])) as gw:
        keys = create_keys(gw)  # uses three of the admin key's eight tokens
        with httpx.Client(
            base_url=gw.base_url, headers={"X-API-Key": keys["energy_department"]}
        ) as c:
            codes = [c.get(f"{API}/keys").status_code for _ in range(9)]
    # energy_department may not list keys (403), but each call still spends a token first.
    assert codes == [403] * 8 + [429]
