"""CSV import and a savings report through the gateway, served by the real savings service.

The savings servicer runs on a grpc.aio server in its own thread and event loop with an
in-memory meter store. A synthetic building whose consumption drops by 12 % at a known date
is imported as CSV through the gateway; the report must find that drop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from polis.mv.v1 import savings_pb2_grpc

from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import Running, gateway_settings, run_gateway

pytest.importorskip("polis.savings.grpc_servicer")
from polis.common.grpc_server import start_grpc_server
from polis.savings.application import SavingsApp
from polis.savings.grpc_servicer import SERVICE_NAME, SavingsServicer
from polis.savings.measurement import MeasurementOptions
from polis.savings.sites import Site, SiteDirectory
from polis.savings.store import MemoryMeterStore
from polis.savings.synthetic import SyntheticBuilding, synthetic_building

pytestmark = pytest.mark.integration

API = "/api/v1"
START = datetime(2024, 12, 31, 22, tzinfo=UTC)
SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
END = datetime(2026, 3, 31, 21, tzinfo=UTC)
REDUCTION = 0.12


def csv_text() -> str:
    hours = int((END - START).total_seconds() // 3600)
    data = synthetic_building(START, hours, 7, SyntheticBuilding(base_kw=20), REDUCTION, SWITCH)
    lines = ["meter_id,timestamp,value,unit"]
    for i, (e, c) in enumerate(
        zip(data.series.energy_kwh.tolist(), data.series.temperature_c.tolist(), strict=True)
    ):
        t = (START + timedelta(hours=i)).isoformat()
        lines.append(f"town-hall/main/energy,{t},{e:.3f},kWh")
        lines.append(f"town-hall/weather/outdoor_temperature,{t},{c:.2f},degC")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def savings_address() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()
    holder: dict[str, int] = {}
    sites = SiteDirectory({"town-hall": Site("town-hall", "centre", "larissa")})
    app = SavingsApp(MemoryMeterStore(), sites, MeasurementOptions())

    async def serve() -> None:
        server = await start_grpc_server(
            lambda s: savings_pb2_grpc.add_SavingsServicer_to_server(  # type: ignore[no-untyped-call]
                SavingsServicer(app), s
            ),
            [SERVICE_NAME],
        )
        holder["port"] = server.port
        ready.set()
        await stop.wait()
        await server.stop(0)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    yield f"127.0.0.1:{holder['port']}"
    loop.call_soon_threadsafe(stop.set)
    thread.join(15)


@pytest.fixture(scope="module")
def gateway(
    savings_address: str, peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, dict[str, str]]]:
    addresses = {**peers.addresses, "savings": savings_address}
    settings = gateway_settings(
        tmp_path_factory.mktemp("real-savings") / "gw.db", addresses, grpc_deadline_s=15.0
    )
    with run_gateway(settings, MemoryStore([])) as gw:
        yield gw, create_keys(gw)


def test_imported_history_yields_the_known_savings(gateway: tuple[Running, dict[str, str]]) -> None:
    gw, keys = gateway
    with httpx.Client(
        base_url=gw.base_url, headers={"X-API-Key": keys["energy_department"]}, timeout=120
    ) as c:
        imported = c.post(
            f"{API}/imports/csv",
            params={"source": "synthetic meter export"},
            content=csv_text().encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        report = c.get(
            f"{API}/savings/report",
            params={
                "scope": "building",
                "id": "town-hall",
                "baseline_start": START.isoformat(),
                "baseline_end": SWITCH.isoformat(),
                "reporting_start": SWITCH.isoformat(),
                "reporting_end": END.isoformat(),
            },
        )
        assert report.status_code == 200, report.text
        audit = c.get(f"{API}/audit").json()
    hours = int((END - START).total_seconds() // 3600)
    assert imported.json()["rows"] == 2 * hours
    total = next(p for p in report.json()["total"] if p["period"] == "total")
    assert total["fractional_savings"] == pytest.approx(REDUCTION, abs=0.03)
    assert total["avoided_kwh"] == pytest.approx(total["baseline_kwh"] - total["actual_kwh"])
    assert report.json()["buildings"][0]["statistics"]["accepted"] is True
    assert any(e["action"] == "import.csv" and e["outcome"] == "ok" for e in audit)


def test_row_errors_from_the_real_validator_name_the_field(
    gateway: tuple[Running, dict[str, str]],
) -> None:
    gw, keys = gateway
    bad = "meter_id,timestamp,value,unit\ntown-hall/main/energy,2026-01-01T00:00:00Z,lots,kWh\n"
    with httpx.Client(base_url=gw.base_url, headers={"X-API-Key": keys["admin"]}) as c:
        response = c.post(
            f"{API}/imports/csv",
            params={"source": "typo"},
            content=bad.encode(),
            headers={"Content-Type": "text/csv"},
        )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["line"] == 2
    assert body["field"] == body["errors"][0]["field"] == "value"
