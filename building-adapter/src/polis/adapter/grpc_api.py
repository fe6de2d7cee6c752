"""gRPC servicer of ``polis.control.v1.AdapterControl``: protobuf <-> domain, nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from polis.adapter.control import CommandService, UnknownPoint, WriteRejected, WriteRequest
from polis.adapter.driver import DeviceRefused, DriverError
from polis.adapter.poller import LatestReadings
from polis.common.catalogue import PointRef
from polis.control.v1 import control_pb2, control_pb2_grpc
from polis.points.v1 import points_pb2

SERVICE_NAME = "polis.control.v1.AdapterControl"

T = TypeVar("T")


class _Completion:
    """Runs a device command to its end even when its RPC is cancelled (a caller's deadline):
    a write that reached the device must still be audited and get its expiry, and a
    relinquish must still be recorded, whether or not anyone waits for the answer."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()  # strong references until done

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a cancelled caller already got its answer


_STATUS = {
    "applied": control_pb2.WRITE_STATUS_APPLIED,
    "overridden": control_pb2.WRITE_STATUS_OVERRIDDEN,
    "unconfirmed": control_pb2.WRITE_STATUS_UNCONFIRMED,
}


def point_message(ref: PointRef, unit: str) -> points_pb2.Point:
    p = ref.point
    message = points_pb2.Point(
        id=ref.point_id,
        municipality=ref.municipality,
        neighbourhood=ref.neighbourhood,
        building=ref.building,
        device=ref.device,
        quantity=f"QUANTITY_{p.quantity.value.upper()}",
        unit=unit,
        kind=f"POINT_KIND_{p.kind.value.upper()}",
        brick_class=p.brick_class or "",
        description=p.description,
    )
    if p.write is not None:
        message.min_value = p.write.min
        message.max_value = p.write.max
    elif p.range is not None:
        if p.range.min is not None:
            message.min_value = p.range.min
        if p.range.max is not None:
            message.max_value = p.range.max
    return message


class AdapterControlServicer(control_pb2_grpc.AdapterControlServicer):
    def __init__(
        self,
        points: Sequence[PointRef],
        units: dict[str, str],
        latest: LatestReadings,
        commands: CommandService,
    ) -> None:
        self._points = list(points)
        self._units = units
        self._latest = latest
        self._commands = commands
        self._completion = _Completion()

    async def ListPoints(
        self, request: control_pb2.ListPointsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.ListPointsResponse:
        return control_pb2.ListPointsResponse(
            points=[
                point_message(ref, self._units[ref.point_id])
                for ref in self._points
                if not request.building or ref.building == request.building
            ]
        )

    async def ReadPoints(
        self, request: control_pb2.ReadPointsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.ReadPointsResponse:
        readings = []
        for point_id in request.point_ids:
            r = self._latest.get(point_id)
            if r is None:
                continue
            ts = Timestamp()
            ts.FromNanoseconds(r.time_ns)
            readings.append(
                points_pb2.Reading(
                    point_id=r.point_id,
                    time=ts,
                    value=r.value,
                    quality=f"QUALITY_{r.quality.value.upper()}",
                )
            )
        return control_pb2.ReadPointsResponse(readings=readings)

    async def WriteCommand(
        self, request: control_pb2.WriteCommandRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.WriteCommandResponse:
        domain = WriteRequest(
            point_id=request.point_id,
            value=request.value,
            priority=request.priority,
            duration_s=request.duration.ToTimedelta().total_seconds(),
            requested_by=request.requested_by,
            reason=request.reason,
            min_value=request.min_value if request.HasField("min_value") else None,
            max_value=request.max_value if request.HasField("max_value") else None,
        )
        try:
            outcome = await self._completion.run(self._commands.write(domain))
        except WriteRejected as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except UnknownPoint:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown point {request.point_id!r}")
        except DeviceRefused as error:  # reachable, and said no: not worth retrying
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        except DriverError as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
        expires = Timestamp()
        expires.FromDatetime(outcome.expires_at)
        return control_pb2.WriteCommandResponse(
            status=_STATUS[outcome.status.value],
            requested_value=outcome.requested_value,
            present_value=outcome.present_value,
            priority=outcome.priority,
            active_priority=outcome.active_priority,
            expires_at=expires,
            audit_id=outcome.audit_id,
            message=outcome.message,
        )

    async def Relinquish(
        self, request: control_pb2.RelinquishRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.RelinquishResponse:
        try:
            present, audit_id = await self._completion.run(
                self._commands.relinquish(
                    request.point_id,
                    request.priority,
                    requested_by=request.requested_by,
                    reason=request.reason,
                )
            )
        except WriteRejected as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except UnknownPoint:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown point {request.point_id!r}")
        except DriverError as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
        return control_pb2.RelinquishResponse(present_value=present, audit_id=audit_id)
