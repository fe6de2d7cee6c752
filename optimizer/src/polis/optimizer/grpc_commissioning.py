"""gRPC servicer for polis.commissioning.v1.Commissioning: translation between protobuf and the
report store and excitations (no logic of its own)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from polis.commissioning.v1 import commissioning_pb2 as pb
from polis.commissioning.v1 import commissioning_pb2_grpc as pb_grpc
from polis.optimizer.commissioning.store import ReportMissing, ReportStore, StoredReport
from polis.optimizer.excitation.registry import (
    AlreadyRunning,
    ExcitationError,
    Excitations,
    InvalidRequest,
    NotAllowed,
    SetpointUnknown,
    UnknownTarget,
)
from polis.optimizer.excitation.runner import ExcitationRun, State

Context = grpc.aio.ServicerContext[Any, Any]

_STATE = {
    State.RUNNING: pb.EXCITATION_STATE_RUNNING,
    State.DONE: pb.EXCITATION_STATE_DONE,
    State.STOPPED: pb.EXCITATION_STATE_STOPPED,
}
_CODES: list[tuple[type[ExcitationError], grpc.StatusCode]] = [
    (UnknownTarget, grpc.StatusCode.NOT_FOUND),
    (InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (NotAllowed, grpc.StatusCode.FAILED_PRECONDITION),
    (AlreadyRunning, grpc.StatusCode.ALREADY_EXISTS),
    (SetpointUnknown, grpc.StatusCode.FAILED_PRECONDITION),  # the zone's, not the service's
]
# the report's name of a parameter -> the fit's name of its standard error
_ERROR_NAMES = {"solar_aperture_m2": "aperture_m2"}


def _timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _parameters(zone: Mapping[str, Any]) -> list[pb.Parameter]:
    errors = zone.get("standard_errors") or {}
    values: dict[str, Any] = {"tau_h": zone.get("tau_h"), **(zone.get("parameters") or {})}
    out = []
    for name, raw in values.items():
        value = _number(raw)
        if value is None:
            continue
        error = _number(errors.get(_ERROR_NAMES.get(name, name)))
        out.append(pb.Parameter(name=name, value=value, standard_error=error))
    return out


def _strings(values: Iterable[object]) -> list[str]:
    return [str(v) for v in values]


def zone_report(zone: Mapping[str, Any], plots: frozenset[str]) -> pb.ZoneReport:
    name = str(zone.get("zone", ""))
    return pb.ZoneReport(
        zone=name,
        accepted=bool(zone.get("accepted")),
        reasons=_strings(zone.get("reasons", [])),
        structure=str(zone.get("structure", "")),
        parameters=_parameters(zone),
        holdout_rmse_k=_number(zone.get("holdout_rmse_k")),
        energy_cv=_number(zone.get("energy_cv")),
        holdout_days=int(zone.get("holdout_days") or 0),
        cop_source=str(zone.get("cop_source", "")),
        notes=_strings(zone.get("notes", [])),
        points={str(k): str(v) for k, v in (zone.get("points") or {}).items()},
        readings={str(k): int(v) for k, v in (zone.get("readings") or {}).items()},
        has_plot=name in plots,
    )


def report_to_proto(stored: StoredReport) -> pb.Report:
    span = stored.data.get("span") or {}
    return pb.Report(
        building=stored.building,
        since=str(span.get("since", "")),
        until=str(span.get("until", "")),
        generated_at=_timestamp(stored.generated_at),
        zones=[zone_report(z, stored.plots) for z in stored.zones],
    )


def excitation_to_proto(run: ExcitationRun) -> pb.Excitation:
    s, p = run.schedule, run.progress
    return pb.Excitation(
        building=s.building,
        zone=s.zone,
        point_id=s.point_id,
        state=_STATE[run.state],
        start=_timestamp(s.start),
        end=_timestamp(s.end),
        base_c=s.base_c,
        amplitude_k=s.amplitude_k,
        steps=len(s.writes()),
        written=p.written,
        refused=p.refused,
        overridden=p.overridden,
        last_setpoint_c=p.last_setpoint_c,
        message=p.message,
    )


def _listed(runs: Iterable[ExcitationRun]) -> pb.ExcitationList:
    return pb.ExcitationList(excitations=[excitation_to_proto(r) for r in runs])


class CommissioningServicer(pb_grpc.CommissioningServicer):
    def __init__(self, reports: ReportStore, excitations: Excitations) -> None:
        self._reports = reports
        self._excitations = excitations

    async def GetReport(self, request: pb.GetReportRequest, context: Context) -> pb.Report:
        try:
            return report_to_proto(self._reports.report(request.building))
        except ReportMissing as error:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(error))

    async def GetPlot(self, request: pb.GetPlotRequest, context: Context) -> pb.Plot:
        try:
            data, written = self._reports.plot(request.building, request.zone)
        except ReportMissing as error:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(error))
        return pb.Plot(media_type="image/png", data=data, generated_at=_timestamp(written))

    async def StartExcitation(
        self, request: pb.StartExcitationRequest, context: Context
    ) -> pb.ExcitationList:
        if not request.building or request.days <= 0:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "building and days > 0 are required"
            )
        start = request.start.ToDatetime(tzinfo=UTC) if request.HasField("start") else None
        try:
            runs = await self._excitations.start(
                request.building, list(request.zones), request.days, start, request.requested_by
            )
        except ExcitationError as error:
            await _abort(context, error)
        return _listed(runs)

    async def StopExcitation(
        self, request: pb.StopExcitationRequest, context: Context
    ) -> pb.ExcitationList:
        who = request.requested_by or "a request"
        runs = await self._excitations.stop(
            request.building, list(request.zones), reason=f"stopped by {who}"
        )
        return _listed(runs)

    async def ListExcitations(
        self, request: pb.ListExcitationsRequest, context: Context
    ) -> pb.ExcitationList:
        return _listed(self._excitations.runs(request.building))


async def _abort(context: Context, error: ExcitationError) -> NoReturn:
    code = next((c for kind, c in _CODES if isinstance(error, kind)), grpc.StatusCode.UNKNOWN)
    await context.abort(code, str(error))
    raise AssertionError("unreachable")  # abort raises
