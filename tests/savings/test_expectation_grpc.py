"""The savings service's Expectation call on a real grpc.aio server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from polis.common.grpc_server import start_grpc_server
from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.savings.application import SavingsApp
from polis.savings.grpc_servicer import SERVICE_NAME, SavingsServicer
from polis.savings.measurement import MeasurementOptions, Window

pytestmark = pytest.mark.integration

SWITCH = datetime(2025, 12, 31, 22, tzinfo=UTC)
DAY = Window(SWITCH + timedelta(days=20), SWITCH + timedelta(days=21))


def _ts(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


@pytest.fixture
async def served(scenario: Any) -> AsyncIterator[tuple[Any, SavingsApp]]:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    server = await start_grpc_server(
        lambda s: savings_pb2_grpc.add_SavingsServicer_to_server(  # type: ignore[no-untyped-call]
            SavingsServicer(app), s
        ),
        [SERVICE_NAME],
        host="127.0.0.1",
        port=0,
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield savings_pb2_grpc.SavingsStub(channel), app  # type: ignore[no-untyped-call]
    await server.stop(0)


def request(scenario: Any, building: str, period: Window) -> savings_pb2.ExpectationRequest:
    return savings_pb2.ExpectationRequest(
        building=building,
        baseline_start=_ts(scenario.baseline.start),
        baseline_end=_ts(scenario.baseline.end),
        start=_ts(period.start),
        end=_ts(period.end),
    )


async def test_expectation_over_grpc_is_the_applications(
    served: tuple[Any, SavingsApp], scenario: Any
) -> None:
    stub, app = served
    reply = await stub.Expectation(request(scenario, "school-1", DAY), timeout=60)
    direct = app.expectation("school-1", scenario.baseline, DAY)
    assert reply.accepted
    assert reply.building == "school-1"
    assert reply.model == direct.model
    assert reply.intervals == 24
    assert reply.expected_kwh == pytest.approx(direct.expected_kwh)
    assert reply.uncertainty_kwh == pytest.approx(direct.uncertainty_kwh)
    assert reply.HasField("unoccupied_kw")
    assert reply.unoccupied_kw == pytest.approx(direct.unoccupied_kw)
    assert reply.expected_main_kwh == pytest.approx(direct.expected_main_kwh)
    unknown = await stub.Expectation(request(scenario, "library", DAY), timeout=60)
    assert not unknown.accepted
    assert unknown.reason
    assert not unknown.HasField("unoccupied_kw")


async def test_bad_periods_are_invalid_arguments(
    served: tuple[Any, SavingsApp], scenario: Any
) -> None:
    stub, _ = served
    backwards = request(scenario, "pool", Window(DAY.start, DAY.end))
    backwards.start.CopyFrom(_ts(DAY.end))
    backwards.end.CopyFrom(_ts(DAY.start))
    for bad, field in ((backwards, "period"), (savings_pb2.ExpectationRequest(), "building")):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.Expectation(bad, timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (error.value.details() or "").startswith(field)
