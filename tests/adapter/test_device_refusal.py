"""A write the device itself refuses (BACnet write-access-denied from the simulator's
``commands_refused`` fault) is a refusal, not an outage: the adapter raises DeviceRefused,
audits it as ``write_refused`` and answers FAILED_PRECONDITION over gRPC, while the other
zones of the same controller still take their writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from adapter.simulator_fixture import RecordingWriter, running_simulator
from adapter.test_simulator_integration import site_from
from polis.adapter.control import WriteRequest
from polis.adapter.driver import DeviceRefused
from polis.adapter.grpc_api import SERVICE_NAME, AdapterControlServicer
from polis.adapter.service import Adapter
from polis.common.grpc_server import start_grpc_server
from polis.control.v1 import control_pb2, control_pb2_grpc

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REFUSING = "larissa/school/school-bms/zone-admin-heating-setpoint"
TAKING = "larissa/school/school-bms/zone-classrooms-heating-setpoint"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    fault = "kind=commands_refused,building=school,target=admin"
    with running_simulator(tmp_path_factory.mktemp("sim"), "--fault", fault) as manifest:
        yield manifest


@pytest.fixture
async def adapter(simulator: dict[str, Any], tmp_path: Path) -> AsyncIterator[Adapter]:
    site = await site_from(simulator, tmp_path / "state")
    running = Adapter(site=site, writer=RecordingWriter(), clock=site.clock.build())
    await running.start(serve=False)
    yield running
    await running.stop()


async def _near(adapter: Adapter, point: str) -> float:
    """A value the rate limit allows: within 1 K of the present one."""
    target = adapter.commands._targets[point]
    present = (await target.driver.read_command(target.key)).present_value
    return present + (1.0 if present < 21.0 else -1.0)


async def test_a_refused_write_is_audited_as_a_refusal(adapter: Adapter) -> None:
    value = await _near(adapter, REFUSING)
    with pytest.raises(DeviceRefused, match="write refused"):
        await adapter.commands.write(WriteRequest(REFUSING, value, duration_s=600))
    refused = [e for e in adapter.audit.entries() if e["action"] == "write_refused"]
    assert [(e["point_id"], e["value"]) for e in refused] == [(REFUSING, value)]
    assert "write-access-denied" in refused[0]["error"].replace("_", "-").lower()
    assert REFUSING not in {p for p, _ in adapter.commands.active()}
    # the same controller's other zone takes its write
    taken = await adapter.commands.write(WriteRequest(TAKING, await _near(adapter, TAKING)))
    assert taken.status.value == "applied"


async def test_grpc_answers_failed_precondition_naming_the_point(adapter: Adapter) -> None:
    servicer = AdapterControlServicer(
        adapter.points, adapter.units, adapter.latest, adapter.commands
    )
    server = await start_grpc_server(
        lambda s: control_pb2_grpc.add_AdapterControlServicer_to_server(servicer, s),  # type: ignore[no-untyped-call]
        [SERVICE_NAME],
    )
    value = await _near(adapter, REFUSING)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = control_pb2_grpc.AdapterControlStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.WriteCommand(
                    control_pb2.WriteCommandRequest(
                        point_id=REFUSING, value=value, duration=Duration(seconds=600)
                    ),
                    timeout=20,
                )
    finally:
        await server.stop(0)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "zone-admin-heating-setpoint" in (refused.value.details() or "")
