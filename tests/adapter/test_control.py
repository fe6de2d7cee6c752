from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from adapter.catalogues import one_bacnet_point
from polis.adapter.audit import AuditLog
from polis.adapter.control import (
    CommandService,
    CommandTarget,
    WriteRejected,
    WriteRequest,
    WriteStatus,
    check_write,
    resolve_priority,
)
from polis.adapter.driver import CommandState, ScanGroup
from polis.adapter.grpc_api import SERVICE_NAME, AdapterControlServicer
from polis.adapter.poller import LatestReadings
from polis.common.catalogue import PointRef
from polis.common.catalogue.devices import WriteLimits
from polis.common.clock import Clock
from polis.common.grpc_server import check_health, start_grpc_server
from polis.control.v1 import control_pb2, control_pb2_grpc

pytestmark = pytest.mark.integration

LIMITS = WriteLimits(min=16, max=26, max_rate_per_min=2)


def test_bounds_are_named_in_the_refusal() -> None:
    with pytest.raises(WriteRejected, match=r"30\.0 is above the configured max 26"):
        check_write("p", 30.0, LIMITS, reference=None, minutes_since_reference=1)
    with pytest.raises(WriteRejected, match=r"17\.0 is below the requested min_value 18"):
        check_write("p", 17.0, LIMITS, reference=None, minutes_since_reference=1, min_value=18)
    with pytest.raises(WriteRejected, match="max rate of change 2/min"):
        check_write("p", 25.0, LIMITS, reference=20.0, minutes_since_reference=1)
    check_write("p", 25.0, LIMITS, reference=20.0, minutes_since_reference=3)


@pytest.mark.parametrize("priority", [1, 7, 8, 17])
def test_reserved_priorities_are_refused(priority: int) -> None:
    with pytest.raises(WriteRejected, match=f"priority {priority} refused"):
        resolve_priority(priority, 13)
    assert resolve_priority(0, 13) == 13


class FakeCommandDriver:
    """A BACnet-like priority array in memory."""

    protocol = "fake"
    device_id = "bms"

    def __init__(self) -> None:
        self.slots: dict[int, float] = {}
        self.default = 20.0

    def groups(self) -> Sequence[ScanGroup]:
        return []

    async def scrape(self, group: ScanGroup) -> dict[str, float | None]:
        return {}

    async def write(self, key: str, value: float, priority: int) -> None:
        self.slots[priority] = value

    async def read_command(self, key: str) -> CommandState:
        if not self.slots:
            return CommandState(self.default, 0)
        p = min(self.slots)
        return CommandState(self.slots[p], p)

    async def relinquish(self, key: str, priority: int) -> None:
        self.slots.pop(priority, None)

    async def close(self) -> None:
        return None


def setpoint_ref() -> PointRef:
    ref: PointRef = one_bacnet_point(
        {
            "id": "sp",
            "object": "analog-value,1",
            "quantity": "setpoint",
            "unit": "degC",
            "kind": "command",
            "write": LIMITS.model_dump(),
        }
    )
    return ref


def service(tmp_path: Path, driver: FakeCommandDriver, speed: float = 1.0) -> CommandService:
    ref = setpoint_ref()
    now = datetime.now(UTC)
    return CommandService(
        {ref.point_id: CommandTarget(ref, driver, "sp")},
        AuditLog(tmp_path / "audit.jsonl"),
        Clock(origin=now, start=now, speed=speed),
    )


PID = "larissa/school/bms/sp"


async def test_write_is_confirmed_and_audited(tmp_path: Path) -> None:
    driver = FakeCommandDriver()
    svc = service(tmp_path, driver)
    outcome = await svc.write(WriteRequest(PID, 21.0, requested_by="optimizer", reason="pre-heat"))
    assert (outcome.status, outcome.present_value, outcome.priority) == (
        WriteStatus.APPLIED,
        21.0,
        13,
    )
    entries = AuditLog(tmp_path / "audit.jsonl").entries()
    assert [e["action"] for e in entries] == ["write"]
    assert entries[0]["requested_by"] == "optimizer"
    assert entries[0]["audit_id"] == outcome.audit_id


async def test_operator_override_is_reported_not_fought(tmp_path: Path) -> None:
    driver = FakeCommandDriver()
    driver.slots[8] = 18.0  # manual operator value in force
    svc = service(tmp_path, driver)
    outcome = await svc.write(WriteRequest(PID, 19.0))
    assert outcome.status is WriteStatus.OVERRIDDEN
    assert (outcome.present_value, outcome.active_priority) == (18.0, 8)
    assert driver.slots == {8: 18.0, 13: 19.0}


async def test_rejected_write_touches_nothing_and_is_audited(tmp_path: Path) -> None:
    driver = FakeCommandDriver()
    svc = service(tmp_path, driver)
    with pytest.raises(WriteRejected, match="above the configured max 26"):
        await svc.write(WriteRequest(PID, 40.0))
    assert driver.slots == {}
    assert [e["action"] for e in svc._audit.entries()] == ["write_rejected"]


async def test_command_is_relinquished_at_expiry(tmp_path: Path) -> None:
    driver = FakeCommandDriver()
    svc = service(tmp_path, driver, speed=3600.0)  # one virtual hour per wall second
    await svc.write(WriteRequest(PID, 21.0, duration_s=36.0))  # 10 ms of wall time
    for _ in range(500):
        if not driver.slots:
            break
        await asyncio.sleep(0.01)
    assert driver.slots == {}
    assert [e["action"] for e in svc._audit.entries()] == ["write", "relinquish"]
    assert svc.active() == {}


async def test_shutdown_relinquishes_everything(tmp_path: Path) -> None:
    driver = FakeCommandDriver()
    svc = service(tmp_path, driver)
    await svc.write(WriteRequest(PID, 21.0))
    await svc.write(WriteRequest(PID, 21.5, priority=14))
    await svc.relinquish_all()
    assert driver.slots == {}


@pytest.fixture
async def control_stub(
    tmp_path: Path,
) -> AsyncIterator[tuple[control_pb2_grpc.AdapterControlStub, FakeCommandDriver, int]]:
    driver = FakeCommandDriver()
    svc = service(tmp_path, driver)
    ref = setpoint_ref()
    servicer = AdapterControlServicer([ref], {ref.point_id: "degC"}, LatestReadings(), svc)
    server = await start_grpc_server(
        lambda s: control_pb2_grpc.add_AdapterControlServicer_to_server(servicer, s),  # type: ignore[no-untyped-call]
        [SERVICE_NAME],
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield control_pb2_grpc.AdapterControlStub(channel), driver, server.port  # type: ignore[no-untyped-call]
    await server.stop(0)


async def test_grpc_write_and_out_of_bounds(
    control_stub: tuple[object, FakeCommandDriver, int],
) -> None:
    stub, driver, port = control_stub
    assert isinstance(stub, control_pb2_grpc.AdapterControlStub)
    assert await check_health(f"127.0.0.1:{port}", SERVICE_NAME)
    listed = await stub.ListPoints(control_pb2.ListPointsRequest(building="school"))
    assert [(p.id, p.max_value) for p in listed.points] == [(PID, 26.0)]
    reply = await stub.WriteCommand(
        control_pb2.WriteCommandRequest(point_id=PID, value=21.0, duration=Duration(seconds=600))
    )
    assert reply.status == control_pb2.WRITE_STATUS_APPLIED
    assert reply.priority == 13
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.WriteCommand(control_pb2.WriteCommandRequest(point_id=PID, value=99.0))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "above the configured max 26" in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.WriteCommand(
            control_pb2.WriteCommandRequest(point_id=PID, value=21.0, priority=5)
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.WriteCommand(control_pb2.WriteCommandRequest(point_id="nope", value=1.0))
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    released = await stub.Relinquish(control_pb2.RelinquishRequest(point_id=PID))
    assert released.present_value == 20.0
    assert driver.slots == {}


class SlowCommandDriver(FakeCommandDriver):
    """A device that takes longer to take a write than the caller's deadline."""

    async def write(self, key: str, value: float, priority: int) -> None:
        await asyncio.sleep(0.5)
        await super().write(key, value, priority)


async def test_a_write_outliving_its_deadline_is_still_audited_and_expires(
    tmp_path: Path,
) -> None:
    driver = SlowCommandDriver()
    svc = service(tmp_path, driver, speed=3600.0)  # one virtual hour per wall second
    ref = setpoint_ref()
    servicer = AdapterControlServicer([ref], {ref.point_id: "degC"}, LatestReadings(), svc)
    server = await start_grpc_server(
        lambda s: control_pb2_grpc.add_AdapterControlServicer_to_server(servicer, s),  # type: ignore[no-untyped-call]
        [SERVICE_NAME],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = control_pb2_grpc.AdapterControlStub(channel)  # type: ignore[no-untyped-call]
            request = control_pb2.WriteCommandRequest(
                point_id=PID,
                value=21.0,
                duration=Duration(seconds=1800),  # 0.5 s of wall time
            )
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.WriteCommand(request, timeout=0.1)
            assert info.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # the device took the write after the caller left: it is audited, then expires
        for _ in range(500):
            actions = [e["action"] for e in svc._audit.entries()]
            if actions == ["write", "relinquish"]:
                break
            await asyncio.sleep(0.01)
        assert actions == ["write", "relinquish"]
        assert driver.slots == {}
    finally:
        await server.stop(0)
