"""Command writes: bounds, rate limits, priorities, read-back, expiry and relinquish.

Pure checks (:func:`check_write`) are separate from :class:`CommandService`, which talks to
drivers through the :class:`~polis.adapter.driver.Driver` interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from polis.adapter.audit import AuditLog
from polis.adapter.driver import CommandState, DeviceRefused, Driver, DriverError, ExpiringWrites
from polis.common.catalogue import PointRef
from polis.common.catalogue.devices import WriteLimits
from polis.common.catalogue.points import PointKind
from polis.common.clock import Clock
from polis.common.logging import get_logger

log = get_logger(__name__)

LOWEST_ALLOWED_PRIORITY = 9  # BACnet 1-7 are life safety/critical, 8 is the manual operator


class WriteRejected(ValueError):
    """The request breaks a rule; the message names the rule and the bound."""


class UnknownPoint(KeyError):
    pass


class WriteStatus(StrEnum):
    APPLIED = "applied"
    OVERRIDDEN = "overridden"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, slots=True)
class WriteRequest:
    point_id: str
    value: float
    priority: int = 0
    duration_s: float = 0.0
    requested_by: str = ""
    reason: str = ""
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True, slots=True)
class ActiveCommand:
    value: float
    priority: int
    at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    status: WriteStatus
    requested_value: float
    present_value: float
    priority: int
    active_priority: int
    expires_at: datetime
    audit_id: str
    message: str


def resolve_priority(requested: int, automation_priority: int) -> int:
    priority = requested or automation_priority
    if priority < LOWEST_ALLOWED_PRIORITY or priority > 16:
        raise WriteRejected(
            f"priority {priority} refused: the adapter writes at "
            f"{LOWEST_ALLOWED_PRIORITY}..16 (1-8 are reserved for safety and operators)"
        )
    return priority


def check_write(
    point_id: str,
    value: float,
    limits: WriteLimits,
    *,
    reference: float | None,
    minutes_since_reference: float,
    min_value: float | None = None,
    max_value: float | None = None,
) -> None:
    """Raise :class:`WriteRejected` naming the bound when ``value`` breaks a limit."""
    if value != value:
        raise WriteRejected(f"{point_id}: value must be a number")
    low, low_name = limits.min, "configured min"
    high, high_name = limits.max, "configured max"
    if min_value is not None and min_value > low:
        low, low_name = min_value, "requested min_value"
    if max_value is not None and max_value < high:
        high, high_name = max_value, "requested max_value"
    if value < low:
        raise WriteRejected(f"{point_id}: {value} is below the {low_name} {low}")
    if value > high:
        raise WriteRejected(f"{point_id}: {value} is above the {high_name} {high}")
    if limits.max_rate_per_min is not None and reference is not None:
        allowed = limits.max_rate_per_min * max(minutes_since_reference, 1.0)
        if abs(value - reference) > allowed + 1e-9:
            raise WriteRejected(
                f"{point_id}: change of {abs(value - reference):g} from {reference:g} exceeds "
                f"the max rate of change {limits.max_rate_per_min:g}/min "
                f"({allowed:g} allowed now)"
            )


def classify(value: float, state: CommandState, priority: int, tolerance: float) -> WriteStatus:
    if state.active_priority and state.active_priority < priority:
        return WriteStatus.OVERRIDDEN
    if abs(state.present_value - value) <= tolerance:
        return WriteStatus.APPLIED
    return WriteStatus.UNCONFIRMED


@dataclass(frozen=True)
class CommandTarget:
    ref: PointRef
    driver: Driver
    key: str


class CommandService:
    def __init__(
        self,
        targets: dict[str, CommandTarget],
        audit: AuditLog,
        clock: Clock,
        automation_priority: int = 13,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        resolve_priority(automation_priority, automation_priority)
        self._on_outcome = on_outcome or (lambda _outcome: None)
        self._targets = targets
        self._audit = audit
        self._clock = clock
        self.automation_priority = automation_priority
        self._active: dict[tuple[str, int], ActiveCommand] = {}
        self._timers: dict[tuple[str, int], asyncio.TimerHandle] = {}
        self._last: dict[str, tuple[float, datetime]] = {}

    def _target(self, point_id: str) -> CommandTarget:
        target = self._targets.get(point_id)
        if target is None:
            raise UnknownPoint(point_id)
        if target.ref.point.kind is not PointKind.COMMAND or target.ref.point.write is None:
            raise WriteRejected(f"{point_id} is not a command point")
        return target

    def active(self) -> dict[tuple[str, int], ActiveCommand]:
        return dict(self._active)

    async def write(self, request: WriteRequest) -> WriteOutcome:
        target = self._target(request.point_id)
        limits = target.ref.point.write
        assert limits is not None
        now = self._clock.now()
        try:
            priority = resolve_priority(request.priority, self.automation_priority)
            if request.duration_s < 0:
                raise WriteRejected("duration must not be negative")
            last = self._last.get(request.point_id)
            if last is not None:
                reference, since = last[0], (now - last[1]).total_seconds() / 60
            else:
                reference = (await target.driver.read_command(target.key)).present_value
                since = 1.0
            check_write(
                request.point_id,
                request.value,
                limits,
                reference=reference,
                minutes_since_reference=since,
                min_value=request.min_value,
                max_value=request.max_value,
            )
        except WriteRejected as error:
            self._audit.record(
                "write_rejected",
                point_id=request.point_id,
                value=request.value,
                priority=request.priority,
                requested_by=request.requested_by,
                reason=request.reason,
                error=str(error),
            )
            self._on_outcome("rejected")
            raise
        duration = request.duration_s or limits.default_duration_s
        expires_at = now + timedelta(seconds=duration)
        try:
            if isinstance(target.driver, ExpiringWrites):
                await target.driver.write_until(target.key, request.value, priority, expires_at)
            else:
                await target.driver.write(target.key, request.value, priority)
        except DeviceRefused as error:
            self._audit.record(
                "write_refused",
                point_id=request.point_id,
                value=request.value,
                priority=priority,
                requested_by=request.requested_by,
                reason=request.reason,
                error=str(error),
            )
            self._on_outcome("refused")
            raise
        state = await target.driver.read_command(target.key)
        status = classify(
            request.value, state, priority, tolerance=1e-3 * max(1.0, abs(request.value))
        )
        self._last[request.point_id] = (request.value, now)
        key = (request.point_id, priority)
        self._active[key] = ActiveCommand(request.value, priority, now, expires_at)
        self._schedule_expiry(key, duration)
        message = {
            WriteStatus.APPLIED: "written and confirmed by read-back",
            WriteStatus.OVERRIDDEN: (
                f"written at priority {priority}, but priority {state.active_priority} "
                f"is in force with {state.present_value:g}"
            ),
            WriteStatus.UNCONFIRMED: f"written, device reports {state.present_value:g}",
        }[status]
        audit_id = self._audit.record(
            "write",
            point_id=request.point_id,
            value=request.value,
            priority=priority,
            duration_s=duration,
            expires_at=expires_at.isoformat(),
            requested_by=request.requested_by,
            reason=request.reason,
            status=status.value,
            present_value=state.present_value,
            active_priority=state.active_priority,
        )
        self._on_outcome(status.value)
        return WriteOutcome(
            status,
            request.value,
            state.present_value,
            priority,
            state.active_priority,
            expires_at,
            audit_id,
            message,
        )

    def _schedule_expiry(self, key: tuple[str, int], duration_s: float) -> None:
        if old := self._timers.pop(key, None):
            old.cancel()
        loop = asyncio.get_running_loop()
        wall = self._clock.wall_seconds(duration_s)
        self._timers[key] = loop.call_later(wall, lambda: asyncio.ensure_future(self._expire(key)))

    async def _expire(self, key: tuple[str, int]) -> None:
        self._timers.pop(key, None)
        if key in self._active:
            try:
                await self.relinquish(key[0], key[1], requested_by="adapter", reason="expired")
            except DriverError as error:
                log.error("relinquish at expiry failed", point=key[0], error=str(error))

    async def relinquish(
        self, point_id: str, priority: int = 0, *, requested_by: str = "", reason: str = ""
    ) -> tuple[float, str]:
        target = self._target(point_id)
        priority = resolve_priority(priority, self.automation_priority)
        key = (point_id, priority)
        if timer := self._timers.pop(key, None):
            timer.cancel()
        await target.driver.relinquish(target.key, priority)
        self._active.pop(key, None)
        self._last.pop(point_id, None)
        state = await target.driver.read_command(target.key)
        audit_id = self._audit.record(
            "relinquish",
            point_id=point_id,
            priority=priority,
            requested_by=requested_by,
            reason=reason,
            present_value=state.present_value,
        )
        return state.present_value, audit_id

    async def relinquish_all(self, reason: str = "shutdown") -> None:
        for point_id, priority in list(self._active):
            try:
                await self.relinquish(point_id, priority, requested_by="adapter", reason=reason)
            except DriverError as error:
                log.error("relinquish failed", point=point_id, error=str(error))
