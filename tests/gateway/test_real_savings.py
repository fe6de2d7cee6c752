"""CSV import and a savings report through the gateway, served by the real savings service.

The savings servicer runs on a grpc.aio server in its own thread and event loop with an
in-memory meter store. A synthetic building whose consumption drops by 12 % at a known date
is imported as CSV through the gateway; the report must find that drop.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from polis.mv.v1 import savings_pb2_grpc

from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import Running, grpc_in_thread, own_gateway

pytest.importorskip("polis.savings.grpc_servicer")
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
    sites = SiteDirectory({"town-hall": Site("town-hall", "centre", "larissa")})
    app = SavingsApp(MemoryMeterStore(), sites, MeasurementOptions())

    def register(server: grpc.aio.Server) -> None:
        savings_pb2_grpc.add_SavingsServicer_to_server(SavingsServicer(app), server)  # type: ignore[no-untyped-call]

    with grpc_in_thread(register, [SERVICE_NAME]) as address:
        yield address


@pytest.fixture(scope="module")
def gateway(
    savings_address: str, peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, dict[str, str]]]:
    addresses = {**peers.addresses, "savings": savings_address}
    with own_gateway(
        tmp_path_factory, "real-savings", addresses, MemoryStore([]), grpc_deadline_s=15.0
    ) as gw:
        yield gw, create_keys(gw)


def test_imported_history_yields_the_known_savings(gateway: tuple[Running, dict[str, str]]) -> None:
    gw, keys = gateway
    with gw.client(keys["energy_department"], timeout=120) as c:
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
    with gw.client(keys["admin"]) as c:
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
