"""Calls to the adapter, optimizer and savings services over gRPC, each with a deadline.

``Peers`` implements the use cases' ports (``polis.gateway.application.ports``): requests and
answers cross this boundary as domain types, translated in ``polis.gateway.peers.translate``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from polis.commissioning.v1 import commissioning_pb2, commissioning_pb2_grpc
from polis.control.v1 import control_pb2, control_pb2_grpc
from polis.gateway.application.alarm_ports import ExpectationAnswer, ExpectationQuery
from polis.gateway.domain.commissioning import CommissioningReport, Plot
from polis.gateway.domain.control import (
    CommandRequest,
    CommandResult,
    RelinquishRequest,
    RelinquishResult,
)
from polis.gateway.domain.plans import (
    FlexibilityRequest,
    FlexibilityResult,
    Mode,
    Plan,
    SolveResult,
)
from polis.gateway.domain.savings import ImportResult, ReportQuery, SavingsReport
from polis.gateway.peers import commissioning_translate, expectations, translate
from polis.gateway.peers.errors import PeerError
from polis.gateway.peers.errors import translate as translate_error
from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.planning.v1 import planning_pb2, planning_pb2_grpc
from polis.points.v1 import points_pb2

T = TypeVar("T")


async def _call(
    service: str, method: Callable[..., Awaitable[T]], request: Any, deadline_s: float
) -> T:
    """One unary call with its deadline; gRPC failures become the use cases' peer errors."""
    try:
        return await method(request, timeout=deadline_s)
    except grpc.aio.AioRpcError as error:
        raise translate_error(service, error) from None


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
        # served by the optimizer, on its channel
        self.commissioning = commissioning_pb2_grpc.CommissioningStub(self._channels[1])  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close(grace=None)

    # adapter ---------------------------------------------------------------------------
    async def list_points(self, building: str = "") -> list[points_pb2.Point]:
        request = control_pb2.ListPointsRequest(building=building)
        response = await _call("adapter", self.adapter.ListPoints, request, self.deadline_s)
        return list(response.points)

    async def write_command(self, request: CommandRequest) -> CommandResult:
        message = translate.command_request(request)
        response = await _call("adapter", self.adapter.WriteCommand, message, self.deadline_s)
        return translate.command_result(response)

    async def relinquish(self, request: RelinquishRequest) -> RelinquishResult:
        message = translate.relinquish_request(request)
        response = await _call("adapter", self.adapter.Relinquish, message, self.deadline_s)
        return translate.relinquish_result(response)

    # optimizer -------------------------------------------------------------------------
    async def current_plan(self, building: str) -> Plan:
        request = planning_pb2.GetCurrentPlanRequest(building=building)
        response = await _call("optimizer", self.optimizer.GetCurrentPlan, request, self.deadline_s)
        return translate.plan(response)

    async def solve(self, building: str, horizon_slots: int, time_limit_s: float) -> SolveResult:
        request = planning_pb2.SolveRequest(
            building=building, horizon_slots=horizon_slots, time_limit_s=time_limit_s
        )
        # The solver may use its whole time limit: the deadline covers it plus the usual margin.
        timeout = time_limit_s + self.deadline_s
        response = await _call("optimizer", self.optimizer.Solve, request, timeout)
        return translate.solve_result(response)

    async def set_mode(self, building: str, mode: Mode) -> None:
        request = planning_pb2.SetModeRequest(building=building, mode=translate.mode_number(mode))
        await _call("optimizer", self.optimizer.SetMode, request, self.deadline_s)

    async def request_flexibility(self, request: FlexibilityRequest) -> FlexibilityResult:
        message = translate.flexibility_request(request)
        response = await _call(
            "optimizer", self.optimizer.RequestFlexibility, message, self.deadline_s
        )
        return translate.flexibility_result(response)

    async def commissioning_report(self, building: str) -> CommissioningReport:
        request = commissioning_pb2.GetReportRequest(building=building)
        response = await _call("optimizer", self.commissioning.GetReport, request, self.deadline_s)
        return commissioning_translate.report(response)

    async def commissioning_plot(self, building: str, zone: str) -> Plot:
        request = commissioning_pb2.GetPlotRequest(building=building, zone=zone)
        response = await _call("optimizer", self.commissioning.GetPlot, request, self.deadline_s)
        return commissioning_translate.plot(response)

    # savings ---------------------------------------------------------------------------
    async def savings_report(self, query: ReportQuery) -> SavingsReport:
        request = translate.report_request(query)
        response = await _call("savings", self.savings.Report, request, self.report_deadline_s)
        return translate.savings_report(response)

    async def import_csv(self, csv: bytes, source: str) -> ImportResult:
        request = savings_pb2.ImportCsvRequest(csv=csv, source=source)
        response = await _call("savings", self.savings.ImportCsv, request, self.report_deadline_s)
        return translate.import_result(response)

    async def expectation(self, query: ExpectationQuery) -> ExpectationAnswer:
        """The baseline's expectation for a period (a fit, as slow as a report's)."""
        request = expectations.expectation_request(query)
        response = await _call("savings", self.savings.Expectation, request, self.report_deadline_s)
        return expectations.expectation_answer(query, response)


__all__ = ["PeerError", "Peers"]
