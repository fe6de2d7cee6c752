"""gRPC servicer for polis.planning.v1.Optimizer: translation between protobuf and domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from polis.optimizer.domain import Figures, Plan, SolveStatus
from polis.optimizer.planner import FlexibilityOutcome, Mode, Planner, UnknownScope
from polis.optimizer.solve import SolverParams
from polis.planning.v1 import planning_pb2 as pb
from polis.planning.v1 import planning_pb2_grpc as pb_grpc

_STATUS = {
    SolveStatus.OPTIMAL: pb.SOLVE_STATUS_OPTIMAL,
    SolveStatus.FEASIBLE: pb.SOLVE_STATUS_FEASIBLE,
    SolveStatus.INFEASIBLE: pb.SOLVE_STATUS_INFEASIBLE,
    SolveStatus.FALLBACK: pb.SOLVE_STATUS_FALLBACK,
}
_MODE = {Mode.DRY_RUN: pb.MODE_DRY_RUN, Mode.APPLY: pb.MODE_APPLY}
_OUTCOME = {
    FlexibilityOutcome.ACCEPTED: pb.FlexibilityResponse.OUTCOME_ACCEPTED,
    FlexibilityOutcome.PARTIAL: pb.FlexibilityResponse.OUTCOME_PARTIAL,
    FlexibilityOutcome.REJECTED: pb.FlexibilityResponse.OUTCOME_REJECTED,
}


def _timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when.astimezone(UTC))
    return stamp


def _figures(f: Figures) -> pb.Figures:
    return pb.Figures(
        energy_kwh=f.energy_kwh, cost_eur=f.cost_eur, peak_kw=f.peak_kw, co2_kg=f.co2_kg
    )


def plan_to_proto(plan: Plan, mode: str, created: datetime) -> pb.Plan:
    return pb.Plan(
        building=plan.building,
        neighbourhood=plan.neighbourhood,
        start=_timestamp(plan.horizon.start),
        slot_minutes=plan.horizon.slot_minutes,
        loads=[
            pb.LoadSchedule(
                load_id=s.load_id,
                kind=s.kind.value,
                power_kw=list(s.power_kw),
                setpoint=list(s.setpoint_c),
                explanation=s.explanation,
            )
            for s in plan.loads
        ],
        planned=_figures(plan.planned),
        baseline=_figures(plan.baseline),
        status=_STATUS[plan.status],
        gap=plan.gap if plan.gap != float("inf") else 0.0,
        mode=_MODE.get(mode, pb.MODE_DRY_RUN),
        created_at=_timestamp(created),
        conflicts=list(plan.conflicts),
        grid_kw=list(plan.grid_kw),
    )


def slot_floor(when: datetime, minutes: int = 15) -> datetime:
    when = when.astimezone(UTC)
    return when - timedelta(
        minutes=when.minute % minutes, seconds=when.second, microseconds=when.microsecond
    )


class OptimizerServicer(pb_grpc.OptimizerServicer):
    def __init__(
        self,
        planner: Planner,
        now: object,
        blocks_apply: Callable[[str], str | None] = lambda _building: None,
    ) -> None:
        self._planner = planner
        self._now = now  # a callable returning the (virtual) current time
        # why a building may not be switched to apply now (an excitation runs there)
        self._blocks_apply = blocks_apply

    def _clock(self) -> datetime:
        return self._now()  # type: ignore[operator,no-any-return]

    async def Solve(
        self, request: pb.SolveRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SolveResponse:
        scope = request.building or request.neighbourhood
        if not scope:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "building or neighbourhood")
        start = (
            request.start.ToDatetime(tzinfo=UTC)
            if request.HasField("start")
            else slot_floor(self._clock())
        )
        base = self._planner.params
        params = SolverParams(
            time_limit_s=request.time_limit_s or base.time_limit_s,
            relative_gap_limit=request.relative_gap or base.relative_gap_limit,
            num_workers=base.num_workers,
        )
        try:
            result = await self._planner.solve(scope, start, request.horizon_slots or 96, params)
        except UnknownScope:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"unknown building or neighbourhood {scope!r}"
            )
        except ValueError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        created = self._clock()
        finite = result.gap != float("inf")
        return pb.SolveResponse(
            plans=[plan_to_proto(p, self._planner.mode(p.building), created) for p in result.plans],
            status=_STATUS[result.status],
            objective=result.objective_eur,
            best_bound=result.best_bound_eur if finite else 0.0,
            gap=result.gap if finite else 0.0,
            solve_time_s=result.solve_time_s,
            conflicts=list(result.conflicts),
        )

    async def GetCurrentPlan(
        self, request: pb.GetCurrentPlanRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Plan:
        try:
            plan = self._planner.current(request.building)
        except UnknownScope:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no plan for {request.building!r}")
        return plan_to_proto(plan, self._planner.mode(request.building), self._clock())

    async def SetMode(
        self, request: pb.SetModeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SetModeResponse:
        modes = {pb.MODE_DRY_RUN: Mode.DRY_RUN, pb.MODE_APPLY: Mode.APPLY}
        if request.mode not in modes or not request.building:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "building and a mode are required"
            )
        blocked = self._blocks_apply(request.building) if request.mode == pb.MODE_APPLY else None
        if blocked is not None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, blocked)
        mode = self._planner.set_mode(request.building, modes[request.mode])
        return pb.SetModeResponse(building=request.building, mode=_MODE[mode])

    async def RequestFlexibility(
        self, request: pb.FlexibilityRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.FlexibilityResponse:
        start = request.window_start.ToDatetime(tzinfo=UTC)
        end = request.window_end.ToDatetime(tzinfo=UTC)
        if not request.neighbourhood or end <= start or request.peak_limit_kw < 0:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "neighbourhood, window_start < window_end and peak_limit_kw >= 0 are required",
            )
        try:
            answer = await self._planner.request_flexibility(
                request.neighbourhood, start, end, request.peak_limit_kw
            )
        except UnknownScope:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"no plans for {request.neighbourhood!r}"
            )
        return pb.FlexibilityResponse(
            outcome=_OUTCOME[answer.outcome],
            achieved_peak_kw=answer.achieved_peak_kw,
            reduction_kw=answer.reduction_kw,
            message=answer.message,
        )
