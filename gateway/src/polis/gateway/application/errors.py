"""Why a use case refused a request; ``polis.gateway.api.problems`` turns these into RFC 9457
problem details (peer failures are in ``ports``, missing rights in ``security.roles``)."""

from __future__ import annotations

from dataclasses import dataclass


class UseCaseError(Exception):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(UseCaseError):
    """The request is well-formed but not acceptable → 422."""


class NotFound(UseCaseError):
    """No such resource (or none the caller may know of) → 404."""


class Conflict(UseCaseError):
    """The resource's state does not allow this now → 409."""


@dataclass(frozen=True, slots=True)
class CsvError:
    line: int
    field: str
    message: str


class InvalidCsv(UseCaseError):
    """The savings service refused an import; every offending line is named → 422."""

    def __init__(self, errors: list[CsvError]) -> None:
        first = errors[0]
        super().__init__(f"line {first.line}: {first.field}: {first.message}", first.field)
        self.errors = errors
