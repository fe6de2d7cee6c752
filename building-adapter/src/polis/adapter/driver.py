"""The small interface every field driver implements (in the spirit of VOLTTRON drivers).

The poller, the control service and the tests depend on this, never on pymodbus or bacpypes3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


class DriverError(Exception):
    """A device request failed (no answer, refused, or an error reply)."""


class PartialScrape(DriverError):
    """Some requests failed; ``values`` holds what was read (``None`` elsewhere).

    ``timeout`` is true when the device did not answer at all (rather than refusing);
    ``reason`` names why for the device error metric (default: timeout or exception)."""

    def __init__(
        self,
        values: dict[str, float | None],
        message: str,
        *,
        timeout: bool,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.values = values
        self.timeout = timeout
        self.reason = reason or ("timeout" if timeout else "exception")


@dataclass(frozen=True, slots=True)
class ScanGroup:
    """Points of one device polled together at one interval."""

    index: int
    interval_s: float
    point_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandState:
    """What the device reports for a command point after a write or relinquish."""

    present_value: float
    # BACnet: the priority slot currently in force (0 when none or not applicable)
    active_priority: int = 0


class Driver(Protocol):
    device_id: str
    protocol: str

    def groups(self) -> Sequence[ScanGroup]: ...

    async def scrape(self, group: ScanGroup) -> dict[str, float | None]:
        """Raw values (device units) of the group's points; ``None`` where not read."""
        ...

    async def write(self, key: str, value: float, priority: int) -> None: ...

    async def read_command(self, key: str) -> CommandState: ...

    async def relinquish(self, key: str, priority: int) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class ExpiringWrites(Protocol):
    """A driver whose device can be told how long a command holds (OCPP charging profiles
    carry a validity), so the device drops it by itself if the adapter is gone."""

    async def write_until(self, key: str, value: float, priority: int, until: datetime) -> None: ...
