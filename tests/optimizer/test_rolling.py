"""Rolling horizon: dry-run only plans; apply writes the current slot through the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from optimizer.helpers import building
from polis.common.clock import Clock
from polis.control.v1 import control_pb2 as cpb
from polis.control.v1 import control_pb2_grpc as cpb_grpc
from polis.optimizer.commands import AdapterClient
from polis.optimizer.domain import Building, DeferrableLoad, Horizon, Neighbourhood, Plan
from polis.optimizer.plan_store import plan_samples
from polis.optimizer.planner import Mode, Planner
from polis.optimizer.rolling import RollingHorizon
from polis.optimizer.solve import SolverParams

pytestmark = pytest.mark.integration

T0 = datetime(2025, 1, 15, 0, 0, tzinfo=UTC)


def source(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    # cheapest slots are "now" (index 0) and index 1: the pump should run immediately
    prices = [0.1, 0.1] + [0.3] * (slots - 2)
    pump = DeferrableLoad(
        "pump", power_kw=2.0, earliest=0, latest=slots, run_slots=2, baseline_start=4
    )
    b: Building = building(prices, (pump,), base=1.0)
    return replace(b, id=scope, horizon=Horizon(start=start, slots=slots))


class FakeAdapter(cpb_grpc.AdapterControlServicer):
    def __init__(self) -> None:
        self.writes: list[cpb.WriteCommandRequest] = []

    async def WriteCommand(self, request, context):  # type: ignore[no-untyped-def]
        self.writes.append(request)
        return cpb.WriteCommandResponse(
            status=cpb.WRITE_STATUS_APPLIED,
            requested_value=request.value,
            present_value=request.value,
        )


class ListSink:
    def __init__(self) -> None:
        self.plans: list[Plan] = []

    def store(self, plans: Iterable[Plan]) -> int:
        self.plans.extend(plans)
        return 0


@pytest.fixture
async def adapter() -> AsyncIterator[tuple[FakeAdapter, str]]:
    fake = FakeAdapter()
    server = grpc.aio.server()
    cpb_grpc.add_AdapterControlServicer_to_server(fake, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield fake, f"127.0.0.1:{port}"
    await server.stop(None)


def loop(target: str, sink: ListSink, mode: str) -> RollingHorizon:
    planner = Planner(source, SolverParams(time_limit_s=5, num_workers=1))
    planner.set_mode("pool", mode)
    return RollingHorizon(
        planner=planner,
        scopes=["pool"],
        clock=Clock(T0, T0, 60.0),
        points={"pool": {"pump": "pool/pump1/run"}},
        sink=sink,
        adapter=AdapterClient(target, deadline_s=2.0),
        horizon_slots=8,
    )


async def test_apply_mode_writes_the_current_slot(adapter: tuple[FakeAdapter, str]) -> None:
    fake, target = adapter
    sink = ListSink()
    rolling = loop(target, sink, Mode.APPLY)
    accepted = await rolling.step(T0 + timedelta(minutes=7))
    assert accepted == 1
    (write,) = fake.writes
    assert (write.point_id, write.value) == ("pool/pump1/run", 1.0)
    assert write.duration.ToTimedelta() == timedelta(minutes=15)
    assert sink.plans[0].horizon.start == T0
    # the next step re-plans from the next slot with a fresh horizon
    await rolling.step(T0 + timedelta(minutes=15))
    assert sink.plans[1].horizon.start == T0 + timedelta(minutes=15)


async def test_dry_run_only_plans(adapter: tuple[FakeAdapter, str]) -> None:
    fake, target = adapter
    sink = ListSink()
    assert await loop(target, sink, Mode.DRY_RUN).step(T0) == 0
    assert fake.writes == []
    assert len(sink.plans) == 1


async def test_keeps_planning_when_the_adapter_is_down() -> None:
    sink = ListSink()
    rolling = loop("127.0.0.1:1", sink, Mode.APPLY)  # nothing listens on port 1
    assert await rolling.step(T0) == 0
    assert await rolling.step(T0 + timedelta(minutes=15)) == 0
    assert len(sink.plans) == 2


def test_plan_samples_use_the_plan_measurement() -> None:
    plan_source = source("pool", T0, 4)
    assert isinstance(plan_source, Building)
    from polis.optimizer.solve import solve_building

    plan = solve_building(plan_source, SolverParams(time_limit_s=5, num_workers=1)).plans[0]
    samples = plan_samples(plan)
    pump = [s for s in samples if s.tags["load"] == "pump"]
    assert [s.fields["power_kw"] for s in pump] == [2.0, 2.0, 0.0, 0.0]
    assert pump[0].measurement == "plan"
    assert pump[0].tags["building"] == "pool"
