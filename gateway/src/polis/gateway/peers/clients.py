"""Typed calls to the adapter, optimizer and savings services; every call has a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from polis.control.v1 import control_pb2, control_pb2_grpc
from polis.gateway.peers.errors import PeerError, translate
from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.planning.v1 import planning_pb2, planning_pb2_grpc
from polis.points.v1 import points_pb2

T = TypeVar("T")


async def _call(service: str, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except grpc.aio.AioRpcError as error:
        raise translate(service, error) from None


class Peers:
    """One channel per service, opened lazily by grpc and closed with the app."""

    def __init__(
        self,
        adapter: str,
        optimizer: str,
        savings: str,
        deadline_s: float,
        report_deadline_s: float | None = None,
    ) -> None:
        self.deadline_s = deadline_s
        # Fitting baselines for a whole municipality takes seconds per building, not a lookup's
        # milliseconds: M&V reports and imports get their own, longer deadline.
        self.report_deadline_s = report_deadline_s or deadline_s * 4
        self._channels = [
            grpc.aio.insecure_channel(adapter),
            grpc.aio.insecure_channel(optimizer),
            grpc.aio.insecure_channel(savings),
        ]
        self.adapter = control_pb2_grpc.AdapterControlStub(self._channels[0])  # type: ignore[no-untyped-call]
        self.optimizer = planning_pb2_grpc.OptimizerStub(self._channels[1])  # type: ignore[no-untyped-call]
        self.savings = savings_pb2_grpc.SavingsStub(self._channels[2])  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close(grace=None)

    # adapter ---------------------------------------------------------------------------
    async def list_points(self, building: str = "") -> list[points_pb2.Point]:
        request = control_pb2.ListPointsRequest(building=building)
        response = await _call(
            "adapter", lambda: self.adapter.ListPoints(request, timeout=self.deadline_s)
        )
        return list(response.points)

    async def read_points(self, point_ids: list[str]) -> list[points_pb2.Reading]:
        request = control_pb2.ReadPointsRequest(point_ids=point_ids)
        response = await _call(
            "adapter", lambda: self.adapter.ReadPoints(request, timeout=self.deadline_s)
        )
        return list(response.readings)

    async def write_command(
        self, request: control_pb2.WriteCommandRequest
    ) -> control_pb2.WriteCommandResponse:
        return await _call(
            "adapter", lambda: self.adapter.WriteCommand(request, timeout=self.deadline_s)
        )

    async def relinquish(
        self, request: control_pb2.RelinquishRequest
    ) -> control_pb2.RelinquishResponse:
        return await _call(
            "adapter", lambda: self.adapter.Relinquish(request, timeout=self.deadline_s)
        )

    # optimizer -------------------------------------------------------------------------
    async def current_plan(self, building: str) -> planning_pb2.Plan:
        request = planning_pb2.GetCurrentPlanRequest(building=building)
        return await _call(
            "optimizer", lambda: self.optimizer.GetCurrentPlan(request, timeout=self.deadline_s)
        )

    async def solve(
        self, building: str, horizon_slots: int, time_limit_s: float
    ) -> planning_pb2.SolveResponse:
        request = planning_pb2.SolveRequest(
            building=building, horizon_slots=horizon_slots, time_limit_s=time_limit_s
        )
        # The solver may use its whole time limit: the deadline covers it plus the usual margin.
        timeout = time_limit_s + self.deadline_s
        return await _call("optimizer", lambda: self.optimizer.Solve(request, timeout=timeout))

    async def set_mode(self, building: str, mode: int) -> planning_pb2.SetModeResponse:
        request = planning_pb2.SetModeRequest(building=building, mode=mode)  # type: ignore[arg-type]
        return await _call(
            "optimizer", lambda: self.optimizer.SetMode(request, timeout=self.deadline_s)
        )

    async def request_flexibility(
        self, request: planning_pb2.FlexibilityRequest
    ) -> planning_pb2.FlexibilityResponse:
        return await _call(
            "optimizer",
            lambda: self.optimizer.RequestFlexibility(request, timeout=self.deadline_s),
        )

    # savings ---------------------------------------------------------------------------
    async def savings_report(self, request: savings_pb2.ReportRequest) -> savings_pb2.SavingsReport:
        return await _call(
            "savings", lambda: self.savings.Report(request, timeout=self.report_deadline_s)
        )

    async def import_csv(self, csv: bytes, source: str) -> savings_pb2.ImportCsvResponse:
        request = savings_pb2.ImportCsvRequest(csv=csv, source=source)
        return await _call(
            "savings", lambda: self.savings.ImportCsv(request, timeout=self.report_deadline_s)
        )


__all__ = ["PeerError", "Peers"]
