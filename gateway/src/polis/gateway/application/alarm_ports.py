"""What the alarm job needs beyond the use cases' ports: the savings service's expectation for
a period (``polis.gateway.peers.clients.Peers`` implements it over gRPC), and the engine's
judgement of the readings (``polis.alarms.evaluator.AlarmEvaluator``, over InfluxDB)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from polis.alarms.facts import BaselineExpectation, ControlFacts
from polis.alarms.model import AlarmKey, Transition


@dataclass(frozen=True, slots=True)
class ExpectationQuery:
    building: str
    baseline_start: datetime
    baseline_end: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ExpectationAnswer:
    """The expectation, or None with the reason when the building's baseline is not accepted."""

    expectation: BaselineExpectation | None
    reason: str = ""


class Expectations(Protocol):
    async def expectation(self, query: ExpectationQuery) -> ExpectationAnswer: ...


class Evaluator(Protocol):
    """Every rule over the readings at ``now``, reconciled with the open keys (blocking:
    called from a worker thread); raises when the readings store cannot answer."""

    def evaluate(
        self,
        now: datetime,
        facts: ControlFacts | None,
        baselines: Sequence[BaselineExpectation],
        active_keys: Collection[AlarmKey],
    ) -> list[Transition]: ...
