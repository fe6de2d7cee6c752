"""A point the new plan no longer commands is given back at once, not held until it expires."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from optimizer.helpers import building
from polis.common.clock import Clock
from polis.optimizer.commands import Command
from polis.optimizer.domain import Building, EVSession, Horizon, Neighbourhood, Plan
from polis.optimizer.planner import Mode, Planner
from polis.optimizer.rolling import RollingHorizon
from polis.optimizer.solve import SolverParams

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 14, 5, 0, tzinfo=UTC)
POINT = "larissa/depot/depot-cp1/charging-limit"


def source(scope: str, start: datetime, slots: int) -> Building | Neighbourhood:
    # a car until slot 4 of the first plan; an hour later no session is left in the horizon
    sessions: tuple[EVSession, ...] = ()
    if start == T0:
        sessions = (EVSession("ev@2026-01-14#0", 0, 4, 10.0, max_kw=22.0, efficiency=1.0),)
    b: Building = building([0.2] * slots, sessions, base=1.0)
    return replace(b, id=scope, horizon=Horizon(start=start, slots=slots))


@dataclass
class Adapter:
    writes: list[Command] = field(default_factory=list)
    released: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, commands: list[Command], slot: timedelta) -> int:
        self.writes.extend(commands)
        return len(commands)

    async def relinquish(self, point_ids: Any, reason: str = "") -> int:
        self.released.extend((p, reason) for p in point_ids)
        return len(point_ids)


class Sink:
    def store(self, plans: Iterable[Plan]) -> int:
        return len(list(plans))


async def test_a_charger_left_without_sessions_is_released() -> None:
    planner = Planner(source, SolverParams(time_limit_s=5, num_workers=1))
    planner.set_mode("depot", Mode.APPLY)
    adapter = Adapter()
    rolling = RollingHorizon(
        planner=planner,
        scopes=["depot"],
        clock=Clock(T0, T0, 1.0),
        points={"depot": {"ev": POINT}},
        sink=Sink(),
        adapter=adapter,  # type: ignore[arg-type]
        horizon_slots=8,
        command_slots=8,
    )
    assert await rolling.step(T0) == 1
    assert [c.point_id for c in adapter.writes] == [POINT]
    assert rolling.commanded == {POINT}
    await rolling.step(T0 + timedelta(hours=1))
    assert adapter.released == [(POINT, "no longer planned")]
    assert rolling.commanded == set()
    assert await rolling.relinquish() == 0  # nothing left to give back at the end
