"""The excitation's writes through the adapter's ``AdapterControl``: the path the optimizer's
apply mode takes (automation priority, the point's write limits, read-back, expiry, audit),
with the step's comfort band as the request's tighter bounds, so the adapter refuses any
value outside it whatever this side computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import grpc
from google.protobuf.duration_pb2 import Duration

from polis.common.logging import get_logger
from polis.control.v1 import control_pb2 as pb
from polis.control.v1 import control_pb2_grpc as pb_grpc
from polis.points.v1 import points_pb2

log = get_logger("polis.optimizer.excitation")

REQUESTED_BY = "polis-excitation"
# a relinquish retried while the adapter is away lands only once the channel reconnects: it
# tries again within seconds, not gRPC's default of up to two minutes
RECONNECT = [("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 5000)]
# a setpoint read older than this (virtual time) is not the one in force
MAX_READING_AGE = timedelta(minutes=30)


class Outcome(StrEnum):
    APPLIED = "applied"
    OVERRIDDEN = "overridden"  # a higher priority (an operator's override) is in force
    UNCONFIRMED = "unconfirmed"
    REFUSED = "refused"  # a write limit, the request's bounds: nothing was written
    # no answer (a deadline passed, the connection broke) or the device failed mid-write:
    # the write may have landed, so it is relinquished like one that did
    UNREACHABLE = "unreachable"


# the adapter's answers that nothing was written; any other error may follow a landed write
_REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)
_STATUS = {
    pb.WRITE_STATUS_APPLIED: Outcome.APPLIED,
    pb.WRITE_STATUS_OVERRIDDEN: Outcome.OVERRIDDEN,
    pb.WRITE_STATUS_UNCONFIRMED: Outcome.UNCONFIRMED,
}


class SetpointPort(Protocol):
    """What an excitation needs of the adapter."""

    async def read(self, point_id: str, now: datetime) -> float | None: ...

    async def write(
        self,
        point_id: str,
        value: float,
        bounds: tuple[float, float],
        duration: timedelta,
        reason: str,
    ) -> Outcome: ...

    async def relinquish(self, point_id: str, reason: str) -> bool: ...


class AdapterSetpoints:
    """``SetpointPort`` over gRPC, one channel, each call with its deadline."""

    def __init__(self, target: str, deadline_s: float = 2.0) -> None:
        self._channel = grpc.aio.insecure_channel(target, options=RECONNECT)
        self._stub = pb_grpc.AdapterControlStub(self._channel)  # type: ignore[no-untyped-call]
        self._deadline = deadline_s

    async def close(self) -> None:
        await self._channel.close(None)

    async def read(self, point_id: str, now: datetime) -> float | None:
        """The point's value as the adapter last read it, if good and recent."""
        request = pb.ReadPointsRequest(point_ids=[point_id])
        try:
            reply = await self._stub.ReadPoints(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as error:
            log.warning("setpoint read failed", point=point_id, code=error.code().name)
            return None
        for reading in reply.readings:
            at = reading.time.ToDatetime(tzinfo=UTC)
            if reading.quality == points_pb2.QUALITY_GOOD and now - at <= MAX_READING_AGE:
                return float(reading.value)
        return None

    async def write(
        self,
        point_id: str,
        value: float,
        bounds: tuple[float, float],
        duration: timedelta,
        reason: str,
    ) -> Outcome:
        lasting = Duration()
        lasting.FromTimedelta(duration)
        request = pb.WriteCommandRequest(
            point_id=point_id,
            value=value,
            duration=lasting,
            requested_by=REQUESTED_BY,
            reason=reason,
            min_value=bounds[0],
            max_value=bounds[1],
        )
        try:
            reply = await self._stub.WriteCommand(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as error:
            log.warning(
                "excitation write failed",
                point=point_id,
                value=value,
                code=error.code().name,
                detail=error.details(),
            )
            return Outcome.REFUSED if error.code() in _REFUSALS else Outcome.UNREACHABLE
        outcome = _STATUS.get(reply.status, Outcome.UNCONFIRMED)
        log.info("excitation written", point=point_id, value=value, status=outcome.value)
        return outcome

    async def relinquish(self, point_id: str, reason: str) -> bool:
        """True once the adapter confirms; relinquishing what is not held is harmless."""
        request = pb.RelinquishRequest(point_id=point_id, requested_by=REQUESTED_BY, reason=reason)
        try:
            await self._stub.Relinquish(request, timeout=self._deadline)
        except grpc.aio.AioRpcError as error:
            log.warning("excitation relinquish failed", point=point_id, code=error.code().name)
            return False
        log.info("excitation relinquished", point=point_id, reason=reason)
        return True
