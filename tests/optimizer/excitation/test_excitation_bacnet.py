"""Excitation end to end: ``python -m polis.optimizer excite`` asks the optimizer's
Commissioning service, which writes the steps through the real adapter over BACnet/IP to the
simulated library's controller, at the automation priority, each write audited, and
relinquishes them when the run ends, when it is stopped and when the optimizer stops.

The simulator (``Site``), the adapter and the optimizer's servicers share one clock at 1800×
(a 60-minute step lasts 2 s); the adapter polls only the library. The optimizer's apply mode
and the excitation exclude each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from polis.adapter.service import Adapter
from polis.commissioning.v1 import commissioning_pb2, commissioning_pb2_grpc
from polis.common.clock import Clock
from polis.common.grpc_server import GrpcServer, start_grpc_server
from polis.common.influx import InfluxStore
from polis.optimizer.commissioning.store import ReportStore
from polis.optimizer.config import optimizer_view
from polis.optimizer.domain import Building, Neighbourhood
from polis.optimizer.excitation.adapter import AdapterSetpoints
from polis.optimizer.excitation.command import main as excite
from polis.optimizer.excitation.registry import Excitations
from polis.optimizer.grpc_commissioning import CommissioningServicer
from polis.optimizer.grpc_service import OptimizerServicer
from polis.optimizer.planner import Mode, Planner
from polis.planning.v1 import planning_pb2, planning_pb2_grpc

from .library import POINT, Library, simulated_library, until

pytestmark = [pytest.mark.integration, pytest.mark.influx, pytest.mark.slow]

SPEED = 1800.0
EXCITATION = {"amplitude_k": 1.0, "step_minutes": 60, "max_days": 2}


@dataclass
class Stack:
    library: Library
    excitations: Excitations
    planner: Planner
    address: str

    def audit(self) -> list[dict[str, Any]]:
        return self.library.audit()

    def commanded(self) -> float | None:
        return self.library.commanded()

    @property
    def adapter(self) -> Adapter:
        return self.library.adapter


def _never(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    raise AssertionError("nothing is planned in this test")


async def _serve(
    planner: Planner, excitations: Excitations, reports: Path, clock: Clock
) -> GrpcServer:
    optimizer = OptimizerServicer(planner, clock.now, excitations.blocks_apply)
    commissioning = CommissioningServicer(ReportStore(reports), excitations)

    def register(server: grpc.aio.Server) -> None:
        planning_pb2_grpc.add_OptimizerServicer_to_server(optimizer, server)  # type: ignore[no-untyped-call]
        commissioning_pb2_grpc.add_CommissioningServicer_to_server(commissioning, server)  # type: ignore[no-untyped-call]

    return await start_grpc_server(
        register,
        [
            planning_pb2.DESCRIPTOR.services_by_name["Optimizer"].full_name,
            commissioning_pb2.DESCRIPTOR.services_by_name["Commissioning"].full_name,
        ],
    )


@pytest.fixture
async def stack(influx_store: InfluxStore, tmp_path: Path) -> AsyncIterator[Stack]:
    async with simulated_library(influx_store, tmp_path / "adapter", SPEED, EXCITATION) as lib:
        setpoints = AdapterSetpoints(f"127.0.0.1:{lib.adapter_port}", deadline_s=5.0)
        planner = Planner(_never)
        planner.set_mode("library", Mode.DRY_RUN)
        excitations = Excitations(optimizer_view(lib.catalogue), planner, setpoints, lib.clock)
        server = await _serve(planner, excitations, tmp_path / "reports", lib.clock)
        try:
            yield Stack(lib, excitations, planner, f"127.0.0.1:{server.port}")
        finally:
            await excitations.close()
            await server.stop(0)
            await setpoints.close()


async def _excite(stack: Stack, *args: str) -> int:
    """The command line, as a facility manager types it (on a thread of its own)."""
    argv = ["--building", "library", "--optimizer", stack.address, *args]
    return await asyncio.to_thread(excite, argv)


async def _set_mode(stack: Stack, mode: planning_pb2.Mode) -> grpc.StatusCode:
    """The optimizer's SetMode, as the gateway calls it; a refusal must say why."""
    async with grpc.aio.insecure_channel(stack.address) as channel:
        stub = planning_pb2_grpc.OptimizerStub(channel)  # type: ignore[no-untyped-call]
        try:
            await stub.SetMode(planning_pb2.SetModeRequest(building="library", mode=mode))
        except grpc.aio.AioRpcError as error:
            refused = error
        else:
            return grpc.StatusCode.OK
    assert "identification excitation runs on library" in (refused.details() or "")
    return refused.code()


def _writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["action"] == "write"]


@pytest.mark.timeout(300)
async def test_steps_are_written_audited_and_relinquished(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    base = stack.adapter.latest.get(POINT).value  # type: ignore[union-attr]

    # refused while the optimizer applies plans to the building
    assert await _set_mode(stack, planning_pb2.MODE_APPLY) == grpc.StatusCode.OK
    assert await _excite(stack, "--days", "0.125") == 2
    assert "refused (FAILED_PRECONDITION): the optimizer applies plans to library" in (
        capsys.readouterr().err
    )
    assert stack.audit() == []
    assert await _set_mode(stack, planning_pb2.MODE_DRY_RUN) == grpc.StatusCode.OK

    # 1. three hours of 60-minute steps, followed to the end
    follower = asyncio.create_task(_excite(stack, "--days", "0.125", "--follow"))
    await until(lambda: len(_writes(stack.audit())) >= 1, "the first step is written")
    seen = stack.commanded()
    assert seen in (round(base - 1, 2), round(base + 1, 2))
    # the optimizer may not apply plans to the building meanwhile
    assert await _set_mode(stack, planning_pb2.MODE_APPLY) == grpc.StatusCode.FAILED_PRECONDITION
    assert stack.planner.mode("library") == Mode.DRY_RUN
    assert await follower == 0
    printed = capsys.readouterr().out
    assert "library/reading-room: running, ±1 K around" in printed
    assert "library/reading-room: done" in printed
    assert "3/3 steps written" in printed
    audit = stack.audit()
    writes = _writes(audit)
    assert len(writes) == 3
    for write in writes:
        assert write["requested_by"] == "polis-excitation"
        assert write["priority"] == 13  # the adapter's automation priority
        assert write["status"] == "applied"
        assert abs(write["value"] - base) == pytest.approx(1.0)
        assert write["reason"].startswith("identification excitation step")
        # what is left of the step, and a slot more (the next write replaces it)
        assert 60 * 60 < write["duration_s"] <= 75 * 60
    assert audit[-1]["action"] == "relinquish"
    assert audit[-1]["reason"] == "excitation done"
    assert audit[-1]["requested_by"] == "polis-excitation"
    assert stack.commanded() is None  # the controller follows its own schedule again
    assert await _set_mode(stack, planning_pb2.MODE_APPLY) == grpc.StatusCode.OK
    assert await _set_mode(stack, planning_pb2.MODE_DRY_RUN) == grpc.StatusCode.OK

    # 2. a day's run, stopped from the command line after its first step
    assert await _excite(stack, "--days", "1") == 0
    await until(lambda: len(_writes(stack.audit())) >= 4, "the next run's first step")
    assert stack.commanded() is not None
    assert await _excite(stack, "--stop") == 0
    assert "library/reading-room: stopped" in capsys.readouterr().out
    last = stack.audit()[-1]
    assert (last["action"], last["reason"]) == ("relinquish", "stopped by excite --stop")
    assert stack.commanded() is None

    # 3. a run the optimizer's own shutdown ends
    assert await _excite(stack, "--days", "1") == 0
    count = len(_writes(stack.audit()))
    await until(lambda: len(_writes(stack.audit())) > count, "the third run's first step")
    await stack.excitations.close()
    last = stack.audit()[-1]
    assert (last["action"], last["reason"]) == ("relinquish", "optimizer stopped")
    assert stack.commanded() is None
    capsys.readouterr()
    assert await _excite(stack, "--status") == 0
    shown = capsys.readouterr().out.splitlines()
    states = [line.split(",")[0] for line in shown if line.startswith("library/")]
    assert states == ["library/reading-room: stopped"]  # the zone's latest run
