"""What the use cases need from the internal services, and how those calls fail.

``polis.gateway.peers.clients.Peers`` implements these over gRPC, translating protobuf to the
domain types; tests may pass anything with the same methods.
"""

from __future__ import annotations

from typing import Protocol

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


class Control(Protocol):
    """The building adapter: commands to points."""

    async def write_command(self, request: CommandRequest) -> CommandResult: ...

    async def relinquish(self, request: RelinquishRequest) -> RelinquishResult: ...


class Planning(Protocol):
    """The optimizer: plans, modes and neighbourhood flexibility."""

    async def current_plan(self, building: str) -> Plan: ...

    async def solve(
        self, building: str, horizon_slots: int, time_limit_s: float
    ) -> SolveResult: ...

    async def set_mode(self, building: str, mode: Mode) -> None: ...

    async def request_flexibility(self, request: FlexibilityRequest) -> FlexibilityResult: ...


class Savings(Protocol):
    """The savings (M&V) service."""

    async def savings_report(self, query: ReportQuery) -> SavingsReport: ...

    async def import_csv(self, csv: bytes, source: str) -> ImportResult: ...


class Commissioning(Protocol):
    """The optimizer's commissioning reports (``polis.commissioning.v1.Commissioning``)."""

    async def commissioning_report(self, building: str) -> CommissioningReport: ...

    async def commissioning_plot(self, building: str, zone: str) -> Plot: ...
