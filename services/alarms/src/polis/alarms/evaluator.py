"""The one entry point the gateway's leader job calls: fetch, assess, reconcile.

    evaluator = AlarmEvaluator(catalogue, InfluxStore.from_settings(settings), time_scale=speed)
    transitions = await asyncio.to_thread(
        evaluator.evaluate, clock.now(), facts, baselines, active_keys
    )

``evaluate`` is synchronous (InfluxDB's client blocks): run it in a worker thread. It keeps
nothing between calls besides the catalogue's bindings, so any replica may evaluate after a
leader handover, given the keys of the alarms open now.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import datetime

from polis.alarms.engine import AlarmEngine
from polis.alarms.facts import BaselineExpectation, ControlFacts
from polis.alarms.influx_source import InfluxReadings
from polis.alarms.model import AlarmKey, Transition, TransitionKind, reconcile
from polis.common.catalogue import Catalogue
from polis.common.influx import InfluxStore
from polis.common.logging import get_logger

log = get_logger(__name__)


class AlarmEvaluator:
    """Every built-in rule of ``catalogue`` over the readings in ``store`` (its bucket is the
    adapter's raw bucket). ``time_scale``: the shared clock's speed (POLIS_CLOCK_SPEED)."""

    def __init__(
        self, catalogue: Catalogue, store: InfluxStore, *, time_scale: float = 1.0
    ) -> None:
        self.engine = AlarmEngine(catalogue, time_scale=time_scale)
        self.source = InfluxReadings(store, catalogue.municipality)

    def evaluate(
        self,
        now: datetime,
        facts: ControlFacts | None = None,
        baselines: Sequence[BaselineExpectation] = (),
        active_keys: Collection[AlarmKey] = (),
    ) -> list[Transition]:
        """The transitions at ``now``: RAISED for new alarms, CLEARED for open ones whose clear
        condition holds, SEEN for open ones still raised or in their hysteresis band. Open keys
        no rule assessed (subject gone from the catalogue, rule switched off) are not
        returned: :func:`unassessed` names them. Raises polis.common.influx.InfluxError when
        InfluxDB cannot answer (nothing is judged then)."""
        started = time.perf_counter()
        plan = self.engine.plan(now, baselines)
        windows = self.source.fetch(plan)
        fetched = time.perf_counter()
        assessments = self.engine.assess(now, windows, facts, baselines)
        transitions = reconcile(assessments, set(active_keys))
        log.info(
            "alarms evaluated",
            at=now.isoformat(),
            assessments=len(assessments),
            raised=sum(t.kind is TransitionKind.RAISED for t in transitions),
            cleared=sum(t.kind is TransitionKind.CLEARED for t in transitions),
            fetch_s=round(fetched - started, 3),
            assess_s=round(time.perf_counter() - fetched, 3),
        )
        return transitions


def unassessed(
    active_keys: Collection[AlarmKey], transitions: Sequence[Transition]
) -> set[AlarmKey]:
    """Open keys without a transition: their subject left the catalogue or their rule was
    switched off (every enabled rule assesses every subject it covers, so nothing else)."""
    seen = {t.assessment.key for t in transitions}
    return set(active_keys) - seen
