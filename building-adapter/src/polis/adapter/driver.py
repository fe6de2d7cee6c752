"""The small interface every field driver implements (in the spirit of VOLTTRON drivers).

The poller, the control service and the tests depend on this, never on pymodbus or bacpypes3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


class DriverError(Exception):
    """A device request failed (no answer, refused, or an error reply)."""


class DeviceRefused(DriverError):
    """The device answered and refused the command (BACnet error or reject such as
    write-access-denied; a Modbus exception reply from the unit itself): it is reachable, so
    retrying will not help; someone must look at the device."""


class PartialScrape(DriverError):
    """Some requests failed; ``values`` holds what was read (``None`` elsewhere).

    ``timeout`` is true when the device did not answer at all (rather than refusing);
    ``reason`` names why for the device error metric (default: timeout or exception)."""

    def __init__(
        self,
        values: Mapping[str, float | None],
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


class PolledValues(Mapping[str, float | None]):
    """A scan group's raw values in the order of its keys (``None`` where not read): what a
    driver that reads them in that order returns without building a dict per poll. The
    poller takes ``in_order`` as it is; to anyone else it is a mapping, made a dict when
    first looked into."""

    __slots__ = ("_by_key", "group", "in_order")

    def __init__(self, group: ScanGroup, in_order: list[float | None]) -> None:
        if len(in_order) != len(group.point_keys):
            raise ValueError(f"{len(in_order)} values for {len(group.point_keys)} points")
        self.group = group
        self.in_order = in_order
        self._by_key: dict[str, float | None] | None = None

    def _mapping(self) -> dict[str, float | None]:
        if self._by_key is None:
            self._by_key = dict(zip(self.group.point_keys, self.in_order, strict=True))
        return self._by_key

    def __getitem__(self, key: str) -> float | None:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.group.point_keys)

    def __len__(self) -> int:
        return len(self.in_order)


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

    async def scrape(self, group: ScanGroup) -> Mapping[str, float | None]:
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
