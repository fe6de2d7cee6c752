"""The Optimizer servicer on a real grpc.aio server bound to 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import grpc
import pytest

from optimizer.helpers import building
from polis.optimizer.domain import Building, DeferrableLoad, Horizon, Neighbourhood
from polis.optimizer.grpc_service import OptimizerServicer
from polis.optimizer.planner import Planner, UnknownScope
from polis.optimizer.solve import SolverParams
from polis.planning.v1 import planning_pb2 as pb
from polis.planning.v1 import planning_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

NOW = datetime(2025, 1, 15, 0, 7, tzinfo=UTC)


def school(start: datetime, slots: int) -> Building:
    pump = DeferrableLoad("pump", power_kw=2.0, earliest=0, latest=slots, run_slots=2)
    prices = [0.3, 0.3, 0.1, 0.3] * (slots // 4)
    b: Building = building(prices, (pump,), base=1.0)
    return replace(b, horizon=Horizon(start=start, slots=slots), neighbourhood="n1")


def source(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    if scope == "school":
        return school(start, slots)
    if scope == "n1":
        return Neighbourhood("n1", (school(start, slots),))
    raise UnknownScope(scope)


@pytest.fixture
async def stub() -> AsyncIterator[pb_grpc.OptimizerStub]:
    planner = Planner(source, SolverParams(time_limit_s=5, num_workers=1))
    server = grpc.aio.server()
    pb_grpc.add_OptimizerServicer_to_server(  # type: ignore[no-untyped-call]
        OptimizerServicer(planner, lambda: NOW), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.OptimizerStub(channel)  # type: ignore[no-untyped-call]
    await server.stop(None)


async def test_solve_then_current_plan(stub: pb_grpc.OptimizerStub) -> None:
    response = await stub.Solve(pb.SolveRequest(building="school", horizon_slots=8))
    assert response.status == pb.SOLVE_STATUS_OPTIMAL
    (plan,) = response.plans
    # the pump runs in the two 0.10 EUR/kWh slots (2 and 6) instead of its timer (0-1)
    assert list(plan.loads[0].power_kw) == [0, 0, 2, 0, 0, 0, 2, 0]
    assert plan.start.ToDatetime(tzinfo=UTC) == datetime(2025, 1, 15, 0, 0, tzinfo=UTC)
    assert plan.baseline.cost_eur - plan.planned.cost_eur == pytest.approx(2 * 2 * 0.25 * 0.2)
    current = await stub.GetCurrentPlan(pb.GetCurrentPlanRequest(building="school"))
    assert list(current.grid_kw) == list(plan.grid_kw)
    assert current.mode == pb.MODE_DRY_RUN


async def test_set_mode_and_unknown_building(stub: pb_grpc.OptimizerStub) -> None:
    reply = await stub.SetMode(pb.SetModeRequest(building="school", mode=pb.MODE_APPLY))
    assert reply.mode == pb.MODE_APPLY
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Solve(pb.SolveRequest(building="museum"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def flexibility(limit_kw: float) -> pb.FlexibilityRequest:
    # slots 2 and 3 (00:30-01:00); the plan runs the pump in slot 2, the peak is 1 + 2 kW
    request = pb.FlexibilityRequest(neighbourhood="n1", peak_limit_kw=limit_kw)
    request.window_start.FromDatetime(datetime(2025, 1, 15, 0, 30))
    request.window_end.FromDatetime(datetime(2025, 1, 15, 1, 0))
    return request


async def test_flexibility_request_replans_the_neighbourhood(
    stub: pb_grpc.OptimizerStub,
) -> None:
    await stub.Solve(pb.SolveRequest(building="school", horizon_slots=8))
    reply = await stub.RequestFlexibility(flexibility(2.5))
    assert reply.outcome == pb.FlexibilityResponse.OUTCOME_ACCEPTED
    # the pump leaves the window: only the 1 kW base load is left in it
    assert reply.achieved_peak_kw == pytest.approx(1.0)
    assert reply.reduction_kw == pytest.approx(2.0)
    current = await stub.GetCurrentPlan(pb.GetCurrentPlanRequest(building="school"))
    pump = list(current.loads[0].power_kw)
    assert pump[2:4] == [0, 0]
    assert sum(pump) == pytest.approx(4.0)  # still two slots at 2 kW
    # the cheapest slot outside the window is 6; the other one costs 0.3
    assert pump[6] == pytest.approx(2.0)


async def test_flexibility_below_the_base_load_is_partial(stub: pb_grpc.OptimizerStub) -> None:
    await stub.Solve(pb.SolveRequest(building="school", horizon_slots=8))
    reply = await stub.RequestFlexibility(flexibility(0.5))
    # the base load (1 kW) cannot move: the pump leaves the window, 0.5 kW is out of reach
    assert reply.outcome == pb.FlexibilityResponse.OUTCOME_PARTIAL
    assert reply.achieved_peak_kw == pytest.approx(1.0)
    assert reply.reduction_kw == pytest.approx(2.0)


async def test_flexibility_already_met_changes_nothing(stub: pb_grpc.OptimizerStub) -> None:
    solved = await stub.Solve(pb.SolveRequest(building="school", horizon_slots=8))
    reply = await stub.RequestFlexibility(flexibility(3.0))
    assert reply.outcome == pb.FlexibilityResponse.OUTCOME_ACCEPTED
    assert reply.achieved_peak_kw == pytest.approx(3.0)
    assert reply.reduction_kw == 0.0
    current = await stub.GetCurrentPlan(pb.GetCurrentPlanRequest(building="school"))
    assert list(current.grid_kw) == list(solved.plans[0].grid_kw)
