"""Commands to building points and what the adapter answers (pure types)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class WriteStatus(StrEnum):
    APPLIED = "applied"  # written and confirmed by read-back
    OVERRIDDEN = "overridden"  # written, but an operator's value at a higher priority wins
    UNCONFIRMED = "unconfirmed"  # written, the read-back did not match
    UNKNOWN = "unknown"

    @property
    def is_alarm(self) -> bool:
        """The device did not take the command: someone should look."""
        return self in (WriteStatus.OVERRIDDEN, WriteStatus.UNCONFIRMED)


# The audit outcome of a command the device answered and refused (write-access-denied, a
# Modbus exception): nothing was written, and someone should look.
REFUSED_BY_DEVICE = "refused"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    point_id: str
    value: float
    priority: int
    duration: timedelta
    requested_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    status: WriteStatus
    present_value: float
    priority: int  # 0 when the adapter did not say
    audit_id: str
    message: str


@dataclass(frozen=True, slots=True)
class RelinquishRequest:
    point_id: str
    priority: int
    requested_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class RelinquishResult:
    present_value: float
    audit_id: str
