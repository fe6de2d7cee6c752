"""Two gateway processes on one PostgreSQL: work done once per deployment, limits held by both.

Two real ``python -m polis.gateway`` processes share a throwaway PostgreSQL cluster and the
canned gRPC peers, as two replicas of one deployment do. A small HTTP receiver on loopback
answers the webhooks (503 to the first attempt of some, so retries are claimed too). The
tests check that every webhook is delivered exactly once whichever replica queued, claimed or
retried it, including ``plan.updated`` from the leader's plan watcher and after the leader is
killed; that a key's rate limit holds across both processes; and that a key revoked through
one replica is refused by the other.

In CI (CI=true) a missing PostgreSQL fails the suite; on a developer machine it skips.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from polis.gateway.security import keys as key_codec

from .fakes import OPERATOR_HOLDS, HookReceiver, Optimizer, PeerServers, Recorder, _ts
from .server import JWT_SECRET

pytestmark = pytest.mark.integration

API = "/api/v1"
BURST = 20  # every key's burst: the limit the rate-limit test counts against
LEASE_S = 2.0
BUILDINGS = ("pool", "school-1", "town-hall")
PLANNED_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
EVENTS = ["alarm", "override.created", "plan.mode_changed", "plan.updated"]


class ReplanningOptimizer(Optimizer):
    """The canned optimizer, whose plans are re-created (a new ``created_at``) on demand only,
    not at each quarter hour as the canned ones are."""

    def __init__(self, rec: Recorder) -> None:
        super().__init__(rec)
        self.version = 0

    def GetCurrentPlan(self, request: Any, context: Any) -> Any:
        plan = super().GetCurrentPlan(request, context)
        plan.created_at.CopyFrom(_ts(PLANNED_AT + timedelta(minutes=self.version)))
        return plan


class Receiver(HookReceiver):
    """Answers 503 to the first attempt of every third delivery (by its id), 200 to the rest,
    and records everything."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes, int]] = []
        self.lock = threading.Lock()
        super().__init__()

    def answer(self, path: str, headers: Message, body: bytes) -> int:
        delivery = headers["X-Polis-Delivery"]
        with self.lock:
            seen = any(d == delivery for _, d, _, _ in self.received)
            status = 503 if int(delivery[0], 16) % 3 == 0 and not seen else 200
            self.received.append((path, delivery, body, status))
        return status

    def accepted(self) -> list[tuple[str, str, bytes]]:
        with self.lock:
            return [(p, d, b) for p, d, b, status in self.received if status == 200]


@dataclass
class Replica:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def webhook_lines(self) -> list[dict[str, Any]]:
        """The replica's logged delivery attempts (JSON log lines)."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"webhook delivery"' in line:
                lines.append(json.loads(line))
        return lines


@dataclass
class Deployment:
    replicas: list[Replica]
    admin_key: str
    database: sa.Engine
    peers: PeerServers

    def client(self, replica: int, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.replicas[replica].url, headers={"X-API-Key": key}, timeout=20
        )

    def create_key(self, **body: Any) -> str:
        with self.client(0, self.admin_key) as c:
            response = c.post(f"{API}/keys", json={"name": "replicas", **body})
        assert response.status_code == 201, response.text
        key: str = response.json()["key"]
        return key

    def scalar(self, query: str) -> Any:
        with self.database.connect() as connection:
            return connection.execute(sa.text(query)).scalar()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(name: str, env: dict[str, str], work: Path) -> Replica:
    port = _free_port()
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "polis.gateway"],
            env={**env, "POLIS_GATEWAY_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(name, f"http://127.0.0.1:{port}", process, log)


def _wait_ready(replica: Replica, deadline: float) -> None:
    while True:
        assert replica.process.poll() is None, replica.log.read_text()
        try:
            if httpx.get(f"{replica.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{replica.name} not ready:\n{replica.log.read_text()}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def deployment(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    rec = Recorder()
    peers = PeerServers(optimizer=ReplanningOptimizer(rec))
    work = tmp_path_factory.mktemp("replicas")
    admin = key_codec.generate_key().plaintext
    env = {
        **os.environ,
        "POLIS_GATEWAY_HOST": "127.0.0.1",
        "POLIS_GATEWAY_DATABASE_URL": postgres_url,
        "POLIS_JWT_SECRET": JWT_SECRET,
        "POLIS_BOOTSTRAP_ADMIN_KEY": admin,
        "POLIS_ADAPTER_ADDRESS": peers.addresses["adapter"],
        "POLIS_OPTIMIZER_ADDRESS": peers.addresses["optimizer"],
        "POLIS_SAVINGS_ADDRESS": peers.addresses["savings"],
        # Nothing here reads measurements: a port nobody listens on.
        "POLIS_INFLUX_URL": f"http://127.0.0.1:{_free_port()}",
        "POLIS_GRPC_DEADLINE_S": "2",
        "POLIS_RATE_LIMIT_PER_S": "200",
        "POLIS_RATE_LIMIT_BURST": str(BURST),
        "POLIS_WEBHOOK_BACKOFF_S": "0.05",
        "POLIS_WEBHOOK_MAX_ATTEMPTS": "5",
        "POLIS_WEBHOOK_TIMEOUT_S": "2",
        "POLIS_WEBHOOK_POLL_S": "0.1",
        "POLIS_PLAN_POLL_S": "0.2",
        "POLIS_LEADER_LEASE_S": str(LEASE_S),
        "POLIS_CACHE_SYNC_S": "0.2",
        "POLIS_LOG_FORMAT": "json",
        "POLIS_LOG_LEVEL": "INFO",
    }
    # Started together, as a rollout does: both migrate and create the bootstrap key at once.
    replicas = [_start(name, env, work) for name in ("a", "b")]
    database = sa.create_engine(postgres_url)
    try:
        deadline = time.monotonic() + 90
        for replica in replicas:
            _wait_ready(replica, deadline)
        yield Deployment(replicas, admin, database, peers)
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            try:
                replica.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait(timeout=10)
        database.dispose()
        peers.stop()


def _eventually(check: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until ``check`` held; fails after ``timeout_s``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout_s, f"not within {timeout_s} s: {what}"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.mark.timeout(120)
def test_a_rate_limit_holds_across_both_replicas(deployment: Deployment) -> None:
    # A bucket of BURST tokens refilled at 0.001/s: over this test, BURST requests and no more.
    key = deployment.create_key(role="energy_department", rate_per_s=0.001)
    extra = 10
    clients = [deployment.client(0, key), deployment.client(1, key)]

    def call(i: int) -> tuple[int, int, str | None]:
        response = clients[i % 2].get(f"{API}/me")
        return i % 2, response.status_code, response.headers.get("retry-after")

    try:
        # Warm both connections first: they count against the bucket like any request.
        warm = [call(0), call(1)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = warm + list(pool.map(call, range(BURST + extra - 2)))
    finally:
        for c in clients:
            c.close()
    codes = Counter(code for _, code, _ in results)
    per_replica = Counter(replica for replica, code, _ in results if code == 200)
    print(f"\nrate limit {BURST}: {dict(codes)} accepted per replica {dict(per_replica)}")
    assert codes == {200: BURST, 429: extra}
    assert set(per_replica) == {0, 1}  # both replicas took from the one bucket
    waits = [int(after) for _, code, after in results if code == 429 and after is not None]
    assert len(waits) == extra
    assert min(waits) >= 900  # a token every 1,000 s


@pytest.mark.timeout(60)
def test_a_key_revoked_through_one_replica_is_refused_by_the_other(
    deployment: Deployment,
) -> None:
    key = deployment.create_key(role="energy_department")
    key_id = key.split("_")[1]
    with deployment.client(1, key) as other:
        assert other.get(f"{API}/me").status_code == 200  # now in replica b's key cache
        with deployment.client(0, deployment.admin_key) as admin:
            assert admin.delete(f"{API}/keys/{key_id}").status_code == 204
        waited = _eventually(
            lambda: other.get(f"{API}/me").status_code == 401, 5.0, "revocation seen by b"
        )
    print(f"\nrevocation through a refused by b after {waited:.2f} s")


def _subscribe(deployment: Deployment, receiver: Receiver, count: int) -> None:
    with deployment.client(0, deployment.admin_key) as c:
        for n in range(count):
            hook = c.post(
                f"{API}/webhooks", json={"url": f"{receiver.base}/h{n}", "events": EVENTS}
            )
            assert hook.status_code == 201, hook.text


def _overrides(deployment: Deployment, key: str, count: int) -> int:
    """``count`` overrides spread over both replicas; every fourth is held by an operator
    (an alarm too). Returns how many events that makes."""
    events = 0
    clients = [deployment.client(0, key), deployment.client(1, key)]
    try:
        for i in range(count):
            held = i % 4 == 0
            value = OPERATOR_HOLDS if held else 20.0 + i % 5
            building = BUILDINGS[i % 3]
            response = clients[i % 2].post(
                f"{API}/buildings/{building}/overrides",
                json={"point_id": f"{building}/ahu-1/setpoint", "value": value},
            )
            assert response.status_code == 201, response.text
            events += 2 if held else 1
            mode = clients[(i + 1) % 2].put(
                f"{API}/buildings/{building}/mode",
                json={"mode": "apply" if i % 2 else "dry_run"},
            )
            assert mode.status_code == 200, mode.text
            events += 1
    finally:
        for c in clients:
            c.close()
    return events


def _leader(deployment: Deployment) -> Replica:
    holder = str(deployment.scalar("select holder from leader_leases where name = 'gateway'"))
    pid = int(holder.split(":")[1])
    return next(r for r in deployment.replicas if r.process.pid == pid)


@pytest.mark.timeout(150)
def test_each_webhook_is_delivered_exactly_once(deployment: Deployment) -> None:
    receiver = Receiver()
    subscriptions = 3
    optimizer = deployment.peers.optimizer
    assert isinstance(optimizer, ReplanningOptimizer)
    try:
        _subscribe(deployment, receiver, subscriptions)
        # The leader records the plans it has seen (announcing nothing on first sight).
        _eventually(
            lambda: deployment.scalar("select count(*) from plan_versions") == len(BUILDINGS),
            20,
            "first plans seen",
        )
        key = deployment.create_key(role="admin", rate_per_s=10_000)
        events = _overrides(deployment, key, 12)
        optimizer.version = 1  # new plans: plan.updated for every building, once
        events += len(BUILDINGS)
        expected = events * subscriptions
        _eventually(lambda: len(receiver.accepted()) >= expected, 60, "first deliveries")
        _eventually(
            lambda: (
                deployment.scalar(
                    "select count(*) from webhook_deliveries where status <> 'delivered'"
                )
                == 0
            ),
            10,
            "first deliveries recorded",
        )

        # Kill the leader mid-run, without releasing its lease: the other replica takes over
        # once the lease expires, and announces the next plans once.
        leader = _leader(deployment)
        leader.process.kill()
        leader.process.wait(timeout=10)
        survivor = next(r for r in deployment.replicas if r is not leader)
        optimizer.version = 2
        events += len(BUILDINGS)
        expected = events * subscriptions
        handover = _eventually(lambda: len(receiver.accepted()) >= expected, 60, "after failover")
        assert _leader(deployment) is survivor
        time.sleep(1.0)  # ten poll rounds of the surviving worker: time for any duplicate
        with deployment.database.connect() as connection:
            statuses = connection.execute(sa.text("select status from webhook_deliveries"))
            counts = Counter(str(status) for status in statuses.scalars())
    finally:
        receiver.close()

    accepted = receiver.accepted()
    per_delivery = Counter(delivery for _, delivery, _ in accepted)
    per_event = Counter((path, body) for path, _, body in accepted)
    plans = Counter(
        (path, json.loads(body)["data"]["building"], json.loads(body)["data"]["created_at"])
        for path, _, body in accepted
        if json.loads(body)["event"] == "plan.updated"
    )
    attempts = len(receiver.received)
    sent = {r.name: len(r.webhook_lines()) for r in deployment.replicas}
    print(
        f"\nwebhooks: {events} events x {subscriptions} subscriptions = {expected} deliveries; "
        f"{len(accepted)} accepted, {attempts} POSTs ({attempts - len(accepted)} answered 503 "
        f"and retried); attempts logged per replica {sent}; leader handover "
        f"{handover:.2f} s after the kill; delivery rows {dict(counts)}"
    )
    assert len(accepted) == expected
    assert max(per_delivery.values()) == 1  # no delivery id accepted twice
    assert max(per_event.values()) == 1  # no event body accepted twice at one subscription
    assert len(plans) == 2 * len(BUILDINGS) * subscriptions
    assert max(plans.values()) == 1  # each new plan announced once per subscription
    assert counts == {"delivered": expected}
    assert all(sent.values())  # both replicas sent deliveries
