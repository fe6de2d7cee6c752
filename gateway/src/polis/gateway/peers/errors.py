"""gRPC status → the use cases' peer errors, so nothing above ``peers`` sees grpc exceptions."""

from __future__ import annotations

import grpc

from polis.gateway.application.ports import (
    PeerConflict,
    PeerError,
    PeerNotFound,
    PeerRejected,
    PeerUnavailable,
)

__all__ = [
    "PeerConflict",
    "PeerError",
    "PeerNotFound",
    "PeerRejected",
    "PeerUnavailable",
    "translate",
]

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
