"""Alarms put into a running gateway's database through the application layer, as the leader's
job applies them, for tests about the lifecycle, the API, permissions and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine

from polis.alarms.model import (
    AlarmKey,
    Assessment,
    Evidence,
    EvidenceSeries,
    Severity,
    Status,
    Transition,
    TransitionKind,
)
from polis.common.clock import Clock
from polis.gateway.application.alarms import apply_round
from polis.gateway.application.context import Services
from polis.gateway.application.database import Database
from polis.gateway.application.events import Events
from polis.gateway.db.engine import make_engine, session_factory
from polis.gateway.domain.alarms import AlarmChange


def assessment(
    key: AlarmKey,
    at: datetime,
    severity: Severity = Severity.MAJOR,
    values: tuple[float, ...] = (19.5, 18.1, 17.2),
) -> Assessment:
    times = tuple(datetime.fromtimestamp(at.timestamp() - 900 * i, UTC) for i in range(3))[::-1]
    point = f"larissa/{key.building}/{key.subject or 'main'}/temperature"
    series = EvidenceSeries("zone temperature", point, "degC", times, values)
    return Assessment(
        key,
        Status.RAISE,
        at,
        severity,
        f"{key.subject or key.building} at {values[-1]} °C, below 20 °C for 45 min",
        (point,),
        Evidence((series,), {"band_low_c": 20.0, "duration_min": 45.0}),
    )


@dataclass
class AlarmDb:
    """The gateway's own database file, written as the leader's alarm job writes it (on the
    gateway's clock when given)."""

    path: Path
    clock: Clock | None = None
    public_url: str | None = None  # what mails link to (POLIS_GATEWAY_PUBLIC_URL)

    def __post_init__(self) -> None:
        self.engine: Engine = make_engine(f"sqlite:///{self.path}")
        clock = self.clock or Clock.realtime()
        self.services = Services(
            db=Database(session_factory(self.engine)),
            clock=clock,
            events=Events(clock),
            control=cast(Any, None),
            planning=cast(Any, None),
            savings=cast(Any, None),
        )

    def apply(self, *transitions: Transition) -> list[AlarmChange]:
        return self.services.db.run_sync(
            lambda session: apply_round(session, self.services, list(transitions), self.public_url)
        )

    def raise_(self, key: AlarmKey, at: datetime, **kw: Any) -> int:
        (change,) = self.apply(Transition(TransitionKind.RAISED, assessment(key, at, **kw)))
        return change.alarm.id

    def clear(self, key: AlarmKey, at: datetime) -> list[AlarmChange]:
        return self.apply(Transition(TransitionKind.CLEARED, assessment(key, at)))

    def close(self) -> None:
        self.engine.dispose()
