"""Peers down: affected endpoints answer 503 with Retry-After, the rest keeps working."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .conftest import create_keys, make_rows
from .fakes import MemoryStore, PeerServers
from .server import Running, own_gateway
from .test_api import RANGE, report_params

pytestmark = pytest.mark.integration

API = "/api/v1"


def closed_port() -> str:
    """A loopback address nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(scope="module")
def degraded(
    peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, dict[str, str], MemoryStore]]:
    addresses = {**peers.addresses, "optimizer": closed_port(), "savings": closed_port()}
    store = MemoryStore(make_rows())
    with own_gateway(
        tmp_path_factory, "degraded", addresses, store, grpc_deadline_s=1.0, peer_retry_after_s=7
    ) as gw:
        yield gw, create_keys(gw), store


def test_optimizer_and_savings_down_give_503_with_retry_after(degraded) -> None:  # type: ignore[no-untyped-def]
    gw, keys, _ = degraded
    with gw.client(keys["admin"], timeout=20) as c:
        plan = c.get(f"{API}/buildings/town-hall/plan")
        report = c.get(f"{API}/savings/report", params=report_params("building", "town-hall"))
        buildings = c.get(f"{API}/buildings")
        readings = c.get(f"{API}/readings", params={**RANGE, "building": "pool"})
        aggregate = c.get(f"{API}/neighbourhoods/centre/aggregate")
    for response, service in ((plan, "optimizer"), (report, "savings")):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"
        assert response.json()["service"] == service
    assert buildings.status_code == 200
    assert len(buildings.json()) == 3
    assert readings.status_code == 200
    assert readings.json()["items"]
    # The aggregate still answers, without the optimizer's part.
    assert aggregate.status_code == 200
    assert aggregate.json()["flexibility_kw"] is None
    assert aggregate.json()["load_kw"] is not None


def test_readings_store_down_is_503(degraded) -> None:  # type: ignore[no-untyped-def]
    gw, keys, store = degraded
    store.down = True
    try:
        with gw.client(keys["admin"]) as c:
            response = c.get(f"{API}/readings/last", params={"building": "pool"})
    finally:
        store.down = False
    assert response.status_code == 503
    assert response.json()["service"] == "influxdb"


def test_catalogue_survives_adapter_outage(tmp_path_factory: pytest.TempPathFactory) -> None:
    own = PeerServers()
    try:
        with own_gateway(
            tmp_path_factory,
            "outage",
            own.addresses,
            MemoryStore([]),
            catalogue_ttl_s=0.0,
            grpc_deadline_s=1.0,
        ) as gw:
            keys = create_keys(gw)
            with gw.client(keys["admin"]) as c:
                before = c.get(f"{API}/buildings").json()
                own.servers["adapter"].stop(grace=None)
                after = c.get(f"{API}/buildings")
        assert after.status_code == 200
        assert after.json() == before
    finally:
        own.stop()


def test_no_catalogue_yet_and_adapter_down_is_503(tmp_path_factory: pytest.TempPathFactory) -> None:
    addresses = {"adapter": closed_port(), "optimizer": closed_port(), "savings": closed_port()}
    with (
        own_gateway(
            tmp_path_factory, "cold", addresses, MemoryStore([]), grpc_deadline_s=1.0
        ) as gw,
        gw.client(gw.admin_key) as c,
    ):
        response = c.get(f"{API}/buildings")
        keys = c.get(f"{API}/keys")
    assert response.status_code == 503
    assert response.json()["service"] == "adapter"
    assert keys.status_code == 200  # gateway state needs no peer
