"""The Savings gRPC service on a real grpc.aio server bound to 127.0.0.1, port 0."""

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from polis.common.grpc_server import GrpcServer, start_grpc_server
from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.savings.application import SavingsApp
from polis.savings.grpc_servicer import SERVICE_NAME, SavingsServicer
from polis.savings.measurement import MeasurementOptions
from polis.savings.store import MemoryMeterStore

pytestmark = pytest.mark.integration


def _ts(moment: Any) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def _report(scenario: Any, **scope: Any) -> savings_pb2.ReportRequest:
    """A report request over the scenario's baseline and reporting windows."""
    return savings_pb2.ReportRequest(
        baseline_start=_ts(scenario.baseline.start),
        baseline_end=_ts(scenario.baseline.end),
        reporting_start=_ts(scenario.reporting.start),
        reporting_end=_ts(scenario.reporting.end),
        **scope,
    )


async def _serve(app: SavingsApp) -> GrpcServer:
    return await start_grpc_server(
        lambda s: savings_pb2_grpc.add_SavingsServicer_to_server(  # type: ignore[no-untyped-call]
            SavingsServicer(app), s
        ),
        [SERVICE_NAME],
        host="127.0.0.1",
        port=0,
    )


@pytest.fixture
async def stub(scenario: Any) -> AsyncIterator[savings_pb2_grpc.SavingsStub]:
    app = SavingsApp(scenario.store, scenario.sites, MeasurementOptions())
    server = await _serve(app)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield savings_pb2_grpc.SavingsStub(channel)  # type: ignore[no-untyped-call]
    await server.stop(0)


async def test_report_for_a_neighbourhood(stub: Any, scenario: Any) -> None:
    reply = await stub.Report(
        _report(scenario, neighbourhood="kentro", model=savings_pb2.MODEL_KIND_DAILY), timeout=60
    )
    assert reply.method == "IPMVP Option C, ASHRAE Guideline 14"
    assert [b.building for b in reply.buildings] == ["school-1", "town-hall"]
    for b in reply.buildings:
        assert b.model.startswith("daily change-point")
        assert b.statistics.accepted
        assert b.statistics.n > 300
        assert b.periods[-1].period == "total"
    total = reply.total[-1]
    assert total.period == "total"
    assert total.avoided_kwh == pytest.approx(
        sum(b.periods[-1].avoided_kwh for b in reply.buildings)
    )
    assert total.fractional_savings == pytest.approx(0.12, abs=0.015)
    assert 0 < total.uncertainty_68_kwh < total.uncertainty_90_kwh


async def test_report_errors_map_to_status_codes(stub: Any, scenario: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.Report(savings_pb2.ReportRequest(), timeout=10)
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.Report(_report(scenario, municipality="nowhere"), timeout=10)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_import_csv_all_or_nothing_and_idempotent(scenario: Any) -> None:
    store = MemoryMeterStore()
    server = await _serve(SavingsApp(store, scenario.sites, MeasurementOptions()))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = savings_pb2_grpc.SavingsStub(channel)  # type: ignore[no-untyped-call]
            bad = (
                b"meter_id,timestamp,value,unit\n"
                b"pool/main/energy,2026-01-01T00:00:00+02:00,4,kWh\n"
                b"pool/main/energy,2026-01-01T01:00:00+02:00,x,kWh\n"
            )
            reply = await stub.ImportCsv(savings_pb2.ImportCsvRequest(csv=bad), timeout=10)
            assert reply.points_written == 0
            assert [(e.line, e.field) for e in reply.errors] == [(3, "value")]
            assert store.points == {}
            good = bad.replace(b",x,", b",5,")
            for _ in range(2):
                reply = await stub.ImportCsv(
                    savings_pb2.ImportCsvRequest(csv=good, source="DEI bills"), timeout=10
                )
                assert (reply.rows, reply.points_written, len(reply.errors)) == (2, 2, 0)
            assert len(store.points) == 2
    finally:
        await server.stop(0)
