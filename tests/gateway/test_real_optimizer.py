"""The gateway in front of the real optimizer servicer (OR-Tools), not a canned one.

The optimizer runs on a grpc.aio server in its own thread and event loop, planning one
building with a deferrable pump under a time-of-use tariff; the gateway must relay its plan,
its expected savings and its mode changes unaltered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from polis.planning.v1 import planning_pb2 as pb
from polis.planning.v1 import planning_pb2_grpc as pb_grpc

from .conftest import create_keys
from .fakes import MemoryStore, PeerServers
from .server import Running, grpc_in_thread, own_gateway

pytestmark = pytest.mark.integration

optimizer = pytest.importorskip("polis.optimizer.grpc_service")
from polis.optimizer.domain import (  # noqa: E402
    Building,
    DeferrableLoad,
    Horizon,
    Neighbourhood,
    SlotTariff,
)
from polis.optimizer.planner import Planner, UnknownScope  # noqa: E402
from polis.optimizer.solve import SolverParams  # noqa: E402

API = "/api/v1"
SLOTS = 8
PRICES = (0.3, 0.3, 0.1, 0.3, 0.3, 0.3, 0.1, 0.3)


def now() -> datetime:
    return datetime.now(UTC)


def source(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    if scope != "town-hall":
        raise UnknownScope(scope)
    pump = DeferrableLoad("pump", power_kw=2.0, earliest=0, latest=slots, run_slots=2)
    return Building(
        id="town-hall",
        neighbourhood="centre",
        horizon=Horizon(start=start, slots=slots),
        tariff=SlotTariff(
            import_eur_per_kwh=PRICES[:slots],
            feed_in_eur_per_kwh=(0.0,) * slots,
            co2_kg_per_kwh=(0.4,) * slots,
            demand_charge_eur_per_kw=0.0,
            contracted_peak_kw=None,
        ),
        base_load_kw=(1.0,) * slots,
        pv_kw=(0.0,) * slots,
        loads=(pump,),
    )


@pytest.fixture(scope="module")
def optimizer_address() -> Iterator[str]:
    def register(server: grpc.aio.Server) -> None:
        planner = Planner(source, SolverParams(time_limit_s=5, num_workers=1))
        servicer = optimizer.OptimizerServicer(planner, now)
        pb_grpc.add_OptimizerServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]

    service = pb.DESCRIPTOR.services_by_name["Optimizer"].full_name
    with grpc_in_thread(register, [service]) as address:
        yield address


@pytest.fixture(scope="module")
def gateway(
    optimizer_address: str, peers: PeerServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Running, dict[str, str]]]:
    addresses = {**peers.addresses, "optimizer": optimizer_address}
    with own_gateway(tmp_path_factory, "real-opt", addresses, MemoryStore([])) as gw:
        yield gw, create_keys(gw)


def current_plan(address: str) -> pb.Plan:
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.OptimizerStub(channel)  # type: ignore[no-untyped-call]
        plan: pb.Plan = stub.GetCurrentPlan(
            pb.GetCurrentPlanRequest(building="town-hall"), timeout=30
        )
        return plan


def test_plan_and_mode_through_the_gateway(
    optimizer_address: str, gateway: tuple[Running, dict[str, str]]
) -> None:
    gw, keys = gateway
    with gw.client(keys["facility_manager"], timeout=30) as c:
        solved = c.post(
            f"{API}/buildings/town-hall/plan", json={"horizon_slots": SLOTS, "time_limit_s": 5}
        ).json()
        stored = current_plan(optimizer_address)
        plan = c.get(f"{API}/buildings/town-hall/plan").json()
        changed = c.put(f"{API}/buildings/town-hall/mode", json={"mode": "apply"})
        after = c.get(f"{API}/buildings/town-hall/plan").json()
    # The pump moves into the two cheap slots (2 and 6) instead of running at once.
    pump = next(load for load in plan["loads"] if load["load_id"] == "pump")
    assert pump["power_kw"] == [0, 0, 2, 0, 0, 0, 2, 0]
    assert solved["status"] == "optimal"
    assert solved["plan"]["loads"] == plan["loads"]
    assert plan["expected_savings"]["cost_eur"] == pytest.approx(
        stored.baseline.cost_eur - stored.planned.cost_eur
    )
    # Two 2 kW slots over 15 minutes, each 0.20 €/kWh cheaper than the timer's slots.
    assert plan["expected_savings"]["cost_eur"] == pytest.approx(2 * 2 * 0.25 * 0.2)
    start = datetime.fromisoformat(plan["start"])
    assert timedelta(0) <= now() - start < timedelta(minutes=16)
    assert changed.status_code == 200
    assert (plan["mode"], after["mode"]) == ("dry_run", "apply")


def test_unknown_building_plan_is_404_from_the_optimizer(
    gateway: tuple[Running, dict[str, str]],
) -> None:
    gw, keys = gateway
    with gw.client(keys["admin"]) as c:
        response = c.get(f"{API}/buildings/pool/plan")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("optimizer:")
