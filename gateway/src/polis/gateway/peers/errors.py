"""gRPC status → gateway errors, so routes never see grpc exceptions."""

from __future__ import annotations

import grpc


class PeerError(Exception):
    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service
        self.message = message


class PeerUnavailable(PeerError):
    """The service is down or did not answer within its deadline → 503 with Retry-After."""


class PeerRejected(PeerError):
    """The service refused the request as invalid → 422."""

    def __init__(self, service: str, message: str, field: str | None = None) -> None:
        super().__init__(service, message)
        self.field = field


class PeerNotFound(PeerError):
    """The service knows nothing of the thing asked for → 404."""


class PeerConflict(PeerError):
    """The service's state does not allow this now → 409."""


_UNAVAILABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNIMPLEMENTED,
}


def translate(service: str, error: grpc.aio.AioRpcError) -> PeerError:
    code = error.code()
    details = error.details() or code.name.lower()
    if code == grpc.StatusCode.INVALID_ARGUMENT or code == grpc.StatusCode.OUT_OF_RANGE:
        return PeerRejected(service, details)
    if code == grpc.StatusCode.NOT_FOUND:
        return PeerNotFound(service, details)
    if code == grpc.StatusCode.FAILED_PRECONDITION or code == grpc.StatusCode.ALREADY_EXISTS:
        return PeerConflict(service, details)
    if code in _UNAVAILABLE:
        return PeerUnavailable(service, f"{service} unavailable ({code.name.lower()})")
    return PeerUnavailable(service, f"{service} failed ({code.name.lower()})")
