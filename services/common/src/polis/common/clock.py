"""Virtual time shared by every Polis process.

Each process is configured with the same origin (a wall-clock instant), the same virtual start
and the same speed factor, so they all compute the same virtual time without talking to each
other: ``virtual = start + (wall - origin) * speed``. Speed 1 with start == origin is real time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("clock instants must be timezone-aware (UTC)")
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class Clock:
    """Maps wall time to virtual time linearly."""

    origin: datetime
    start: datetime
    speed: float = 1.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"clock speed must be positive, got {self.speed}")
        object.__setattr__(self, "origin", _utc(self.origin))
        object.__setattr__(self, "start", _utc(self.start))

    @classmethod
    def realtime(cls) -> Clock:
        now = datetime.now(UTC)
        return cls(origin=now, start=now, speed=1.0)

    def now(self) -> datetime:
        return self.at_wall(time.time())

    def at_wall(self, wall_seconds: float) -> datetime:
        elapsed = wall_seconds - self.origin.timestamp()
        return self.start + timedelta(seconds=elapsed * self.speed)

    def wall_for(self, virtual: datetime) -> float:
        """Wall-clock epoch seconds at which ``virtual`` is reached."""
        elapsed = (_utc(virtual) - self.start).total_seconds() / self.speed
        return self.origin.timestamp() + elapsed

    def wall_seconds(self, virtual_seconds: float) -> float:
        """How long a virtual interval lasts on the wall clock."""
        return virtual_seconds / self.speed

    async def sleep_until(self, virtual: datetime) -> None:
        delay = self.wall_for(virtual) - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
