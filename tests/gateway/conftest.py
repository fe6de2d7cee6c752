"""Fixtures: canned gRPC peers, an in-memory readings store, and the real gateway over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from polis.common.influx import Sample, to_ns
from polis.gateway.db.engine import make_engine, migrate

from .fakes import MemoryStore, PeerServers, catalogue_points
from .postgres import PostgresMissing, throwaway_cluster
from .server import Running, own_gateway

# Three hours of 5-minute data ending before now: "last value" queries look back 30 days.
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
STEP = timedelta(minutes=5)
SAMPLES = 36  # three hours


def power_value(building_index: int, i: int) -> float:
    return 10.0 * (building_index + 1) + i


def pv_value(i: int) -> float:
    return -2.0 - i * 0.5  # exported, negative at the meter


def make_rows() -> list[tuple[str, datetime, float]]:
    rows = []
    for b, building in enumerate(("town-hall", "school-1", "pool")):
        for i in range(SAMPLES):
            rows.append((f"{building}/main-meter/power", T0 + i * STEP, power_value(b, i)))
            rows.append((f"{building}/main-meter/energy", T0 + i * STEP, 1000.0 + i))
    for i in range(SAMPLES):
        rows.append(("town-hall/pv-inverter/power", T0 + i * STEP, pv_value(i)))
    return rows


def reading_samples(shift: timedelta = timedelta(0)) -> list[Sample]:
    """:func:`make_rows` as the adapter writes them to InfluxDB, moved by ``shift``."""
    info = {p.id: p for p in catalogue_points()}
    samples = []
    for point_id, at, value in make_rows():
        p = info[point_id]
        tags = {
            "municipality": p.municipality,
            "neighbourhood": p.neighbourhood,
            "building": p.building,
            "device": p.device,
            "point": p.id,
            "quantity": "active_energy" if point_id.endswith("energy") else "active_power",
            "unit": p.unit,
            "quality": "good",
        }
        samples.append(Sample("reading", tags, {"value": value}, to_ns(at + shift)))
    return samples


@dataclass
class Env:
    gw: Running
    peers: PeerServers
    store: MemoryStore
    keys: dict[str, str]

    def client(self, role: str | None = None, **kw: object) -> httpx.Client:
        return self.gw.client(self.keys[role] if role else None, timeout=20, **kw)


ROLE_KEYS = {
    "admin": None,
    "energy_department": {"role": "energy_department"},
    "facility_manager": {"role": "facility_manager", "buildings": ["town-hall"]},
    "neighbourhood_scheme": {"role": "neighbourhood_scheme", "neighbourhood": "centre"},
}


def create_keys(gw: Running) -> dict[str, str]:
    out = {"admin": gw.admin_key}
    with gw.client(gw.admin_key) as c:
        for role, body in ROLE_KEYS.items():
            if body is None:
                continue
            response = c.post("/api/v1/keys", json={"name": role, **body})
            assert response.status_code == 201, response.text
            out[role] = response.json()["key"]
    return out


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database of the gateway's own (a module may define its own)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def peers() -> Iterator[PeerServers]:
    servers = PeerServers()
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the module. In CI (CI=true) a missing PostgreSQL
    fails the suite; on a developer machine it skips."""
    try:
        with throwaway_cluster() as url:
            yield url
    except PostgresMissing as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def env(peers: PeerServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    store = MemoryStore(make_rows())
    with own_gateway(tmp_path_factory, "gw", peers.addresses, store) as gw:
        yield Env(gw, peers, store, create_keys(gw))
