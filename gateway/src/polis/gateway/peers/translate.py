"""Protobuf ↔ domain types: the one place the gateway's contracts meet its own model."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from polis.control.v1 import control_pb2
from polis.gateway.domain import control, plans, savings
from polis.mv.v1 import savings_pb2
from polis.planning.v1 import planning_pb2

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")

_MODES = {
    plans.Mode.DRY_RUN: planning_pb2.MODE_DRY_RUN,
    plans.Mode.APPLY: planning_pb2.MODE_APPLY,
}
_MODE_NAMES = {number: mode for mode, number in _MODES.items()}
_WRITE_STATUS = {
    control_pb2.WRITE_STATUS_APPLIED: control.WriteStatus.APPLIED,
    control_pb2.WRITE_STATUS_OVERRIDDEN: control.WriteStatus.OVERRIDDEN,
    control_pb2.WRITE_STATUS_UNCONFIRMED: control.WriteStatus.UNCONFIRMED,
}
_OUTCOMES = {
    planning_pb2.FlexibilityResponse.OUTCOME_ACCEPTED: "accepted",
    planning_pb2.FlexibilityResponse.OUTCOME_PARTIAL: "partial",
    planning_pb2.FlexibilityResponse.OUTCOME_REJECTED: "rejected",
}


def _copied(cls: type[D], message: Message) -> D:
    """A domain type whose every field is the message's field of the same name, unchanged."""
    return cls(**{f.name: getattr(message, f.name) for f in fields(cls)})


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def instant(ts: Timestamp) -> datetime | None:
    """None for an unset timestamp (proto3 leaves it at the epoch)."""
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, UTC)


def mode_number(mode: plans.Mode) -> planning_pb2.Mode:
    return _MODES.get(mode, planning_pb2.MODE_UNSPECIFIED)


def solve_status(status: int) -> str:
    return planning_pb2.SolveStatus.Name(status).removeprefix("SOLVE_STATUS_").lower()


def plan(p: planning_pb2.Plan) -> plans.Plan:
    return plans.Plan(
        building=p.building,
        neighbourhood=p.neighbourhood,
        start=instant(p.start),
        slot_minutes=p.slot_minutes or 15,
        loads=tuple(
            plans.LoadSchedule(
                load_id=load.load_id,
                kind=load.kind,
                power_kw=tuple(load.power_kw),
                setpoint=tuple(load.setpoint),
                explanation=load.explanation,
            )
            for load in p.loads
        ),
        planned=_copied(plans.Figures, p.planned),
        baseline=_copied(plans.Figures, p.baseline),
        status=solve_status(p.status),
        gap=p.gap,
        mode=_MODE_NAMES.get(p.mode, plans.Mode.UNSPECIFIED),
        created_at=instant(p.created_at),
        conflicts=tuple(p.conflicts),
        grid_kw=tuple(p.grid_kw),
    )


def solve_result(response: planning_pb2.SolveResponse) -> plans.SolveResult:
    return plans.SolveResult(
        status=solve_status(response.status),
        gap=response.gap,
        solve_time_s=response.solve_time_s,
        conflicts=tuple(response.conflicts),
        plans=tuple(plan(p) for p in response.plans),
    )


def flexibility_request(request: plans.FlexibilityRequest) -> planning_pb2.FlexibilityRequest:
    return planning_pb2.FlexibilityRequest(
        neighbourhood=request.neighbourhood,
        window_start=timestamp(request.window_start),
        window_end=timestamp(request.window_end),
        peak_limit_kw=request.peak_limit_kw,
        requested_by=request.requested_by,
    )


def flexibility_result(response: planning_pb2.FlexibilityResponse) -> plans.FlexibilityResult:
    return plans.FlexibilityResult(
        outcome=_OUTCOMES.get(response.outcome, "unspecified"),
        achieved_peak_kw=response.achieved_peak_kw,
        reduction_kw=response.reduction_kw,
        message=response.message,
    )


def command_request(request: control.CommandRequest) -> control_pb2.WriteCommandRequest:
    duration = Duration()
    duration.FromTimedelta(request.duration)
    return control_pb2.WriteCommandRequest(
        point_id=request.point_id,
        value=request.value,
        priority=request.priority,
        duration=duration,
        requested_by=request.requested_by,
        reason=request.reason,
    )


def command_result(response: control_pb2.WriteCommandResponse) -> control.CommandResult:
    return control.CommandResult(
        status=_WRITE_STATUS.get(response.status, control.WriteStatus.UNKNOWN),
        present_value=response.present_value,
        priority=response.priority,
        audit_id=response.audit_id,
        message=response.message,
    )


def relinquish_request(request: control.RelinquishRequest) -> control_pb2.RelinquishRequest:
    return control_pb2.RelinquishRequest(
        point_id=request.point_id,
        priority=request.priority,
        requested_by=request.requested_by,
        reason=request.reason,
    )


def relinquish_result(response: control_pb2.RelinquishResponse) -> control.RelinquishResult:
    return _copied(control.RelinquishResult, response)


def report_request(query: savings.ReportQuery) -> savings_pb2.ReportRequest:
    request = savings_pb2.ReportRequest(
        baseline_start=timestamp(query.baseline_start),
        baseline_end=timestamp(query.baseline_end),
        reporting_start=timestamp(query.reporting_start),
        reporting_end=timestamp(query.reporting_end),
    )
    setattr(request, query.scope.value, query.scope_id)
    return request


def _period(p: savings_pb2.PeriodSavings) -> savings.PeriodSavings:
    return _copied(savings.PeriodSavings, p)


def savings_report(report: savings_pb2.SavingsReport) -> savings.SavingsReport:
    return savings.SavingsReport(
        buildings=tuple(
            savings.BuildingSavings(
                building=b.building,
                neighbourhood=b.neighbourhood,
                model=b.model,
                statistics=_copied(savings.Statistics, b.statistics),
                periods=tuple(_period(p) for p in b.periods),
            )
            for b in report.buildings
        ),
        total=tuple(_period(p) for p in report.total),
        method=report.method,
    )


def import_result(response: savings_pb2.ImportCsvResponse) -> savings.ImportResult:
    return savings.ImportResult(
        rows=response.rows,
        points_written=response.points_written,
        errors=tuple(_copied(savings.RowError, e) for e in response.errors),
    )
