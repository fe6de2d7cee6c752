"""gRPC surface of the savings service: translates protobuf <-> domain types, nothing more."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from polis.mv.v1 import savings_pb2, savings_pb2_grpc
from polis.savings.application import SavingsApp, SavingsReport
from polis.savings.expectation import Expectation
from polis.savings.measurement import ModelKind, PeriodSavings, Window
from polis.savings.sites import Scope, ScopeKind, UnknownScope

SERVICE_NAME = savings_pb2.DESCRIPTOR.services_by_name["Savings"].full_name

_KINDS = {
    savings_pb2.MODEL_KIND_UNSPECIFIED: None,
    savings_pb2.MODEL_KIND_DAILY: ModelKind.DAILY,
    savings_pb2.MODEL_KIND_HOURLY: ModelKind.HOURLY,
}


def _time(ts: Timestamp) -> datetime:
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, tz=UTC)


def _period(p: PeriodSavings) -> savings_pb2.PeriodSavings:
    return savings_pb2.PeriodSavings(
        period=p.period,
        baseline_kwh=p.baseline_kwh,
        actual_kwh=p.actual_kwh,
        avoided_kwh=p.avoided_kwh,
        avoided_eur=p.avoided_eur,
        avoided_co2_kg=p.avoided_co2_kg,
        fractional_savings=p.fractional_savings,
        uncertainty_68_kwh=p.uncertainty_68_kwh,
        uncertainty_90_kwh=p.uncertainty_90_kwh,
    )


def report_message(report: SavingsReport) -> savings_pb2.SavingsReport:
    buildings = []
    for b in report.buildings:
        m = b.measurement
        s = m.statistics
        stats = savings_pb2.Statistics(accepted=m.accepted, reason=m.reason)
        if s is not None:
            stats.r_squared = s.r_squared
            stats.cv_rmse = s.cv_rmse
            stats.nmbe = s.nmbe
            stats.n = s.n
            stats.parameters = s.parameters
        buildings.append(
            savings_pb2.BuildingSavings(
                building=b.site.building,
                neighbourhood=b.site.neighbourhood,
                model=m.model_label,
                statistics=stats,
                periods=[_period(p) for p in m.periods],
            )
        )
    return savings_pb2.SavingsReport(
        buildings=buildings, total=[_period(p) for p in report.total], method=report.method
    )


def expectation_message(e: Expectation) -> savings_pb2.ExpectationResponse:
    message = savings_pb2.ExpectationResponse(
        building=e.building,
        model=e.model,
        accepted=e.accepted,
        reason=e.reason,
        expected_kwh=e.expected_kwh,
        uncertainty_kwh=e.uncertainty_kwh,
        actual_kwh=e.actual_kwh,
        intervals=e.intervals,
        unoccupied_uncertainty_kw=e.unoccupied_uncertainty_kw,
    )
    if e.unoccupied_kw is not None:
        message.unoccupied_kw = e.unoccupied_kw
    if e.expected_main_kwh is not None:
        message.expected_main_kwh = e.expected_main_kwh
    return message


class SavingsServicer(savings_pb2_grpc.SavingsServicer):
    def __init__(self, app: SavingsApp) -> None:
        self._app = app

    async def ImportCsv(
        self, request: savings_pb2.ImportCsvRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> savings_pb2.ImportCsvResponse:
        try:
            text = request.csv.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"csv is not UTF-8: {error}")
        outcome = await asyncio.to_thread(self._app.import_csv, text, request.source)
        return savings_pb2.ImportCsvResponse(
            rows=outcome.rows,
            points_written=outcome.points_written,
            errors=[
                savings_pb2.RowError(line=e.line, field=e.field, reason=e.reason)
                for e in outcome.errors
            ],
        )

    async def Report(
        self, request: savings_pb2.ReportRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> savings_pb2.SavingsReport:
        which = request.WhichOneof("scope")
        if which is None:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "scope: give a building, neighbourhood or municipality",
            )
        scope = Scope(ScopeKind(which), getattr(request, which))
        try:
            baseline = Window(_time(request.baseline_start), _time(request.baseline_end))
            reporting = Window(_time(request.reporting_start), _time(request.reporting_end))
            kind = _KINDS[request.model]
        except (ValueError, KeyError) as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"period: {error}")
        try:
            report = await asyncio.to_thread(self._app.report, scope, baseline, reporting, kind)
        except UnknownScope as error:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(error))
        except ValueError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        return report_message(report)

    async def Expectation(
        self,
        request: savings_pb2.ExpectationRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> savings_pb2.ExpectationResponse:
        if not request.building:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "building: required")
        try:
            baseline = Window(_time(request.baseline_start), _time(request.baseline_end))
        except ValueError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"baseline: {error}")
        try:
            period = Window(_time(request.start), _time(request.end))
            kind = _KINDS[request.model]
        except (ValueError, KeyError) as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"period: {error}")
        found = await asyncio.to_thread(
            self._app.expectation, request.building, baseline, period, kind
        )
        return expectation_message(found)
